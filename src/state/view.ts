/**
 * The visible guest range and the pure arithmetic of moving it: zoom about an anchor, pan,
 * reset. Offsets are guest byte offsets; the range is half-open [start, end).
 */
export interface ViewRange {
  readonly start: number;
  readonly end: number;
}

/** Smallest range one may zoom to: a few clusters, so the grid still has cells to show. */
export const minViewLength = (clusterSize: number, length: number): number =>
  Math.min(length, 4 * clusterSize);

export function clampView(v: ViewRange, length: number, minLen: number): ViewRange {
  let len = Math.min(length, Math.max(minLen, v.end - v.start));
  if (!Number.isFinite(len) || len <= 0) len = length;
  const start = Math.min(Math.max(0, v.start), length - len);
  return { start: Math.round(start), end: Math.round(start) + Math.round(len) };
}

/** Zooms in by `factor` (> 1 in, < 1 out) keeping guest offset `anchor` where it is. */
export function zoomView(
  v: ViewRange,
  factor: number,
  anchor: number,
  length: number,
  minLen: number,
): ViewRange {
  const a = Math.min(Math.max(anchor, v.start), v.end);
  const len = (v.end - v.start) / factor;
  const clampedLen = Math.min(length, Math.max(minLen, len));
  const f = (v.end - v.start) / clampedLen;
  const start = a - (a - v.start) / f;
  return clampView({ start, end: start + clampedLen }, length, minLen);
}

export const panView = (v: ViewRange, bytes: number, length: number, minLen: number): ViewRange =>
  clampView({ start: v.start + bytes, end: v.end + bytes }, length, minLen);

export const fullView = (length: number): ViewRange => ({ start: 0, end: length });
