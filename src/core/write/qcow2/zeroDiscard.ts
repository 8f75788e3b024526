/**
 * Write zeroes and discard (QEMU 7.2 qcow2_co_pwrite_zeroes() -> qcow2_subcluster_zeroize(),
 * qcow2_co_pdiscard() -> qcow2_cluster_discard(), block/qcow2-cluster.c), as the block layer
 * hands them over (bdrv_co_do_pwrite_zeroes(), bdrv_co_pdiscard() split requests at their
 * alignment), and qcow2_make_empty() as `qemu-img commit` calls it on the top.
 */
import {
  L2E_OFFSET_MASK,
  QCOW_L2_BITMAP_ALL_ZEROES,
  QCOW_OFLAG_COMPRESSED,
  QCOW_OFLAG_ZERO,
  qcowOflagSubAllocRange,
  qcowOflagSubZeroRange,
} from '../../qcow2/l2entry.ts';
import {
  KIND_UNALLOCATED_ALLOC,
  KIND_UNALLOCATED_PLAIN,
  KIND_ZERO_ALLOC,
  KIND_ZERO_PLAIN,
} from '../../status/kinds.ts';
import { isZero, roundDown, roundUp } from '../image.ts';
import { pwrite } from './allocate.ts';
import { updateHeader } from './create.ts';
import type { Qcow2Node } from './tables.ts';

/** Largest request QEMU's qcow2_make_empty() discards at once: QEMU_ALIGN_DOWN(INT_MAX, cluster). */
const INT_MAX = 0x7fffffff;

/**
 * qemu-io `write -z [-u]`: bdrv_co_do_pwrite_zeroes() splits the request at subcluster
 * boundaries (pwrite_zeroes_alignment); a piece the driver refuses (-ENOTSUP) is written as
 * a buffer of zeros, i.e. as data.
 */
export function pwriteZeroes(w: Qcow2Node, offset: number, length: number, unmap = false): void {
  forEachAlignedPiece(offset, length, w.subclusterSize, (pos, num) => {
    if (!driverZeroes(w, pos, num, unmap)) pwrite(w, pos, new Uint8Array(num));
  });
}

/** qcow2_co_pwrite_zeroes(): false for -ENOTSUP. */
export function driverZeroes(w: Qcow2Node, offset: number, bytes: number, unmap: boolean): boolean {
  const sub = w.subclusterSize;
  const head = offset % sub;
  let tail = roundUp(offset + bytes, sub) - (offset + bytes);
  if (offset + bytes === w.length) tail = 0;
  if (head || tail) {
    // A partial subcluster: only if the rest of it already reads as zero.
    if (!(isZero(w, offset - head, head) && isZero(w, offset + bytes, tail))) return false;
    const start = offset - head;
    const k = w.kindAt(start);
    if (
      k !== KIND_UNALLOCATED_PLAIN &&
      k !== KIND_UNALLOCATED_ALLOC &&
      k !== KIND_ZERO_PLAIN &&
      k !== KIND_ZERO_ALLOC
    ) {
      return false;
    }
    return zeroize(w, start, sub, unmap);
  }
  return zeroize(w, offset, bytes, unmap);
}

/**
 * qcow2_subcluster_zeroize(). Version 2 has no zero flag: without a backing file QEMU
 * discards instead (the clusters become unallocated); with one it refuses (-ENOTSUP) and the
 * block layer writes zeros as data.
 */
export function zeroize(w: Qcow2Node, offset: number, bytes: number, unmap: boolean): boolean {
  const cs = w.clusterSize;
  if (w.version < 3) {
    if (w.backing) return false;
    clusterDiscard(w, offset, bytes, false);
    return true;
  }
  let end = offset + bytes;
  const head = Math.min(end, roundUp(offset, cs)) - offset;
  let pos = offset + head;
  const tail = end >= w.length ? 0 : end - Math.max(pos, roundDown(end, cs));
  end -= tail;
  if (head) zeroSubclusters(w, offset, Math.ceil(head / w.subclusterSize));
  let nb = Math.ceil((end - pos) / cs);
  while (nb > 0) {
    const done = zeroInL2Table(w, pos, nb, unmap);
    nb -= done;
    pos += done * cs;
  }
  if (tail) zeroSubclusters(w, end, Math.ceil(tail / w.subclusterSize));
  return true;
}

/** zero_l2_subclusters(): part of one cluster with extended L2 entries. */
export function zeroSubclusters(w: Qcow2Node, offset: number, count: number): void {
  const { l2, index } = w.clusterTable(offset);
  const sc = Math.floor((offset % w.clusterSize) / w.subclusterSize);
  const bm = w.bitmap(l2, index);
  const next = (bm | qcowOflagSubZeroRange(sc, sc + count)) & ~qcowOflagSubAllocRange(sc, sc + count);
  if (next !== bm) w.setBitmap(l2, index, next);
}

/** zero_in_l2_slice(): whole clusters of one L2 table; returns how many it handled. */
export function zeroInL2Table(w: Qcow2Node, offset: number, nb: number, unmap: boolean): number {
  return updateSlice(w, offset, nb, (old, oldBm) => {
    const doUnmap = (old & QCOW_OFLAG_COMPRESSED) !== 0n || (unmap && allocated(old));
    const kept = doUnmap ? 0n : old;
    const next = w.extendedL2 ? kept : kept | QCOW_OFLAG_ZERO;
    return { next, nextBm: w.extendedL2 ? QCOW_L2_BITMAP_ALL_ZEROES : oldBm, free: doUnmap };
  });
}

