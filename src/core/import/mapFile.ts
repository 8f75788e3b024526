/**
 * Map files made by other tools, read into the engine's Interpreted extents so the views can show
 * them without the image (issue 5, "maps without the image"):
 *  - `qemu-img map --output=json` of any release: 1.7-6.0 (no "present"), 6.1-8.1 ("present"),
 *    8.2+ ("compressed" too) (reference §4.2);
 *  - `qemu-img map` human output (reference §4.4): the mapped (data, not zero) ranges only;
 *  - `nbdinfo --map` text and `nbdinfo --map --json` for base:allocation, qemu:allocation-depth and
 *    any other context (reference §5.5).
 *
 * Input is untrusted (dropped or pasted). It is read in one pass, line numbers counted as the
 * reader advances (finding each entry's line from the start made opening quadratic: 3000 rows
 * took 10.9 s), and JSON is tokenized here instead of by JSON.parse so that nothing is kept per
 * entry but its numbers: memory is the typed arrays, charged to MAX_MAP_IMPORT_BYTES (JSON.parse
 * of 3 M entries holds 3 M objects at once). bench/mapImport.mjs measures it. Every member is
 * checked (type, range, exactness past 2^53, members no tool prints) and every refusal is a
 * FormatError or LimitError naming the file, the line and the byte offset.
 */
import { MemoryBudget } from '../budget.ts';
import { FormatError, LimitError } from '../errors.ts';
import { decimal } from '../format.ts';
import { ALLOCATION_DEPTH_ID, baseAllocationId, qemuImgMapId } from '../interpret/ids.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import { BASE_ALLOCATION_LABELS, depthLabel } from '../interpret/nbd.ts';
import {
  MAP_COMPRESSED,
  MAP_DATA,
  MAP_DEPTH_SHIFT,
  MAP_PRESENT,
  MAP_ZERO,
  RELEASE_COMPRESSED,
} from '../interpret/qemuImgMap.ts';
import { QEMU_6_0, QEMU_7_2 } from '../interpret/releases.ts';
import { MAX_CHAIN_DEPTH } from '../limits.ts';

/** Largest map file accepted: 256 MiB of text is ~3 M qemu-img map lines, far beyond real maps. */
export const MAX_MAP_FILE_BYTES = 256 * 1024 * 1024;
/**
 * Bytes of extents one map file may make (30 per extent: start, length, host, value, layer):
 * 128 MiB, ~4.4 M extents, more than the 3 M lines MAX_MAP_FILE_BYTES of text can hold.
 */
export const MAX_MAP_IMPORT_BYTES = 128 * 1024 * 1024;
/** Bytes one imported extent costs. */
export const MAP_EXTENT_BYTES = 30;
/**
 * Deepest chain a qemu-img map "depth" (0-based) may name: clusterscope opens at most
 * MAX_CHAIN_DEPTH layers, and a view per depth of a hostile 65535 took the page 11 s.
 * qemu:allocation-depth (1-based) may be one more.
 */
export const MAX_MAP_DEPTH = MAX_CHAIN_DEPTH - 1;
/** Longest line considered (a qemu-img map line is < 200 bytes; nbdinfo's < 100). */
export const MAX_MAP_LINE_BYTES = 4096;

export type MapFileKind = 'qemu-img-map-json' | 'qemu-img-map-human' | 'nbdinfo-text' | 'nbdinfo-json';

/** qemu-img map JSON field sets (reference §4.2). */
export type MapFieldSet = '1.7-6.0' | '6.1-8.1' | '8.2+';

/**
 * Interpretation id of a human qemu-img map: it tells only which ranges are mapped (data in a
 * file at an offset: value HUMAN_MAPPED, host = "Mapped to", layer = index in `fileNames`);
 * every other range (zero, unallocated, not data) is not printed (value HUMAN_UNMAPPED).
 */
export const QEMU_IMG_MAP_HUMAN_ID = 'qemu-img-map-human';
export const HUMAN_UNMAPPED = 0;
export const HUMAN_MAPPED = 1;

