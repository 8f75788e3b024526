/**
 * Where two interpretations disagree: one sweep over both run-length inputs, emitting the
 * ranges whose values differ, each tagged with a disagreement kind ("A hole,zero / B zero").
 * Output is run-length in typed arrays like every other result (ARCHITECTURE.md), so memory
 * grows with the number of extents of A and B, never with the virtual size: two 1 TiB images
 * of one extent each diff in one step.
 *
 * A and B may be the same image under two interpretations or views, or two images (then the
 * comparison runs where both virtual sizes reach, and the longer one's tail is its own kind).
 * A range one side has no answer for (the status stopped at an error QEMU raises) is compared
 * as "no answer".
 */
import { LimitError } from '../errors.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import { MAX_EXTENTS } from '../limits.ts';

/** Value of a side where it has no extent (its status stopped early, or past its end). */
export const NO_VALUE = 0xffffffff;

export interface DiffKind {
  readonly index: number;
  /** URL-safe, stable for a pair of values: "a3-b2"; tails "a-only" / "b-only"; "none-ax-b3" where A has no answer. */
  readonly id: string;
  /** "A hole,zero / B zero" */
  readonly label: string;
  /** The pair's values; null for a tail (the other side has ended). */
  readonly valueA: number | null;
  readonly valueB: number | null;
  readonly labelA: string;
  readonly labelB: string;
  /** Bytes and (merged) extents of this kind. */
  readonly bytes: number;
  readonly extents: number;
}

export interface Diff {
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
}

export interface DiffOptions {
  /** Words for values (Interpretation.label); default the number. */
  readonly labelA?: (v: number) => string;
  readonly labelB?: (v: number) => string;
  /** Virtual size of each side; default the end of its last extent. */
  readonly lengthA?: number;
  readonly lengthB?: number;
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

export function diffInterpreted(a: Interpreted, b: Interpreted, opts: DiffOptions = {}): Diff {
  const labelA = opts.labelA ?? String;
  const labelB = opts.labelB ?? String;
  const lengthA = opts.lengthA ?? end(a);
  const lengthB = opts.lengthB ?? end(b);
  const overlap = Math.min(lengthA, lengthB);
  const out = new DiffBuilder();
  const kinds: Omit<DiffKind, 'bytes' | 'extents'>[] = [];
  const byPair = new Map<string, number>();
  const word = (v: number, label: (v: number) => string) => (v === NO_VALUE ? 'no answer' : label(v));
  const kindOf = (va: number, vb: number): number => {
    const key = `${va}:${vb}`;
    let k = byPair.get(key);
    if (k === undefined) {
      k = kinds.length;
      const la = word(va, labelA);
      const lb = word(vb, labelB);
      const id =
        va === NO_VALUE || vb === NO_VALUE
          ? `none-a${va === NO_VALUE ? 'x' : va}-b${vb === NO_VALUE ? 'x' : vb}`
          : `a${va}-b${vb}`;
      kinds.push({
        index: k,
        id,
        label: `A ${la} / B ${lb}`,
        valueA: va,
        valueB: vb,
        labelA: la,
        labelB: lb,
      });
      byPair.set(key, k);
    }
    return k;
  };

  // Sweep: i and j are the first extents of A and B not wholly before p.
  let i = 0;
  let j = 0;
  let p = 0;
  let lastA = -1;
  let lastB = -1;
  let lastK = -1;
  while (p < overlap) {
    while (i < a.count && a.start[i]! + a.length[i]! <= p) i++;
    while (j < b.count && b.start[j]! + b.length[j]! <= p) j++;
    const inA = i < a.count && a.start[i]! <= p;
    const inB = j < b.count && b.start[j]! <= p;
    const va = inA ? a.value[i]! : NO_VALUE;
    const vb = inB ? b.value[j]! : NO_VALUE;
    const nextA = inA ? a.start[i]! + a.length[i]! : i < a.count ? a.start[i]! : overlap;
    const nextB = inB ? b.start[j]! + b.length[j]! : j < b.count ? b.start[j]! : overlap;
    const q = Math.min(nextA, nextB, overlap);
    if (va !== vb) {
      if (va !== lastA || vb !== lastB) {
        lastK = kindOf(va, vb);
        lastA = va;
        lastB = vb;
      }
      out.push(p, q - p, lastK);
    }
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
  return {
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
  };
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