/** qcow2_cluster_is_allocated(): NORMAL, ZERO_ALLOC or COMPRESSED. */
const allocated = (e: bigint): boolean => (e & QCOW_OFLAG_COMPRESSED) !== 0n || (e & L2E_OFFSET_MASK) !== 0n;

/**
 * The entries of one L2 table from `offset` on, at most `nb` (the table allocated or copied
 * first, as QEMU's *_in_l2_slice() get it): each entry is replaced by what `change` returns when
 * that differs, and its old cluster freed after when `free` says so. Returns how many it handled.
 */
function updateSlice(
  w: Qcow2Node,
  offset: number,
  nb: number,
  change: (old: bigint, oldBm: bigint) => { next: bigint; nextBm: bigint; free: boolean },
): number {
  const { l2, index } = w.clusterTable(offset);
  const n = Math.min(nb, w.l2Entries - index);
  for (let i = index; i < index + n; i++) {
    const old = w.entry(l2, i);
    const oldBm = w.bitmap(l2, i);
    const { next, nextBm, free } = change(old, oldBm);
    if (next === old && nextBm === oldBm) continue;
    w.setEntry(l2, i, next);
    if (w.extendedL2) w.setBitmap(l2, i, nextBm);
    if (free) w.freeAnyCluster(old);
  }
  return n;
}

/**
 * qemu-io `discard`: bdrv_co_pdiscard() splits at cluster boundaries; qcow2_co_pdiscard()
 * ignores partial clusters (except a whole last cluster of an unaligned image) and, on a
 * version 2 image with a backing file, everything: without a zero flag a discarded cluster
 * would show the backing file's data.
 */
export function pdiscard(w: Qcow2Node, offset: number, length: number): void {
  forEachAlignedPiece(offset, length, w.clusterSize, (pos, num) => driverDiscard(w, pos, num));
}

export function driverDiscard(w: Qcow2Node, offset: number, bytes: number): void {
  const cs = w.clusterSize;
  if (w.version < 3 && w.backing) return;
  if ((offset % cs || bytes % cs) && (offset % cs || offset + bytes !== w.length)) return;
  clusterDiscard(w, offset, bytes, false);
}

/** qcow2_cluster_discard(). A "full" discard leaves the clusters unallocated (backing shows through). */
export function clusterDiscard(w: Qcow2Node, offset: number, bytes: number, full: boolean): void {
  let nb = Math.ceil(bytes / w.clusterSize);
  let pos = offset;
  while (nb > 0) {
    const done = discardInL2Table(w, pos, nb, full);
    nb -= done;
    pos += done * w.clusterSize;
  }
}

/** discard_in_l2_slice() (7.2: no discard-no-unref). Like QEMU, it allocates a missing L2 table. */
export function discardInL2Table(w: Qcow2Node, offset: number, nb: number, full: boolean): number {
  return updateSlice(w, offset, nb, (old, oldBm) => {
    if (full) return { next: 0n, nextBm: 0n, free: true };
    if (!w.backing && !allocated(old)) return { next: old, nextBm: oldBm, free: true };
    if (w.extendedL2) return { next: 0n, nextBm: QCOW_L2_BITMAP_ALL_ZEROES, free: true };
    return { next: w.version >= 3 ? QCOW_OFLAG_ZERO : 0n, nextBm: oldBm, free: true };
  });
}

/**
 * bdrv_make_empty() as `qemu-img commit` calls it on the top after copying
 * (qcow2_make_empty()): a v3 image without snapshots is reset to a fresh layout
 * (make_completely_empty()) unless it has snapshots or persistent bitmaps; otherwise every cluster is discarded with full_discard, which
 * leaves L2 entries 0 so that the backing file shows through (and allocates L2 tables).
 */
export function makeEmpty(w: Qcow2Node): void {
  const cs = w.clusterSize;
  const l1Clusters = Math.ceil(w.l1Size / (cs / 8));
  // Not with persistent bitmaps: emptying completely would drop them (s->nb_bitmaps).
  if (
    w.version >= 3 &&
    w.snapshots.length === 0 &&
    w.storedBitmaps === 0 &&
    3 + l1Clusters <= w.rc.blockEntries
  ) {
    w.file.fill(w.l1Offset, l1Clusters * cs, 0);
    w.file.fill(cs, (2 + l1Clusters) * cs, 0);
    w.l1Offset = 3 * cs;
    w.st.reftableOffset = cs;
    w.st.reftableClusters = 1;
    w.file.setU64(cs, BigInt(2 * cs));
    w.st.freeClusterIndex = 0;
    const first = w.rc.alloc(3 * cs + w.l1Size * 8);
    if (first !== 0) throw w.corrupt(0, 'First cluster in emptied image is in use');
    updateHeader(w);
    w.file.truncate((3 + l1Clusters) * cs);
    return;
  }
  const step = roundDown(INT_MAX, cs);
  for (let offset = 0; offset < w.length; offset += step) {
    clusterDiscard(w, offset, Math.min(step, w.length - offset), true);
  }
}

/**
 * How the block layer splits a request before the driver sees it (bdrv_co_do_pwrite_zeroes(),
 * bdrv_co_pdiscard()): an unaligned head up to the next `align` boundary, then the aligned
 * middle in one piece, then the unaligned tail.
 */
function forEachAlignedPiece(
  offset: number,
  length: number,
  align: number,
  piece: (pos: number, num: number) => void,
): void {
  let head = offset % align;
  const tail = (offset + length) % align;
  let pos = offset;
  let left = length;
  while (left > 0) {
    let num = left;
    if (head) {
      num = Math.min(left, align - head);
      head = (head + num) % align;
    } else if (tail && num > align) {
      num -= tail;
    }
    piece(pos, num);
    pos += num;
    left -= num;
  }
}