/** The formats a map file may be in, in the words of every refusal that says a text is none. */
export const MAP_FILE_FORMATS =
  'qemu-img map --output=json, qemu-img map (human), nbdinfo --map or nbdinfo --map --json output';

export interface ImportedMap {
  readonly kind: MapFileKind;
  /** Id of the engine interpretation these extents correspond to (e.g. "qemu-img-map-7.2"). */
  readonly interpretationId: string;
  /** For qemu-img map: the field set, and a release that printed it. */
  readonly fieldSet?: MapFieldSet;
  readonly release?: number;
  /** For nbdinfo: the metadata context the values come from. */
  readonly context?: string;
  /** Extents; `layer` holds qemu-img map's depth (0 for NBD contexts, which do not name layers). */
  readonly extents: Interpreted;
  /** End of the last extent: the mapped length. */
  readonly length: number;
  /** For a human qemu-img map: the "File" names, indexed by the extents' `layer`. */
  readonly fileNames?: readonly string[];
}

export interface NbdImportOptions {
  /** The context, when the caller knows it (`--map=CONTEXT`); otherwise read from descriptions. */
  readonly context?: string;
  /** base:allocation semantics: QEMU_6_0 and later (HOLE = not DATA, the default) or QEMU_5_2 and older. */
  readonly release?: number;
  /** What the extents are charged to; MAX_MAP_IMPORT_BYTES by default (tests lower it). */
  readonly budget?: MemoryBudget;
}

/** A release that printed each field set; qemuImgMap(release) computes the same values. */
export const FIELD_SET_RELEASE: Readonly<Record<MapFieldSet, number>> = {
  '1.7-6.0': QEMU_6_0,
  '6.1-8.1': QEMU_7_2,
  '8.2+': RELEASE_COMPRESSED,
};

const BASE = 'base:allocation';
const DEPTH = 'qemu:allocation-depth';

interface Where {
  readonly file: string;
  readonly structure: string;
  readonly offset: number;
}

const at = (file: string, what: string, line: number, offset: number): Where => ({
  file,
  structure: `${what} line ${line}`,
  offset,
});

/** Extents in growable typed arrays, checked as they come: contiguous, exact, within the budget. */
class Builder {
  count = 0;
  private cap = 0;
  start = new Float64Array(0);
  length = new Float64Array(0);
  value = new Uint32Array(0);
  host = new Float64Array(0);
  layer = new Uint16Array(0);
  end = -1;
  private readonly budget: MemoryBudget;
  constructor(budget: MemoryBudget | undefined) {
    this.budget = budget ?? new MemoryBudget('MAX_MAP_IMPORT_BYTES', MAX_MAP_IMPORT_BYTES);
  }

  push(where: Where, start: number, length: number, value: number, host: number, layer: number): void {
    if (this.end >= 0 && start !== this.end) {
      throw new FormatError(
        where,
        `extent starts at ${decimal(start)} but the previous one ended at ${decimal(this.end)}`,
      );
    }
    const end = start + length;
    if (end > Number.MAX_SAFE_INTEGER && end % 512 !== 0) {
      throw new FormatError(
        where,
        `extent ends at ${decimal(end)}: past 2^53 only multiples of 512 are exact, and qcow2 offsets always are`,
      );
    }
    this.end = end;
    if (length === 0) return;
    if (this.count === 0 && start !== 0) {
      // The views cover [0, length): a map of part of an image (qemu-img map --start-offset)
      // would show its start as nothing at all.
      throw new FormatError(
        where,
        `the map starts at ${decimal(start)}, not 0: clusterscope reads maps of whole images`,
      );
    }
    if (this.count === this.cap) this.grow(where);
    const n = this.count++;
    this.start[n] = start;
    this.length[n] = length;
    this.value[n] = value;
    this.host[n] = host;
    this.layer[n] = layer;
  }

