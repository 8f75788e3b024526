/**
 * Where two interpretations disagree: one sweep over both run-length inputs, emitting the
 * ranges that differ, each tagged with a disagreement kind ("A hole,zero / B zero"). Output is
 * run-length in typed arrays like every other result (ARCHITECTURE.md), so memory grows with
 * the number of extents of A and B, never with the virtual size: two 1 TiB images of one extent
 * each diff in one step.
 *
 * Two ways to compare (issue 11.1):
 *  - by meaning (the default when both sides' meanings are known, interpret/facts.ts): each
 *    value is read as the facts it states (present, zero, data, depth, the NBD HOLE bit, ...);
 *    a range differs where a fact both sides state has two values. `qemu-img map` 7.2 against
 *    NBD base:allocation 6.0 then agrees everywhere, as QEMU does. Facts only one side states
 *    are counted as "B also tells X", and where one side prints one value over ranges the other
 *    tells apart ("6.0 prints clusters 2 and 3 the same; 7.2's present tells them apart"), the
 *    pair is reported with example ranges;
 *  - by value: the raw values, for people who diff tool output text against text.
 *
 * A and B may be the same image under two interpretations or views, or two images (then the
 * comparison runs where both virtual sizes reach, and the longer one's tail is its own kind).
 * A range one side has no answer for (the status stopped at an error QEMU raises) is compared
 * as "no answer", a difference in either mode.
 */
import { LimitError } from '../errors.ts';
import { type Fact, FIXED_FACTS, type Meaning, UNKNOWN } from '../interpret/facts.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import { MAX_EXTENTS } from '../limits.ts';

/** Value of a side where it has no extent (its status stopped early, or past its end). */
export const NO_VALUE = 0xffffffff;

export type DiffMode = 'meaning' | 'values';

/**
 * Distinct (value of A, value of B) pairs one diff tracks. A chain of 256 layers gives
 * qemu-img map at most 256 depths x 16 flag sets x offset or not = 8192 values a side, and real
 * pairs are a few dozen; only a hostile map file (every extent its own depth) comes near this,
 * and it is refused rather than allowed to hold an object per extent.
 */
export const MAX_DIFF_PAIRS = 65536;

/** Example ranges kept per value pair and per indistinguishable member (enough to point at). */
export const MAX_EXAMPLES = 3;

/** A fact on which the two sides of a kind disagree, in words. */
export interface KindFact {
  readonly fact: string;
  readonly label: string;
  readonly a: string;
  readonly b: string;
}

export interface DiffKind {
  readonly index: number;
  /**
   * URL-safe, stable for a pair of values: "a3-b2"; tails "a-only" / "b-only"; "none-ax-b3"
   * where A has no answer. By meaning, a side whose meaning uses host offsets adds "o" to a
   * value that has one ("a5o-b0").
   */
  readonly id: string;
  /** "A hole,zero / B zero" */
  readonly label: string;
  /** The pair's values; null for a tail (the other side has ended). */
  readonly valueA: number | null;
  readonly valueB: number | null;
  readonly labelA: string;
  readonly labelB: string;
  /** By meaning: the facts both state with different values (empty by value and for tails). */
  readonly facts: readonly KindFact[];
  /** `facts` in words: "hole: A no, B yes"; '' when empty. */
  readonly factsLabel: string;
  /** Bytes and (merged) extents of this kind. */
  readonly bytes: number;
  readonly extents: number;
}

/** One fact in a diff by meaning: who states it and over how many bytes of the overlap. */
export interface DiffFact {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  /** Whether each side's interpretation can state it at all. */
  readonly declaredA: boolean;
  readonly declaredB: boolean;
  /** Bytes where both sides state it (compared), where only A or only B does. */
  readonly bytesBoth: number;
  readonly bytesOnlyA: number;
  readonly bytesOnlyB: number;
  /** Bytes, among `bytesBoth`, where the two values differ. */
  readonly bytesDiffering: number;
}

export interface DiffExample {
  readonly start: number;
  readonly length: number;
}

/** A set of ranges one side prints the same but the other side tells apart by `facts`. */
export interface IndistinguishableMember {
  /** The telling side's values in this set, and their labels joined with " or ". */
  readonly values: readonly number[];
  readonly label: string;
  /** The distinguishing facts' values here, in words ("present: yes"). */
  readonly facts: readonly { readonly fact: string; readonly value: string }[];
  readonly bytes: number;
  readonly extents: number;
  readonly examples: readonly DiffExample[];
}

