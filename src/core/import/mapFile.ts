/**
 * Map files made by other tools, read into the engine's Interpreted extents so the views can show
 * them without the image (issue 5, "maps without the image"):
 *  - `qemu-img map --output=json` of any release: 1.7-6.0 (no "present"), 6.1-8.1 ("present"),
 *    8.2+ ("compressed" too) (reference §4.2);
 *  - `nbdinfo --map` text and `nbdinfo --map --json` for base:allocation, qemu:allocation-depth and
 *    any other context (reference §5.5).
 *
 * Input is untrusted (dropped or pasted): sizes are bounded by the constants below, every number
 * must be an exact non-negative integer, extents must follow each other without gaps, and every
 * refusal is a FormatError or LimitError naming the line.
 */
import { FormatError, LimitError } from '../errors.ts';
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
import { MAX_SAFE_OFFSET } from '../limits.ts';

/** Largest map file accepted: 256 MiB of text is ~3 M qemu-img map lines, far beyond real maps. */
export const MAX_MAP_FILE_BYTES = 256 * 1024 * 1024;
/** Most extents one map file may hold (each costs ~30 bytes of typed arrays). */
export const MAX_MAP_ENTRIES = 4 * 1024 * 1024;
/** Deepest chain a qemu-img map "depth" or an allocation-depth value may name (Uint16 layer). */
export const MAX_MAP_DEPTH = 0xffff;
/** Longest line considered (a qemu-img map line is < 200 bytes; nbdinfo's < 100). */
export const MAX_MAP_LINE_BYTES = 4096;

export type MapFileKind = 'qemu-img-map-json' | 'nbdinfo-text' | 'nbdinfo-json';

/** qemu-img map JSON field sets (reference §4.2). */
export type MapFieldSet = '1.7-6.0' | '6.1-8.1' | '8.2+';

export interface ImportedMap {
  readonly kind: MapFileKind;
  /** Id of the engine interpretation these extents correspond to (e.g. "qemu-img-map@7.2"). */
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
}

export interface NbdImportOptions {
  /** The context, when the caller knows it (`--map=CONTEXT`); otherwise read from descriptions. */
  readonly context?: string;
  /** base:allocation semantics: QEMU_6_0 and later (HOLE = not DATA, the default) or QEMU_5_2 and older. */
  readonly release?: number;
}

/** A release that printed each field set; qemuImgMap(release) computes the same values. */
export const FIELD_SET_RELEASE: Readonly<Record<MapFieldSet, number>> = {
  '1.7-6.0': QEMU_6_0,
  '6.1-8.1': QEMU_7_2,
  '8.2+': RELEASE_COMPRESSED,
};

const BASE = 'base:allocation';
const DEPTH = 'qemu:allocation-depth';

