/**
 * Bins of a new range estimated from bins already computed (issue 14: zoom and pan that never
 * wait for the worker). A view that changes asks the source for exact bins; until they arrive,
 * the page draws this estimate from the sets it holds (the last frames, the whole image), finest
 * first, as map viewers draw a scaled tile before the sharp one. Each new bin takes, per class,
 * the overlap-weighted mean of the old bins it covers; a finer set that covers only part of a
 * bin leaves the rest to coarser ones. What no set covers stays empty (no class), which the
 * painter shows as empty, never as a guess.
 */
export interface BinSet {
  readonly start: number;
  readonly end: number;
  readonly n: number;
  readonly classes: number;
  readonly fractions: Float32Array;
}

/** Shares below this are noise from floating-point edges, not coverage. */
const COVERED = 1 - 1e-9;

export function resampleBins(
  sets: readonly BinSet[],
  start: number,
  end: number,
  n: number,
  classes: number,
): Float32Array {
  const out = new Float32Array(Math.max(0, n) * classes);
  if (n <= 0 || end <= start) return out;
  const covered = new Float64Array(n);
  const width = (end - start) / n;
  const usable = sets
    .filter((s) => s.classes === classes && s.n > 0 && s.end > s.start && s.end > start && s.start < end)
    .sort((a, b) => (a.end - a.start) / a.n - (b.end - b.start) / b.n);
  for (const s of usable) {
    const w = (s.end - s.start) / s.n;
    const first = Math.max(0, Math.floor((s.start - start) / width));
    const last = Math.min(n - 1, Math.ceil((s.end - start) / width) - 1);
    for (let b = first; b <= last; b++) {
      const left = 1 - covered[b]!;
      if (left <= 1 - COVERED) continue;
      const a = start + b * width;
      const z = a + width;
      const A = Math.max(a, s.start);
      const Z = Math.min(z, s.end);
      if (Z <= A) continue;
      const share = (Z - A) / width;
      // The old bins over [A, Z): their mean, weighted by overlap, scaled to what is left to fill.
      const j0 = Math.max(0, Math.floor((A - s.start) / w));
      const j1 = Math.min(s.n - 1, Math.ceil((Z - s.start) / w) - 1);
      const base = b * classes;
      for (let j = j0; j <= j1; j++) {
        const lo = Math.max(A, s.start + j * w);
        const hi = Math.min(Z, s.start + (j + 1) * w);
        if (hi <= lo) continue;
        const k = (left * (hi - lo)) / width;
        const src = j * classes;
        for (let c = 0; c < classes; c++) out[base + c]! += s.fractions[src + c]! * k;
      }
      covered[b] = covered[b]! + left * share;
    }
  }
  return out;
}
