/**
 * Bins resolved chain status into `n` equal slices of the guest range [start, end): for each
 * bin, the fraction of its bytes in each class (protocol.ts BIN_*). Classes overlap (a byte is
 * both ZERO and a HOLE), so each class is a fraction on its own. Cost is O(extents in range +
 * bins): the heatmap asks again on every zoom, never for more bins than it has pixels.
 */
import { nbdDepth, nbdFlags } from '../core/interpret/nbd.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_COMPRESSED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_ZERO,
} from '../core/status/flags.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import {
  BIN_ABSENT,
  BIN_COMPRESSED,
  BIN_DATA,
  BIN_DEPTH,
  BIN_ERROR,
  BIN_HOLE,
  BIN_HOLE_52,
  BIN_TOP,
  BIN_ZERO,
  binClassCount,
} from './protocol.ts';

/** End of the mapped bytes: where the walk stopped on an error, else the image length. */
export function mappedEnd(st: ChainStatus): number {
  const e = st.extents;
  if (!st.error || e.count === 0) return st.error ? 0 : st.length;
  return e.start[e.count - 1]! + e.length[e.count - 1]!;
}

/** Index of the first extent that ends after `pos` (extents are sorted and contiguous). */
function firstEndingAfter(st: ChainStatus, pos: number): number {
  const e = st.extents;
  let lo = 0;
  let hi = e.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (e.start[mid]! + e.length[mid]! <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function binStatus(st: ChainStatus, start: number, end: number, n: number): Float32Array {
  const classes = binClassCount(st.chain.layers.length);
  const out = new Float32Array(n * classes);
  if (n <= 0 || end <= start) return out;
  const span = end - start;
  const binStart = (b: number) => start + (span * b) / n;
  const binOf = (pos: number) => Math.min(n - 1, Math.max(0, Math.floor(((pos - start) * n) / span)));
  const add = (from: number, to: number, cls: number[]) => {
    if (to <= from) return;
    for (let b = binOf(from); b < n; b++) {
      const a = Math.max(from, binStart(b));
      const z = Math.min(to, binStart(b + 1));
      if (z <= a) break;
      for (const c of cls) out[b * classes + c]! += z - a;
    }
  };

  const e = st.extents;
  const cls: number[] = [];
  for (let i = firstEndingAfter(st, start); i < e.count && e.start[i]! < end; i++) {
    const f = e.flags[i]!;
    const nf = nbdFlags(st, i);
    cls.length = 0;
    if (f & BDRV_BLOCK_DATA) cls.push(BIN_DATA);
    if (f & BDRV_BLOCK_ZERO) cls.push(BIN_ZERO);
    if (!(f & BDRV_BLOCK_ALLOCATED)) cls.push(BIN_ABSENT);
    if (!(nf & BDRV_BLOCK_DATA)) cls.push(BIN_HOLE);
    if (!(nf & BDRV_BLOCK_ALLOCATED)) cls.push(BIN_HOLE_52);
    if (f & BDRV_BLOCK_ALLOCATED && e.layer[i] === 0) cls.push(BIN_TOP);
    if (f & BDRV_BLOCK_COMPRESSED) cls.push(BIN_COMPRESSED);
    cls.push(BIN_DEPTH + nbdDepth(st, i));
    add(Math.max(start, e.start[i]!), Math.min(end, e.start[i]! + e.length[i]!), cls);
  }
  if (st.error) add(Math.max(start, mappedEnd(st)), Math.min(end, st.length), [BIN_ERROR]);

  for (let b = 0; b < n; b++) {
    const w = binStart(b + 1) - binStart(b);
    for (let c = 0; c < classes; c++) out[b * classes + c]! /= w;
  }
  return out;
}
