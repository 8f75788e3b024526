/**
 * Turns core's partial chain status into provisional sessions, throttled: the first part of
 * the map is posted at once (that is what paints the first cells), later parts at most every
 * PARTIAL_INTERVAL_MS, since each one costs a resolve, the interpretations and a copy of the
 * extents so far. The final `opened` replaces the last provisional session.
 */

import type { ChainStatus } from '../core/status/resolve.ts';
import type { DroppedChain } from './chainFiles.ts';
import { Session } from './session.ts';

/** Time between two partial maps; the first is posted without waiting. */
export const PARTIAL_INTERVAL_MS = 250;

export function partialPoster(
  post: (s: Session, end: number) => void,
  dropped: DroppedChain,
  now: () => number = () => performance.now(),
): (st: () => ChainStatus, end: number) => void {
  let last = Number.NEGATIVE_INFINITY;
  const length = dropped.chain.layers[0]!.length;
  return (st, end) => {
    if (end >= length) return; // the full result follows at once
    const t = now();
    if (t - last < PARTIAL_INTERVAL_MS) return;
    last = t;
    post(new Session(dropped, st()), end);
  };
}

/** Time between two progress events: each one re-renders the page (2048 tables = 2048 renders). */
export const PROGRESS_INTERVAL_MS = 50;

/** True when a progress event is due: the first, the last of a layer, or PROGRESS_INTERVAL_MS after the previous. */
export function progressThrottle(
  now: () => number = () => performance.now(),
): (done: number, total: number) => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return (done, total) => {
    const t = now();
    if (done < total && t - last < PROGRESS_INTERVAL_MS) return false;
    last = t;
    return true;
  };
}