  private grow(where: Where): void {
    const cap = Math.max(1024, this.cap * 2);
    this.budget.charge((cap - this.cap) * MAP_EXTENT_BYTES, where, `${this.count + 1} map extents`);
    const g = <T extends Float64Array | Uint32Array | Uint16Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.start = g(this.start, new Float64Array(cap));
    this.length = g(this.length, new Float64Array(cap));
    this.value = g(this.value, new Uint32Array(cap));
    this.host = g(this.host, new Float64Array(cap));
    this.layer = g(this.layer, new Uint16Array(cap));
    this.cap = cap;
  }

  /** Where the extents end: 0 when there are none (a zero-length entry alone maps nothing). */
  get covered(): number {
    const n = this.count;
    return n ? this.start[n - 1]! + this.length[n - 1]! : 0;
  }

  finish(): Interpreted {
    const n = this.count;
    return {
      count: n,
      start: this.start.slice(0, n),
      length: this.length.slice(0, n),
      value: this.value.slice(0, n),
      host: this.host.slice(0, n),
      layer: this.layer.slice(0, n),
    };
  }
}

function checkSize(file: string, text: string): void {
  if (text.length > MAX_MAP_FILE_BYTES) {
    throw new LimitError(
      { file, structure: 'map file' },
      `${text.length} bytes exceed ${MAX_MAP_FILE_BYTES} (MAX_MAP_FILE_BYTES)`,
    );
  }
}

/**
 * A non-negative integer from its decimal text, exactly: past 2^53 a double holds only some
 * integers, so those must read back as the same text (qcow2 offsets and sizes, multiples of
 * 512, always do). Undefined when the text is no such integer.
 */
function exactInteger(digits: string): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(digits)) return undefined;
  if (digits.length <= 15) return Number(digits);
  const big = BigInt(digits);
  if (big > 0x7fffffffffffffffn) return undefined; // qemu-img and nbdinfo print int64 / uint64 < 2^63 here
  const n = Number(big);
  return BigInt(n) === big ? n : undefined;
}

// ---------------------------------------------------------------------------------- JSON reader

type JsonValue =
  | { readonly t: 'number'; readonly text: string }
  | { readonly t: 'string'; readonly s: string }
  | { readonly t: 'bool'; readonly b: boolean }
  | { readonly t: 'null' };

/**
 * Reads a JSON array of flat objects (what qemu-img map and nbdinfo --json print) member by
 * member, keeping the line: each object's members go to `entry` as a Map, nothing else is kept.
 */
class JsonEntries {
  private pos = 0;
  private line = 1;
  private lineStart = 0;

  constructor(
    private readonly file: string,
    private readonly what: string,
    private readonly text: string,
  ) {}

  where(offset = this.pos): Where {
    return at(this.file, this.what, this.line, offset);
  }

  private fail(message: string): never {
    throw new FormatError(this.where(), message);
  }