export interface Indistinguishable {
  /** The side that cannot tell the members apart. */
  readonly side: 'a' | 'b';
  /** Its value over all members, and the value's label. */
  readonly value: number;
  readonly label: string;
  /** Ids of the facts the other side tells the members apart by. */
  readonly facts: readonly string[];
  readonly members: readonly IndistinguishableMember[];
}

export interface Diff {
  /** How the sides were compared. */
  readonly mode: DiffMode;
  /** Differing extents, ascending and disjoint; adjacent extents of one kind are merged. */
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
  /** Index into `kinds`. */
  readonly kind: Uint32Array;
  readonly kinds: readonly DiffKind[];
  readonly lengthA: number;
  readonly lengthB: number;
  /** min(lengthA, lengthB): where both sides are compared value by value. */
  readonly overlap: number;
  readonly bytesDiffering: number;
  /** Bytes inside the overlap where A and B agree. */
  readonly bytesAgreeing: number;
  /** By meaning: bytes of the overlap where both answered but state no fact in common (counted as agreeing). */
  readonly bytesNotCompared: number;
  /** By meaning: every fact either side declares, with byte counts; empty by value. */
  readonly facts: readonly DiffFact[];
  /** By meaning: values one side prints over ranges the other tells apart; empty by value. */
  readonly indistinguishable: readonly Indistinguishable[];
}

export interface DiffOptions {
  /** Words for values (Interpretation.label); default the number. */
  readonly labelA?: (v: number) => string;
  readonly labelB?: (v: number) => string;
  /** Virtual size of each side; default the end of its last extent. */
  readonly lengthA?: number;
  readonly lengthB?: number;
  /**
   * What each side's values mean (an Interpretation is one). With both, the diff compares by
   * meaning unless `mode` is 'values'.
   */
  readonly meaningA?: Meaning;
  readonly meaningB?: Meaning;
  /** Default: 'meaning' when both meanings are given, else 'values'. */
  readonly mode?: DiffMode;
}

const end = (m: Interpreted) => (m.count ? m.start[m.count - 1]! + m.length[m.count - 1]! : 0);

class DiffBuilder {
  count = 0;
  start = new Float64Array(64);
  length = new Float64Array(64);
  kind = new Uint32Array(64);
  readonly bytes: number[] = [];
  readonly extents: number[] = [];

  push(s: number, len: number, k: number): void {
    if (len <= 0) return;
    this.bytes[k] = (this.bytes[k] ?? 0) + len;
    const n = this.count;
    if (n > 0 && this.kind[n - 1] === k && this.start[n - 1]! + this.length[n - 1]! === s) {
      this.length[n - 1]! += len;
      return;
    }
    this.extents[k] = (this.extents[k] ?? 0) + 1;
    if (n === this.start.length) {
      if (n >= MAX_EXTENTS) {
        throw new LimitError(
          { file: 'diff', structure: 'diff extents' },
          `more than ${MAX_EXTENTS} extents (MAX_EXTENTS)`,
        );
      }
      const grow = <T extends Float64Array | Uint32Array>(a: T, b: T): T => {
        b.set(a);
        return b;
      };
      this.start = grow(this.start, new Float64Array(n * 2));
      this.length = grow(this.length, new Float64Array(n * 2));
      this.kind = grow(this.kind, new Uint32Array(n * 2));
    }
    this.start[n] = s;
    this.length[n] = len;
    this.kind[n] = k;
    this.count = n + 1;
  }
}

/** A side's value (and host presence, where its meaning uses it) with its facts in union order. */
interface SideKey {
  readonly value: number;
  readonly hasHost: boolean;
  readonly facts: Int32Array;
}

/** One side's values read as facts, memoised per distinct (value, hasHost). */
class SideFacts {
  private readonly keys = new Map<number, SideKey>();
  /** Index into the union of facts for each of this side's own facts. */
  private readonly toUnion: number[];
  /** Whether the meaning tells "has a host offset", so host presence is part of a key. */
  readonly usesHost: boolean;

  constructor(
    private readonly meaning: Meaning | undefined,
    private readonly union: readonly Fact[],
  ) {
    const own = meaning?.facts ?? [];
    this.toUnion = own.map((f) => union.findIndex((u) => u.id === f.id));
    this.usesHost = own.some((f) => f.id === 'offset');
  }

  declares(unionIndex: number): boolean {
    return this.toUnion.includes(unionIndex);
  }

