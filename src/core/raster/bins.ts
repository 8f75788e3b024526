/**
 * The one raster (ARCHITECTURE.md): every picture of runs (the heatmap's cells, the lanes' pixel
 * columns, the diff, the host-file map) is `n` equal bins of a range [start, end), and each bin
 * holds, per class, the fraction of its bytes in that class. Classes may overlap (a byte is both
 * ZERO and an NBD hole), so each fraction stands on its own; bytes in no run are in no class.
 * What a pixel then shows is one rule for every view (mix.ts).
 *
 * Cost is O(runs in range + bins touched): views ask again on every zoom and pan, never for more
 * bins than they have pixels.
 */
import { type Cancellation, checkpoint } from '../cancel.ts';
import { firstEndingAfter, type Runs } from '../runs/runs.ts';

/**
 * Runs binned between two cancellation points when paced: binning 6 M runs (PAGE_MAX_EXTENTS)
 * took ~1 s on a loaded 2-core machine; 64 Ki runs take ~10 ms.
 */
export const RASTER_CHUNK_RUNS = 1 << 16;

/** Most bins one request may ask for: 4 Mi, far above a screen's pixels (a 4K screen has 8 Mi). */
export const MAX_BINS = 1 << 22;

export class Binner {
  /** n x classes, row-major: fraction of bin b's bytes in class c at b * classes + c. */
  readonly fractions: Float32Array;
  private readonly span: number;

  constructor(
    readonly start: number,
    readonly end: number,
    readonly n: number,
    readonly classes: number,
  ) {
    this.fractions = new Float32Array(Math.max(0, n) * classes);
    this.span = end - start;
  }

  private edge(b: number): number {
    return this.start + (this.span * b) / this.n;
  }

  /** Adds [from, to) to every bin it overlaps, as its share of each bin's width, in classes cls[0..m). */
  add(from: number, to: number, cls: Int32Array, m: number): void {
    const a0 = Math.max(from, this.start);
    const z0 = Math.min(to, this.end);
    if (z0 <= a0 || m === 0 || this.n <= 0) return;
    const { n, classes, fractions: out } = this;
    let b = Math.min(n - 1, Math.max(0, Math.floor(((a0 - this.start) * n) / this.span)));
    let lo = this.edge(b);
    while (b < n) {
      const hi = this.edge(b + 1);
      const a = Math.max(a0, lo);
      const z = Math.min(z0, hi);
      if (z <= a) {
        if (lo >= z0) break;
      } else {
        const f = (z - a) / (hi - lo);
        const base = b * classes;
        for (let k = 0; k < m; k++) out[base + cls[k]!]! += f;
      }
      lo = hi;
      b++;
    }
  }

  /**
   * Adds every run of `runs` overlapping the range: `classify(i, cls)` writes run i's classes
   * into `cls` and returns how many (0: the run is in no class).
   */
  addRuns(runs: Runs, classify: (i: number, cls: Int32Array) => number): void {
    this.addRunRange(
      runs,
      classify,
      firstEndingAfter(runs, this.start),
      runs.count,
      new Int32Array(this.classes),
    );
  }

  /**
   * addRuns() with a cancellation point every RASTER_CHUNK_RUNS runs: the worker bins maps of
   * millions of runs, and a newer open must not wait for the whole walk (core/cancel.ts).
   */
  async addRunsPaced(
    runs: Runs,
    classify: (i: number, cls: Int32Array) => number,
    signal: Cancellation | undefined,
  ): Promise<void> {
    const cls = new Int32Array(this.classes);
    for (let i = firstEndingAfter(runs, this.start); i < runs.count && runs.start[i]! < this.end; ) {
      i = this.addRunRange(runs, classify, i, Math.min(runs.count, i + RASTER_CHUNK_RUNS), cls);
      await checkpoint(signal);
    }
  }

  /** Adds runs [from, to) that overlap the range; returns where it stopped (past the range: to). */
  private addRunRange(
    runs: Runs,
    classify: (i: number, cls: Int32Array) => number,
    from: number,
    to: number,
    cls: Int32Array,
  ): number {
    let i = from;
    for (; i < to && runs.start[i]! < this.end; i++) {
      const m = classify(i, cls);
      if (m) this.add(runs.start[i]!, runs.start[i]! + runs.length[i]!, cls, m);
    }
    return i < to ? runs.count : to;
  }
}

/** Bins of [start, end) at `n` bins over `classes` classes, from one set of runs. */
export function binRuns(
  runs: Runs,
  classes: number,
  classify: (i: number, cls: Int32Array) => number,
  start: number,
  end: number,
  n: number,
): Float32Array {
  const b = new Binner(start, end, Math.min(Math.max(0, n), MAX_BINS), classes);
  if (end > start) b.addRuns(runs, classify);
  return b.fractions;
}