  private ws(): void {
    const t = this.text;
    for (;;) {
      const c = t.charCodeAt(this.pos);
      if (c === 10) {
        this.line++;
        this.pos++;
        this.lineStart = this.pos;
      } else if (c === 32 || c === 9 || c === 13) this.pos++;
      else return;
      if (this.pos - this.lineStart > MAX_MAP_LINE_BYTES) {
        throw new LimitError(this.where(), 'line longer than MAX_MAP_LINE_BYTES');
      }
    }
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private eat(ch: string, message: string): void {
    this.ws();
    if (this.text[this.pos] !== ch) {
      this.fail(
        this.pos >= this.text.length
          ? `${message}, but the text ends (a map cut short by an error has no closing "]")`
          : `${message}, not ${JSON.stringify(this.text.slice(this.pos, this.pos + 12))}`,
      );
    }
    this.pos++;
  }

  /** Calls `entry` with each object's members, where the object began and its line. */
  read(entry: (members: Map<string, JsonValue>, where: Where, line: number) => void, notArray: string): void {
    this.ws();
    if (this.peek() !== '[') this.fail(notArray);
    this.pos++;
    this.ws();
    if (this.peek() === ']') {
      this.pos++;
    } else {
      for (;;) {
        this.ws();
        const where = this.where();
        const line = this.line;
        entry(this.object(), where, line);
        this.ws();
        if (this.peek() === ',') {
          this.pos++;
          continue;
        }
        this.eat(']', 'expected "," or "]" after an entry');
        break;
      }
    }
    this.ws();
    if (this.pos < this.text.length) this.fail('text after the closing "]"');
  }

  private object(): Map<string, JsonValue> {
    this.eat('{', 'expected an entry ("{")');
    const members = new Map<string, JsonValue>();
    this.ws();
    if (this.peek() === '}') {
      this.pos++;
      return members;
    }
    for (;;) {
      this.ws();
      if (this.peek() !== '"') this.fail('expected a member name');
      const key = this.string();
      if (members.has(key)) this.fail(`member "${key}" appears twice`);
      this.eat(':', `expected ":" after "${key}"`);
      this.ws();
      members.set(key, this.value(key));
      if (members.size > 16) this.fail('more members than any map entry has');
      this.ws();
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      this.eat('}', 'expected "," or "}" in an entry');
      return members;
    }
  }

  private value(key: string): JsonValue {
    const c = this.peek();
    if (c === '"') return { t: 'string', s: this.string() };
    if (c === '{' || c === '[')
      this.fail(
        `"${key}" is ${c === '{' ? 'an object' : 'an array'}; map entries hold numbers, booleans and strings`,
      );
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
      this.text.slice(this.pos, this.pos + 40),
    );
    if (!m) this.fail(`"${key}" has no JSON value`);
    this.pos += m[0].length;
    if (m[0] === 'true' || m[0] === 'false') return { t: 'bool', b: m[0] === 'true' };
    if (m[0] === 'null') return { t: 'null' };
    return { t: 'number', text: m[0] };
  }

  private string(): string {
    const t = this.text;
    const start = ++this.pos;
    let out = '';
    let from = start;
    for (;;) {
      if (this.pos - start > MAX_MAP_LINE_BYTES)
        throw new LimitError(this.where(), 'string longer than MAX_MAP_LINE_BYTES');
      const c = t.charCodeAt(this.pos);
      if (Number.isNaN(c)) this.fail('a string is not closed');
      if (c === 34) {
        out += t.slice(from, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('a control character inside a string');
      if (c === 92) {
        out += t.slice(from, this.pos);
        const e = t[this.pos + 1];
        const simple: Record<string, string> = {
          '"': '"',
          '\\': '\\',
          '/': '/',
          b: '\b',
          f: '\f',
          n: '\n',
          r: '\r',
          t: '\t',
        };
        if (e !== undefined && e in simple) {
          out += simple[e];
          this.pos += 2;
        } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(this.pos + 2, this.pos + 6))) {
          out += String.fromCharCode(Number.parseInt(t.slice(this.pos + 2, this.pos + 6), 16));
          this.pos += 6;
        } else this.fail('a bad escape in a string');
        from = this.pos;
        continue;
      }
      this.pos++;
    }
  }
}

const kindOf = (v: JsonValue): string =>
  v.t === 'number' ? 'a number' : v.t === 'string' ? 'a string' : v.t === 'bool' ? 'a boolean' : 'null';

/** A member that must be a non-negative integer (exact, int64). */
function count(m: Map<string, JsonValue>, key: string, where: Where, required = true): number | undefined {
  const v = m.get(key);
  if (v === undefined) {
    if (required) throw new FormatError(where, `"${key}" is missing`);
    return undefined;
  }
  if (v.t !== 'number')
    throw new FormatError(where, `"${key}" must be a non-negative integer, not ${kindOf(v)}`);
  const n = exactInteger(v.text);
  if (n === undefined) {
    throw new FormatError(
      where,
      `"${key}" must be a non-negative integer below 2^63, exact (past 2^53 a multiple of 512), not ${v.text}`,
    );
  }
  return n;
}

function bool(m: Map<string, JsonValue>, key: string, where: Where, required = true): boolean | undefined {
  const v = m.get(key);
  if (v === undefined) {
    if (required) throw new FormatError(where, `"${key}" is missing`);
    return undefined;
  }
  if (v.t !== 'bool') throw new FormatError(where, `"${key}" must be true or false, not ${kindOf(v)}`);
  return v.b;
}