class Builder {
  start: number[] = [];
  length: number[] = [];
  value: number[] = [];
  host: number[] = [];
  layer: number[] = [];
  end = -1;
  constructor(
    private readonly file: string,
    private readonly what: string,
  ) {}
  push(
    line: number,
    at: number,
    start: number,
    length: number,
    value: number,
    host: number,
    layer: number,
  ): void {
    if (this.start.length >= MAX_MAP_ENTRIES) {
      throw new LimitError(
        { file: this.file, structure: `${this.what} line ${line}`, offset: at },
        `more than ${MAX_MAP_ENTRIES} extents (MAX_MAP_ENTRIES)`,
      );
    }
    if (this.end >= 0 && start !== this.end) {
      throw new FormatError(
        { file: this.file, structure: `${this.what} line ${line}`, offset: at },
        `extent starts at ${start} but the previous one ended at ${this.end}`,
      );
    }
    if (start + length > MAX_SAFE_OFFSET) {
      throw new LimitError(
        { file: this.file, structure: `${this.what} line ${line}`, offset: at },
        'extent ends beyond 2^53 (MAX_SAFE_OFFSET)',
      );
    }
    this.end = start + length;
    if (length === 0) return;
    this.start.push(start);
    this.length.push(length);
    this.value.push(value);
    this.host.push(host);
    this.layer.push(layer);
  }
  finish(): Interpreted {
    return {
      count: this.start.length,
      start: Float64Array.from(this.start),
      length: Float64Array.from(this.length),
      value: Uint32Array.from(this.value),
      host: Float64Array.from(this.host),
      layer: Uint16Array.from(this.layer),
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

const lineAt = (text: string, pos: number): number => {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
};

/**
 * Offsets of the objects directly inside a top-level JSON array (strings respected), so that a
 * bad entry can be named by its line. Returns undefined if the text is not an array of objects.
 */
function objectOffsets(text: string): number[] {
  const out: number[] = [];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (c === '{' && depth === 1) out.push(i);
      depth++;
    } else if (c === ']' || c === '}') depth--;
  }
  return out;
}

/** JSON.parse with the failing line named. */
function parseJson(file: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(String(e));
    const pos = m ? Number(m[1]) : text.length;
    throw new FormatError(
      { file, structure: `${what} line ${lineAt(text, pos)}`, offset: pos },
      `not valid JSON (${e instanceof Error ? e.message : String(e)}); a map cut short by an error has no closing "]"`,
    );
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** `qemu-img map --output=json` of any release (reference §4.2). */
export function parseQemuImgMapJson(file: string, text: string): ImportedMap {
  checkSize(file, text);
  const what = 'qemu-img map JSON';
  const doc = parseJson(file, text, what);
  if (!Array.isArray(doc)) {
    throw new FormatError(
      { file, structure: `${what} line 1`, offset: 0 },
      'expected a JSON array of map entries',
    );
  }
  const offsets = objectOffsets(text);
  let fieldSet: MapFieldSet | undefined;
  const b = new Builder(file, what);
  doc.forEach((raw: unknown, i) => {
    const at = offsets[i] ?? 0;
    const line = lineAt(text, at);
    const where = { file, structure: `${what} line ${line}`, offset: at };
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new FormatError(where, 'map entry is not an object');
    }
    const e = raw as Record<string, unknown>;
    for (const k of ['start', 'length', 'depth'] as const) {
      if (!isCount(e[k])) throw new FormatError(where, `"${k}" must be a non-negative integer below 2^53`);
    }
    for (const k of ['zero', 'data'] as const) {
      if (typeof e[k] !== 'boolean') throw new FormatError(where, `"${k}" must be true or false`);
    }
    const set: MapFieldSet = 'compressed' in e ? '8.2+' : 'present' in e ? '6.1-8.1' : '1.7-6.0';
    if (set === '8.2+' && !('present' in e)) {
      throw new FormatError(where, '"compressed" without "present": no QEMU release prints that');
    }
    if (fieldSet !== undefined && set !== fieldSet) {
      throw new FormatError(where, `entry has the ${set} field set but earlier entries have ${fieldSet}`);
    }
    fieldSet = set;
    if ('present' in e && typeof e.present !== 'boolean')
      throw new FormatError(where, '"present" must be true or false');
    if ('compressed' in e && typeof e.compressed !== 'boolean') {
      throw new FormatError(where, '"compressed" must be true or false');
    }
    if ('offset' in e && !isCount(e.offset)) {
      throw new FormatError(where, '"offset" must be a non-negative integer below 2^53');
    }
    const depth = e.depth as number;
    if (depth > MAX_MAP_DEPTH) throw new LimitError(where, `depth ${depth} exceeds MAX_MAP_DEPTH`);
    const value =
      (e.data ? MAP_DATA : 0) |
      (e.zero ? MAP_ZERO : 0) |
      (e.present ? MAP_PRESENT : 0) |
      (e.compressed ? MAP_COMPRESSED : 0) |
      (depth << MAP_DEPTH_SHIFT);
    const host = 'offset' in e ? (e.offset as number) : -1;
    b.push(line, at, e.start as number, e.length as number, value >>> 0, host, depth);
  });
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
    length: Math.max(0, b.end),
  };
}

/** nbdinfo's description of a value in a known context (libnbd info/map.c extent_description()). */
function describes(context: string, value: number, description: string): boolean {
  if (context === BASE) {
    return description === BASE_ALLOCATION_LABELS[value] || (value === 0 && description === 'allocated');
  }
  if (context === DEPTH)
    return description === depthLabel(value) || (value === 0 && description === 'unallocated');
  if (context.startsWith('qemu:dirty-bitmap:')) {
    return description === (value === 0 ? 'clean' : value === 1 ? 'dirty' : '');
  }
  return true;
}

/** The context a description belongs to, if it tells. */
function contextOf(description: string): string | undefined {
  if (/^(data|hole|zero|hole,zero|allocated)$/.test(description)) return BASE;
  if (/^(absent|unallocated|local|backing depth \d+)$/.test(description)) return DEPTH;
  if (description === 'clean' || description === 'dirty') return 'qemu:dirty-bitmap:';
  return undefined;
}

function nbdResult(kind: MapFileKind, context: string, b: Builder, opts: NbdImportOptions): ImportedMap {
  const release = opts.release ?? QEMU_6_0;
  const interpretationId =
    context === BASE
      ? baseAllocationId(release)
      : context === DEPTH
        ? ALLOCATION_DEPTH_ID
        : `nbd-context:${context}`;
  return { kind, interpretationId, context, extents: b.finish(), length: Math.max(0, b.end) };
}

interface NbdRow {
  readonly line: number;
  readonly at: number;
  readonly offset: number;
  readonly length: number;
  readonly type: number;
  readonly description: string;
}

