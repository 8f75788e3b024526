/**
 * The one run type: guest (or host) ranges [start, start + length) in ascending order, held as
 * struct-of-arrays typed arrays (ARCHITECTURE.md: never one object per cluster). Block-status
 * extents, interpretations, diffs and host maps all carry these three fields and add their own
 * columns; every search over them goes through the two helpers here.
 */
export interface Runs {
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
}

/** Index of the first run that ends after `pos` (count when none does). Runs must not overlap. */
export function firstEndingAfter(r: Runs, pos: number): number {
  let lo = 0;
  let hi = r.count;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (r.start[m]! + r.length[m]! <= pos) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Index of the run holding `pos`, or -1 (a hit test). */
export function runAt(r: Runs, pos: number): number {
  const i = firstEndingAfter(r, pos);
  return i < r.count && r.start[i]! <= pos ? i : -1;
}

/** End of the last run, 0 for none. */
export const runsEnd = (r: Runs): number => (r.count ? r.start[r.count - 1]! + r.length[r.count - 1]! : 0);