const QEMU_IMG_MAP_MEMBERS = new Set([
  'start',
  'length',
  'depth',
  'present',
  'zero',
  'data',
  'compressed',
  'offset',
]);
const NBDINFO_JSON_MEMBERS = new Set(['offset', 'length', 'type', 'description']);

function onlyKnown(m: Map<string, JsonValue>, known: ReadonlySet<string>, tool: string, where: Where): void {
  for (const k of m.keys()) {
    if (!known.has(k)) {
      throw new FormatError(where, `member "${k}" is not one ${tool} prints (${[...known].join(', ')})`);
    }
  }
}

/** `qemu-img map --output=json` of any release (reference §4.2). */
export function parseQemuImgMapJson(file: string, text: string, opts: NbdImportOptions = {}): ImportedMap {
  checkSize(file, text);
  const what = 'qemu-img map JSON';
  let fieldSet: MapFieldSet | undefined;
  const b = new Builder(opts.budget);
  new JsonEntries(file, what, text).read((e, where) => {
    onlyKnown(e, QEMU_IMG_MAP_MEMBERS, 'qemu-img map', where);
    const start = count(e, 'start', where)!;
    const length = count(e, 'length', where)!;
    const depth = count(e, 'depth', where)!;
    const zero = bool(e, 'zero', where)!;
    const data = bool(e, 'data', where)!;
    const present = bool(e, 'present', where, false);
    const compressed = bool(e, 'compressed', where, false);
    const offset = count(e, 'offset', where, false);
    const set: MapFieldSet =
      compressed !== undefined ? '8.2+' : present !== undefined ? '6.1-8.1' : '1.7-6.0';
    if (set === '8.2+' && present === undefined) {
      throw new FormatError(where, '"compressed" without "present": no QEMU release prints that');
    }
    if (fieldSet !== undefined && set !== fieldSet) {
      throw new FormatError(where, `entry has the ${set} field set but earlier entries have ${fieldSet}`);
    }
    fieldSet = set;
    if (depth > MAX_MAP_DEPTH) {
      throw new LimitError(
        where,
        `depth ${depth} names a backing chain deeper than ${MAX_CHAIN_DEPTH} layers (MAX_MAP_DEPTH ${MAX_MAP_DEPTH}), more than clusterscope opens`,
      );
    }
    const value =
      (data ? MAP_DATA : 0) |
      (zero ? MAP_ZERO : 0) |
      (present ? MAP_PRESENT : 0) |
      (compressed ? MAP_COMPRESSED : 0) |
      (depth << MAP_DEPTH_SHIFT);
    b.push(where, start, length, value >>> 0, offset ?? -1, depth);
  }, `not qemu-img map --output=json: expected a JSON array of map entries (${MAP_FILE_FORMATS})`);
  const set = fieldSet ?? '6.1-8.1';
  // Values depend only on the field set; the id names one release that printed it (6.0, 7.2
  // as recorded in the goldens, 8.2), i.e. qemuImgMap(release).id.
  const release = FIELD_SET_RELEASE[set];
  return {
    kind: 'qemu-img-map-json',
    interpretationId: qemuImgMapId(release),
    fieldSet: set,
    release,
    extents: b.finish(),
    length: b.covered,
  };
}

// ------------------------------------------------------------------------------- line readers

/** Calls `line(text, number, offset)` for each line, in one pass; CR before LF dropped. */
function eachLine(
  file: string,
  what: string,
  text: string,
  line: (l: string, n: number, offset: number) => void,
): void {
  let from = 0;
  for (let n = 1; from <= text.length; n++) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    if (to - from > MAX_MAP_LINE_BYTES)
      throw new LimitError(at(file, what, n, from), 'line longer than MAX_MAP_LINE_BYTES');
    line(text.charCodeAt(to - 1) === 13 ? text.slice(from, to - 1) : text.slice(from, to), n, from);
    from = to + 1;
  }
}