  key(value: number, hasHost: boolean): SideKey {
    const h = this.usesHost && hasHost;
    // value is a u32 (or NO_VALUE); host presence doubles the key space.
    const k = h ? value + 0x100000000 : value;
    let key = this.keys.get(k);
    if (!key) {
      const facts = new Int32Array(this.union.length).fill(UNKNOWN);
      if (value !== NO_VALUE && this.meaning) {
        const own = this.meaning.factsOf(value, h);
        for (let i = 0; i < this.toUnion.length; i++) facts[this.toUnion[i]!] = own[i] ?? UNKNOWN;
      }
      key = { value, hasHost: h, facts };
      this.keys.set(k, key);
    }
    return key;
  }
}

/** Statistics of one (A key, B key) pair over the overlap. */
interface Pair {
  readonly a: SideKey;
  readonly b: SideKey;
  /** Union indices of facts both state, only A, only B, and both with different values. */
  readonly both: readonly number[];
  readonly onlyA: readonly number[];
  readonly onlyB: readonly number[];
  readonly differ: readonly number[];
  readonly differs: boolean;
  /** Kind index when the pair differs. */
  kind: number;
  bytes: number;
  extents: number;
  readonly examples: { start: number; length: number }[];
}

/** Facts of both sides, fixed facts first in their order, then any others (e.g. dirty:NAME). */
function unionFacts(a: Meaning | undefined, b: Meaning | undefined): Fact[] {
  const all = [...(a?.facts ?? []), ...(b?.facts ?? [])];
  const out: Fact[] = FIXED_FACTS.filter((f) => all.some((x) => x.id === f.id));
  for (const f of all) if (!out.some((x) => x.id === f.id)) out.push(f);
  return out;
}

