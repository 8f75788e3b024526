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
  const edge = (b: number) => start + (span * b) / n;
  const binOf = (pos: number) => Math.min(n - 1, Math.max(0, Math.floor(((pos - start) * n) / span)));
  // The classes of the extent being added: cls[0..m).
  const cls = new Int32Array(classes);
  let m = 0;
  // Adds [from, to) to every bin it overlaps, as the share of that bin's width (no pass over all
  // bins and classes afterwards: this runs on every zoom and every partial map).
  const add = (from: number, to: number) => {
    if (to <= from) return;
    let b = binOf(from);
    let lo = edge(b);
    while (b < n) {
      const hi = edge(b + 1);
      const a = Math.max(from, lo);
      const z = Math.min(to, hi);
      if (z <= a) break;
      const f = (z - a) / (hi - lo);
      const base = b * classes;
      for (let k = 0; k < m; k++) out[base + cls[k]!]! += f;
      lo = hi;
      b++;
    }
  };

  const e = st.extents;
  for (let i = firstEndingAfter(st, start); i < e.count && e.start[i]! < end; i++) {
    const f = e.flags[i]!;
    const nf = nbdFlags(st, i);
    m = 0;
    if (f & BDRV_BLOCK_DATA) cls[m++] = BIN_DATA;
    if (f & BDRV_BLOCK_ZERO) cls[m++] = BIN_ZERO;
    if (!(f & BDRV_BLOCK_ALLOCATED)) cls[m++] = BIN_ABSENT;
    if (!(nf & BDRV_BLOCK_DATA)) cls[m++] = BIN_HOLE;
    if (!(nf & BDRV_BLOCK_ALLOCATED)) cls[m++] = BIN_HOLE_52;
    if (f & BDRV_BLOCK_ALLOCATED && e.layer[i] === 0) cls[m++] = BIN_TOP;
    if (f & BDRV_BLOCK_COMPRESSED) cls[m++] = BIN_COMPRESSED;
    cls[m++] = BIN_DEPTH + nbdDepth(st, i);
    add(Math.max(start, e.start[i]!), Math.min(end, e.start[i]! + e.length[i]!));
  }
  if (st.error) {
    m = 0;
    cls[m++] = BIN_ERROR;
    add(Math.max(start, mappedEnd(st)), Math.min(end, st.length));
  }
  return out;
}