/** The header qemu-img map prints before its human lines: printf("%-16s%-16s%-16s%s\n", ...). */
const HUMAN_HEADER = /^Offset {10}Length {10}Mapped to {7}File$/;

/**
 * One %#-16x column at `p`: "0" or "0x" and hex digits, left-justified in 16 columns; a
 * number of 16 characters or more fills its column, so the next one follows without a space.
 * Returns the value and where the next column begins, or undefined.
 */
function hexColumn(l: string, p: number, last: boolean): { v: number; next: number } | undefined {
  const m = /^(0x[0-9a-f]+|0)/.exec(l.slice(p, p + 24));
  if (!m) return undefined;
  let tok = m[1]!;
  // A number of 16+ characters is followed at once by the next column ("0" or "0x..."): give
  // back what the greedy match took of it.
  if (!last && tok.length > 16 && l[p + tok.length] === 'x') tok = tok.slice(0, -1);
  const v = tok === '0' ? 0 : exactInteger(BigInt(tok).toString());
  if (v === undefined) return undefined;
  // A shorter number is padded with spaces to 16 columns.
  if (tok.length < 16 && l.slice(p + tok.length, p + 16).trim() !== '') return undefined;
  return { v, next: p + Math.max(16, tok.length) };
}

/**
 * `qemu-img map` human output (dump_map_entry() OFORMAT_HUMAN, reference §4.4): the header,
 * then one line per mapped range (data, not zero): start, length, offset in File. The ranges
 * between are not printed (zero, unallocated or not data): they become HUMAN_UNMAPPED extents,
 * and the map ends where the last line ends (qemu-img does not print the image's length).
 */
export function parseQemuImgMapHuman(file: string, text: string, opts: NbdImportOptions = {}): ImportedMap {
  checkSize(file, text);
  const what = 'qemu-img map';
  const b = new Builder(opts.budget);
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  let sawHeader = false;
  eachLine(file, what, text, (l, n, offset) => {
    const where = at(file, what, n, offset);
    if (!sawHeader) {
      if (!HUMAN_HEADER.test(l))
        throw new FormatError(
          where,
          `not qemu-img map output: its first line is the header "Offset Length Mapped to File" (${MAP_FILE_FORMATS})`,
        );
      sawHeader = true;
      return;
    }
    if (l === '') return;
    const s = hexColumn(l, 0, false);
    const len = s && hexColumn(l, s.next, false);
    const mapped = len && hexColumn(l, len.next, true);
    if (!s || !len || !mapped || len.v === 0) {
      throw new FormatError(
        where,
        `not a qemu-img map line (Offset, Length, Mapped to, File): '${l.slice(0, 80)}'`,
      );
    }
    if (s.v < Math.max(0, b.end)) {
      throw new FormatError(
        where,
        `range at ${decimal(s.v)} starts before the previous one ended (${decimal(b.end)})`,
      );
    }
    const name = l.slice(mapped.next);
    let layer = nameIndex.get(name);
    if (layer === undefined) {
      if (names.length >= MAX_CHAIN_DEPTH) {
        throw new LimitError(where, `more than ${MAX_CHAIN_DEPTH} files named (MAX_CHAIN_DEPTH)`);
      }
      layer = names.length;
      names.push(name);
      nameIndex.set(name, layer);
    }
    if (s.v > Math.max(0, b.end))
      b.push(where, Math.max(0, b.end), s.v - Math.max(0, b.end), HUMAN_UNMAPPED, -1, 0);
    b.push(where, s.v, len.v, HUMAN_MAPPED, mapped.v, layer);
  });
  if (!sawHeader) {
    throw new FormatError(at(file, what, 1, 0), `empty: not qemu-img map output (${MAP_FILE_FORMATS})`);
  }
  return {
    kind: 'qemu-img-map-human',
    interpretationId: QEMU_IMG_MAP_HUMAN_ID,
    extents: b.finish(),
    length: b.covered,
    fileNames: names,
  };
}

// ---------------------------------------------------------------------------------- nbdinfo