function nbdRows(file: string, what: string, rows: NbdRow[], opts: NbdImportOptions, kind: MapFileKind) {
  let context = opts.context;
  if (context === undefined) {
    for (const r of rows) {
      const c = r.description ? contextOf(r.description) : undefined;
      if (c === undefined) continue;
      if (context !== undefined && c !== context) {
        throw new FormatError(
          { file, structure: `${what} line ${r.line}`, offset: r.at },
          `description '${r.description}' belongs to ${c}, earlier lines to ${context}`,
        );
      }
      context = c;
    }
  }
  const ctx = context ?? 'unknown';
  const b = new Builder(file, what);
  for (const r of rows) {
    const where = { file, structure: `${what} line ${r.line}`, offset: r.at };
    if (r.type > 0xffffffff) throw new FormatError(where, `type ${r.type} is not a 32-bit NBD status value`);
    if (r.description && !describes(ctx, r.type, r.description)) {
      throw new FormatError(
        where,
        `type ${r.type} is described as '${r.description}', which nbdinfo never prints for ${ctx}`,
      );
    }
    if (ctx === DEPTH && r.type > MAX_MAP_DEPTH)
      throw new LimitError(where, `depth ${r.type} exceeds MAX_MAP_DEPTH`);
    b.push(r.line, r.at, r.offset, r.length, r.type, -1, 0);
  }
  return nbdResult(kind, ctx, b, opts);
}

/** `nbdinfo --map[=CONTEXT]` text: printf("%10" PRIu64 "  %10" PRIu64 "  %3" PRIu32 "  %s\n"). */
export function parseNbdinfoText(file: string, text: string, opts: NbdImportOptions = {}): ImportedMap {
  checkSize(file, text);
  const what = 'nbdinfo --map';
  const rows: NbdRow[] = [];
  let at = 0;
  let line = 0;
  for (const rawLine of text.split('\n')) {
    line++;
    const start = at;
    at += rawLine.length + 1;
    const where = { file, structure: `${what} line ${line}`, offset: start };
    if (rawLine.length > MAX_MAP_LINE_BYTES)
      throw new LimitError(where, 'line longer than MAX_MAP_LINE_BYTES');
    // libnbd >= 1.14.1 colours a terminal's output; a pasted copy may keep the escapes.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences are stripped on purpose.
    const l = rawLine.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r$/, '');
    if (!l.trim()) continue;
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)(?:\s+(.*?))?\s*$/.exec(l);
    if (!m) throw new FormatError(where, `not an nbdinfo --map line: '${l.slice(0, 80)}'`);
    const [offset, length, type] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!isCount(offset) || !isCount(length) || !isCount(type)) {
      throw new FormatError(where, 'offset, length and type must be integers below 2^53');
    }
    rows.push({ line, at: start, offset, length, type, description: m[4] ?? '' });
  }
  return nbdRows(file, what, rows, opts, 'nbdinfo-text');
}

/** `nbdinfo --map --json`: [{ "offset": O, "length": L, "type": T, "description": "..."}, ...]. */
export function parseNbdinfoJson(file: string, text: string, opts: NbdImportOptions = {}): ImportedMap {
  checkSize(file, text);
  const what = 'nbdinfo --map --json';
  const doc = parseJson(file, text, what);
  if (!Array.isArray(doc)) {
    throw new FormatError(
      { file, structure: `${what} line 1`, offset: 0 },
      'expected a JSON array of extents',
    );
  }
  const offsets = objectOffsets(text);
  const rows: NbdRow[] = doc.map((raw: unknown, i) => {
    const at = offsets[i] ?? 0;
    const line = lineAt(text, at);
    const where = { file, structure: `${what} line ${line}`, offset: at };
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new FormatError(where, 'extent is not an object');
    const e = raw as Record<string, unknown>;
    for (const k of ['offset', 'length', 'type'] as const) {
      if (!isCount(e[k])) throw new FormatError(where, `"${k}" must be a non-negative integer below 2^53`);
    }
    if ('description' in e && typeof e.description !== 'string')
      throw new FormatError(where, '"description" must be a string');
    return {
      line,
      at,
      offset: e.offset as number,
      length: e.length as number,
      type: e.type as number,
      description: (e.description as string | undefined) ?? '',
    };
  });
  return nbdRows(file, what, rows, opts, 'nbdinfo-json');
}

/**
 * Any of the three formats, told apart by content: a JSON array whose objects have "start" is
 * qemu-img map, with "offset" and "type" it is nbdinfo --json; anything else is nbdinfo text.
 */
export function parseMapFile(file: string, text: string, opts: NbdImportOptions = {}): ImportedMap {
  checkSize(file, text);
  const head = text.trimStart();
  if (head.startsWith('[')) {
    const firstKey = /"\s*(start|offset)\s*"/.exec(head.slice(0, MAX_MAP_LINE_BYTES));
    if (firstKey?.[1] === 'offset') return parseNbdinfoJson(file, text, opts);
    return parseQemuImgMapJson(file, text);
  }
  return parseNbdinfoText(file, text, opts);
}