export function diffInterpreted(a: Interpreted, b: Interpreted, opts: DiffOptions = {}): Diff {
  const labelA = opts.labelA ?? String;
  const labelB = opts.labelB ?? String;
  const lengthA = opts.lengthA ?? end(a);
  const lengthB = opts.lengthB ?? end(b);
  const overlap = Math.min(lengthA, lengthB);
  const byMeaning = opts.meaningA !== undefined && opts.meaningB !== undefined;
  const mode: DiffMode = opts.mode ?? (byMeaning ? 'meaning' : 'values');
  if (mode === 'meaning' && !byMeaning) {
    throw new RangeError('a diff by meaning needs both sides’ meanings (meaningA, meaningB)');
  }
  const meaning = mode === 'meaning';
  const union = meaning ? unionFacts(opts.meaningA, opts.meaningB) : [];
  const sideA = new SideFacts(meaning ? opts.meaningA : undefined, union);
  const sideB = new SideFacts(meaning ? opts.meaningB : undefined, union);
  const out = new DiffBuilder();
  const kinds: Omit<DiffKind, 'bytes' | 'extents'>[] = [];
  const pairs = new Map<SideKey, Map<SideKey, Pair>>();
  const pairList: Pair[] = [];
  const word = (v: number, label: (v: number) => string) => (v === NO_VALUE ? 'no answer' : label(v));
  const tag = (k: SideKey, side: SideFacts) =>
    k.value === NO_VALUE ? 'x' : `${k.value}${meaning && side.usesHost && k.hasHost ? 'o' : ''}`;

  const newPair = (ka: SideKey, kb: SideKey): Pair => {
    if (pairList.length >= MAX_DIFF_PAIRS) {
      throw new LimitError(
        { file: 'diff', structure: 'value pairs' },
        `more than ${MAX_DIFF_PAIRS} distinct pairs of values (MAX_DIFF_PAIRS)`,
      );
    }
    const both: number[] = [];
    const onlyA: number[] = [];
    const onlyB: number[] = [];
    const differ: number[] = [];
    for (let f = 0; f < union.length; f++) {
      const x = ka.facts[f]!;
      const y = kb.facts[f]!;
      if (x !== UNKNOWN && y !== UNKNOWN) {
        both.push(f);
        if (x !== y) differ.push(f);
      } else if (x !== UNKNOWN) onlyA.push(f);
      else if (y !== UNKNOWN) onlyB.push(f);
    }
    const none = ka.value === NO_VALUE || kb.value === NO_VALUE;
    const differs = none || (meaning ? differ.length > 0 : ka.value !== kb.value);
    let kind = -1;
    if (differs) {
      kind = kinds.length;
      const la = word(ka.value, labelA);
      const lb = word(kb.value, labelB);
      const id = none
        ? `none-a${tag(ka, sideA)}-b${tag(kb, sideB)}`
        : `a${tag(ka, sideA)}-b${tag(kb, sideB)}`;
      const facts = differ.map((f) => {
        const fact = union[f]!;
        return { fact: fact.id, label: fact.label, a: fact.words(ka.facts[f]!), b: fact.words(kb.facts[f]!) };
      });
      kinds.push({
        index: kind,
        id,
        label: `A ${la} / B ${lb}`,
        valueA: ka.value,
        valueB: kb.value,
        labelA: la,
        labelB: lb,
        facts,
        factsLabel: facts.map((f) => `${f.fact}: A ${f.a}, B ${f.b}`).join('; '),
      });
    }
    const p: Pair = {
      a: ka,
      b: kb,
      both,
      onlyA,
      onlyB,
      differ,
      differs,
      kind,
      bytes: 0,
      extents: 0,
      examples: [],
    };
    pairList.push(p);
    return p;
  };
  const pairOf = (ka: SideKey, kb: SideKey): Pair => {
    let row = pairs.get(ka);
    if (!row) {
      row = new Map();
      pairs.set(ka, row);
    }
    let p = row.get(kb);
    if (!p) {
      p = newPair(ka, kb);
      row.set(kb, p);
    }
    return p;
  };

  // Sweep: i and j are the first extents of A and B not wholly before p.
  let i = 0;
  let j = 0;
  let p = 0;
  let last: Pair | undefined;
  let lastEnd = -1;
  while (p < overlap) {
    while (i < a.count && a.start[i]! + a.length[i]! <= p) i++;
    while (j < b.count && b.start[j]! + b.length[j]! <= p) j++;
    const inA = i < a.count && a.start[i]! <= p;
    const inB = j < b.count && b.start[j]! <= p;
    const ka = sideA.key(inA ? a.value[i]! : NO_VALUE, inA && a.host[i]! >= 0);
    const kb = sideB.key(inB ? b.value[j]! : NO_VALUE, inB && b.host[j]! >= 0);
    const nextA = inA ? a.start[i]! + a.length[i]! : i < a.count ? a.start[i]! : overlap;
    const nextB = inB ? b.start[j]! + b.length[j]! : j < b.count ? b.start[j]! : overlap;
    const q = Math.min(nextA, nextB, overlap);
    const pair = last && last.a === ka && last.b === kb ? last : pairOf(ka, kb);
    const len = q - p;
    pair.bytes += len;
    const ex = pair.examples;
    if (pair === last && lastEnd === p) {
      const e = ex[ex.length - 1];
      if (e && e.start + e.length === p) e.length += len;
    } else {
      pair.extents++;
      if (ex.length < MAX_EXAMPLES) ex.push({ start: p, length: len });
    }
    if (pair.differs) out.push(p, len, pair.kind);
    last = pair;
    lastEnd = q;
    p = q;
  }
  const tail = (id: string, label: string, from: number, to: number, aHas: boolean) => {
    if (to <= from) return;
    const k = kinds.length;
    kinds.push({
      index: k,
      id,
      label,
      valueA: null,
      valueB: null,
      labelA: aHas ? 'present' : 'past its end',
      labelB: aHas ? 'past its end' : 'present',
      facts: [],
      factsLabel: '',
    });
    out.push(from, to - from, k);
  };
  tail('a-only', `only in A (B ends at ${lengthB})`, overlap, lengthA, true);
  tail('b-only', `only in B (A ends at ${lengthA})`, overlap, lengthB, false);

  const n = out.count;
  let differing = 0;
  let differingInOverlap = 0;
  for (let k = 0; k < n; k++) {
    differing += out.length[k]!;
    if (out.start[k]! < overlap) differingInOverlap += out.length[k]!;
  }
  let notCompared = 0;
  if (meaning) {
    for (const pr of pairList) {
      if (pr.both.length === 0 && !pr.differs) notCompared += pr.bytes;
    }
  }
  return {
    mode,
    count: n,
    start: out.start.slice(0, n),
    length: out.length.slice(0, n),
    kind: out.kind.slice(0, n),
    kinds: kinds.map((k) => ({ ...k, bytes: out.bytes[k.index] ?? 0, extents: out.extents[k.index] ?? 0 })),
    lengthA,
    lengthB,
    overlap,
    bytesDiffering: differing,
    bytesAgreeing: overlap - differingInOverlap,
    bytesNotCompared: notCompared,
    facts: meaning ? factStats(union, sideA, sideB, pairList) : [],
    indistinguishable: meaning
      ? [
          ...indistinguishable('a', pairList, union, sideB, labelA, labelB),
          ...indistinguishable('b', pairList, union, sideA, labelB, labelA),
        ]
      : [],
  };
}