/** nbdinfo's description of `value` in `context` (extent_description()); '' where it prints none. */
export function nbdLabel(context: string, value: number): string {
  if (context === BASE) return BASE_ALLOCATION_LABELS[value] ?? '';
  if (context === DEPTH) return depthLabel(value);
  if (context.startsWith('qemu:dirty-bitmap:')) return value === 0 ? 'clean' : value === 1 ? 'dirty' : '';
  return '';
}

/** Whether nbdinfo prints `description` for `value` (before libnbd 1.8.1: "allocated", "unallocated"). */
function describes(context: string, value: number, description: string): boolean {
  if (context !== BASE && context !== DEPTH && !context.startsWith('qemu:dirty-bitmap:')) return true;
  if (description === nbdLabel(context, value)) return true;
  return (
    value === 0 && description === (context === BASE ? 'allocated' : context === DEPTH ? 'unallocated' : '-')
  );
}

/** The context a description belongs to, if it tells. */
function contextOf(description: string): string | undefined {
  if (/^(data|hole|zero|hole,zero|allocated)$/.test(description)) return BASE;
  if (/^(absent|unallocated|local|backing depth \d+)$/.test(description)) return DEPTH;
  if (description === 'clean' || description === 'dirty') return 'qemu:dirty-bitmap:';
  return undefined;
}

/**
 * nbdinfo rows as they come. The context is the caller's, or the first description's (every
 * later description must agree with it); rows before any description are checked at the end.
 */
class NbdRows {
  count = 0;
  private context: string | undefined;
  private readonly fixed: boolean;
  private readonly b: Builder;
  /** Largest type seen on a row nothing described, and where (checked once the context is known). */
  private maxType = -1;
  private maxWhere: Where | undefined;

  constructor(private readonly opts: NbdImportOptions) {
    this.context = opts.context;
    this.fixed = opts.context !== undefined;
    this.b = new Builder(opts.budget);
  }

  add(where: Where, offset: number, length: number, type: number, description: string): void {
    if (type > 0xffffffff) throw new FormatError(where, `type ${type} is not a 32-bit NBD status value`);
    if (!this.fixed && description) {
      const c = contextOf(description);
      if (c !== undefined) {
        if (this.context !== undefined && c !== this.context) {
          throw new FormatError(
            where,
            `description '${description}' belongs to ${c}, earlier lines to ${this.context}`,
          );
        }
        this.context = c;
      }
    }
    const ctx = this.context;
    if (ctx !== undefined && description && !describes(ctx, type, description)) {
      throw new FormatError(
        where,
        `type ${type} is described as '${description}', which nbdinfo never prints for ${ctx}`,
      );
    }
    if (ctx === undefined || !description) {
      if (type > this.maxType) {
        this.maxType = type;
        this.maxWhere = where;
      }
    }
    if (ctx !== undefined) this.checkType(ctx, type, where);
    this.b.push(where, offset, length, type, -1, 0);
    this.count++;
  }

  private checkType(ctx: string, type: number, where: Where): void {
    if (ctx === DEPTH && type > MAX_CHAIN_DEPTH) {
      throw new LimitError(
        where,
        `depth ${type} names a backing chain deeper than ${MAX_CHAIN_DEPTH} layers (MAX_CHAIN_DEPTH), more than clusterscope opens`,
      );
    }
    if (ctx === BASE && type > 3) {
      throw new FormatError(where, `type ${type}: base:allocation has only the bits HOLE (1) and ZERO (2)`);
    }
  }

  result(kind: MapFileKind): ImportedMap {
    const ctx = this.context ?? 'unknown';
    if (this.maxWhere) this.checkType(ctx, this.maxType, this.maxWhere);
    const release = this.opts.release ?? QEMU_6_0;
    const interpretationId =
      ctx === BASE ? baseAllocationId(release) : ctx === DEPTH ? ALLOCATION_DEPTH_ID : `nbd-context:${ctx}`;
    return {
      kind,
      interpretationId,
      context: ctx,
      extents: this.b.finish(),
      length: this.b.covered,
    };
  }
}

