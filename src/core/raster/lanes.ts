/**
 * Lanes on one guest axis, from any source: each lane is runs and one class per run. The one
 * raster of lanes (px bins per lane) and the one hit test on them (the stretch of one class
 * around an offset, which a click on a lane highlights everywhere).
 */
import type { Cancellation } from '../cancel.ts';
import type { Runs } from '../runs/runs.ts';
import { runAt } from '../runs/runs.ts';
import { Binner, MAX_BINS } from './bins.ts';

/** One lane to be rastered: runs and the one class of each run (-1: none). */
export interface LaneRuns {
  readonly runs: Runs;
  readonly classOf: (i: number) => number;
}

/**
 * Lanes x px bins over `classes` classes, lane after lane (protocol Lanes), pausing at `signal`'s
 * cancellation points (Binner.addRunsPaced).
 */
export async function rasterLanes(
  lanes: readonly (LaneRuns | undefined)[],
  classes: number,
  start: number,
  end: number,
  px: number,
  signal?: Cancellation,
): Promise<Float32Array> {
  const n = Math.min(Math.max(0, px), MAX_BINS);
  const out = new Float32Array(lanes.length * n * classes);
  for (const [k, l] of lanes.entries()) {
    if (!l || end <= start) continue;
    const b = new Binner(start, end, n, classes);
    await b.addRunsPaced(
      l.runs,
      (i, cls) => {
        const c = l.classOf(i);
        if (c < 0) return 0;
        cls[0] = c;
        return 1;
      },
      signal,
    );
    out.set(b.fractions, k * n * classes);
  }
  return out;
}

/** A stretch of one class in one lane: [start, end). */
export interface LaneSpan {
  readonly start: number;
  readonly end: number;
  readonly cls: number;
}

/**
 * Runs looked at on each side of the offset while growing its span: a lane of a million runs of
 * one class split at every L2 table would otherwise be walked whole for one click. A span cut
 * here says so (`cut`), and still holds the offset.
 */
export const MAX_SPAN_RUNS = 1 << 16;

/**
 * The stretch of `pos`'s class in each lane: its run, grown over touching runs of the same class
 * (the raster's picture of it), or null where the lane has nothing at `pos`.
 */
export function laneSpansAt(
  lanes: readonly (LaneRuns | undefined)[],
  pos: number,
): ((LaneSpan & { readonly cut: boolean }) | null)[] {
  return lanes.map((l) => {
    if (!l) return null;
    const r = l.runs;
    const i = runAt(r, pos);
    if (i < 0) return null;
    const cls = l.classOf(i);
    if (cls < 0) return null;
    let a = i;
    let b = i;
    const same = (j: number, k: number) =>
      r.start[j]! + r.length[j]! === r.start[k]! && l.classOf(j) === cls && l.classOf(k) === cls;
    while (a > 0 && i - a < MAX_SPAN_RUNS && same(a - 1, a)) a--;
    while (b + 1 < r.count && b - i < MAX_SPAN_RUNS && same(b, b + 1)) b++;
    const cut = (a > 0 && i - a >= MAX_SPAN_RUNS) || (b + 1 < r.count && b - i >= MAX_SPAN_RUNS);
    return { start: r.start[a]!, end: r.start[b]! + r.length[b]!, cls, cut };
  });
}