function factStats(union: readonly Fact[], a: SideFacts, b: SideFacts, pairs: readonly Pair[]): DiffFact[] {
  return union.map((f, u) => {
    let both = 0;
    let onlyA = 0;
    let onlyB = 0;
    let differ = 0;
    for (const p of pairs) {
      if (p.both.includes(u)) {
        both += p.bytes;
        if (p.differ.includes(u)) differ += p.bytes;
      } else if (p.onlyA.includes(u)) onlyA += p.bytes;
      else if (p.onlyB.includes(u)) onlyB += p.bytes;
    }
    return {
      id: f.id,
      label: f.label,
      description: f.description,
      declaredA: a.declares(u),
      declaredB: b.declares(u),
      bytesBoth: both,
      bytesOnlyA: onlyA,
      bytesOnlyB: onlyB,
      bytesDiffering: differ,
    };
  });
}

/**
 * Values of side `side` that cover ranges the other side tells apart: grouped by the value,
 * the other side's values differ in a fact the value does not state.
 */
function indistinguishable(
  side: 'a' | 'b',
  pairs: readonly Pair[],
  union: readonly Fact[],
  other: SideFacts,
  label: (v: number) => string,
  otherLabel: (v: number) => string,
): Indistinguishable[] {
  const mine = (p: Pair) => (side === 'a' ? p.a : p.b);
  const theirs = (p: Pair) => (side === 'a' ? p.b : p.a);
  const groups = new Map<SideKey, Pair[]>();
  for (const p of pairs) {
    if (p.a.value === NO_VALUE || p.b.value === NO_VALUE) continue;
    const g = groups.get(mine(p));
    if (g) g.push(p);
    else groups.set(mine(p), [p]);
  }
  const out: Indistinguishable[] = [];
  for (const [key, group] of groups) {
    if (group.length < 2) continue;
    const telling: number[] = [];
    for (let f = 0; f < union.length; f++) {
      if (key.facts[f] !== UNKNOWN || !other.declares(f)) continue;
      const seen = new Set<number>();
      for (const p of group) {
        const v = theirs(p).facts[f]!;
        if (v !== UNKNOWN) seen.add(v);
      }
      if (seen.size >= 2) telling.push(f);
    }
    if (!telling.length) continue;
    const members = new Map<string, Pair[]>();
    for (const p of group) {
      const proj = telling.map((f) => theirs(p).facts[f]).join(',');
      const m = members.get(proj);
      if (m) m.push(p);
      else members.set(proj, [p]);
    }
    out.push({
      side,
      value: key.value,
      label: label(key.value),
      facts: telling.map((f) => union[f]!.id),
      members: [...members.values()].map((ps) => {
        const values = [...new Set(ps.map((p) => theirs(p).value))];
        const examples = ps
          .flatMap((p) => p.examples)
          .sort((x, y) => x.start - y.start)
          .slice(0, MAX_EXAMPLES)
          .map((e) => ({ start: e.start, length: e.length }));
        const first = theirs(ps[0]!);
        return {
          values,
          label: [...new Set(values.map(otherLabel))].join(' or '),
          facts: telling.map((f) => ({ fact: union[f]!.id, value: union[f]!.words(first.facts[f]!) })),
          bytes: ps.reduce((s, p) => s + p.bytes, 0),
          extents: ps.reduce((s, p) => s + p.extents, 0),
          examples,
        };
      }),
    });
  }
  return out;
}

/** Index of the differing extent holding `offset`, or -1 (binary search: hit-testing). */
export function diffIndexAt(d: Diff, offset: number): number {
  let lo = 0;
  let hi = d.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (offset < d.start[mid]!) hi = mid - 1;
    else if (offset >= d.start[mid]! + d.length[mid]!) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** First differing extent starting after `offset` (next difference), or -1. */
export function nextDifference(d: Diff, offset: number): number {
  let lo = 0;
  let hi = d.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (d.start[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo < d.count ? lo : -1;
}

/** Last differing extent starting before `offset` (previous difference), or -1. */
export function previousDifference(d: Diff, offset: number): number {
  let lo = 0;
  let hi = d.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (d.start[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