/** `nbdinfo --map[=CONTEXT]` text: printf("%10" PRIu64 "  %10" PRIu64 "  %3" PRIu32 "  %s\n"). */
export function parseNbdinfoText(file: string, text: string, opts: NbdImportOptions = {}): ImportedMap {
  checkSize(file, text);
  const what = 'nbdinfo --map';
  const rows = new NbdRows(opts);
  eachLine(file, what, text, (rawLine, n, offset) => {
    const where = at(file, what, n, offset);
    // libnbd >= 1.14.1 colours a terminal's output; a pasted copy may keep the escapes.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are stripped on purpose.
    const l = rawLine.replace(/\x1b\[[0-9;]*m/g, '');
    if (!l.trim()) return;
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)(?:\s+(.*?))?\s*$/.exec(l);
    if (!m) {
      throw new FormatError(
        where,
        rows.count === 0
          ? `not a map file: clusterscope reads ${MAP_FILE_FORMATS}; this starts '${l.slice(0, 40)}'`
          : `not an nbdinfo --map line: '${l.slice(0, 80)}'`,
      );
    }
    const [o, len, type] = [exactInteger(m[1]!), exactInteger(m[2]!), exactInteger(m[3]!)];
    if (o === undefined || len === undefined || type === undefined) {
      throw new FormatError(
        where,
        'offset, length and type must be exact integers below 2^63 (past 2^53 multiples of 512)',
      );
    }
    rows.add(where, o, len, type, m[4] ?? '');
  });
  return rows.result('nbdinfo-text');
}

/** `nbdinfo --map --json`: [{ "offset": O, "length": L, "type": T, "description": "..."}, ...]. */
export function parseNbdinfoJson(file: string, text: string, opts: NbdImportOptions = {}): ImportedMap {
  checkSize(file, text);
  const what = 'nbdinfo --map --json';
  const rows = new NbdRows(opts);
  new JsonEntries(file, what, text).read((e, where) => {
    onlyKnown(e, NBDINFO_JSON_MEMBERS, 'nbdinfo --map --json', where);
    const d = e.get('description');
    if (d !== undefined && d.t !== 'string') {
      throw new FormatError(where, `"description" must be a string, not ${kindOf(d)}`);
    }
    rows.add(
      where,
      count(e, 'offset', where)!,
      count(e, 'length', where)!,
      count(e, 'type', where)!,
      d?.t === 'string' ? d.s : '',
    );
  }, `not nbdinfo --map --json: expected a JSON array of extents (${MAP_FILE_FORMATS})`);
  return rows.result('nbdinfo-json');
}

/**
 * Any of the four formats, told apart by content: a JSON array whose first object has "start"
 * is qemu-img map, with "offset" nbdinfo --json; the header line is qemu-img map's human
 * output; lines of numbers are nbdinfo text. Anything else is refused naming the formats read.
 */
export function parseMapFile(file: string, text: string, opts: NbdImportOptions = {}): ImportedMap {
  checkSize(file, text);
  const lead = text.length - text.trimStart().length;
  const head = text.slice(lead, lead + MAX_MAP_LINE_BYTES);
  const where = { file, structure: 'map file', offset: lead };
  if (head.startsWith('[')) {
    const firstKey = /^\[\s*\{\s*"(start|offset)"/.exec(head)?.[1];
    if (firstKey === 'offset') return parseNbdinfoJson(file, text, opts);
    if (firstKey === 'start' || /^\[\s*\]?\s*$/.test(head)) return parseQemuImgMapJson(file, text, opts);
    throw new FormatError(
      where,
      `not a map file: a JSON array, but its entries do not begin with qemu-img map's "start" or nbdinfo's "offset" (clusterscope reads ${MAP_FILE_FORMATS})`,
    );
  }
  if (head.startsWith('{')) {
    throw new FormatError(
      where,
      `not a map file: a JSON object, where clusterscope reads ${MAP_FILE_FORMATS} (a clusterscope map file opens as a link)`,
    );
  }
  if (head.startsWith('Offset')) return parseQemuImgMapHuman(file, text, opts);
  return parseNbdinfoText(file, text, opts);
}
