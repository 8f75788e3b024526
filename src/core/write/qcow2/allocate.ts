/**
 * Writing guest data (QEMU 7.2 qcow2_co_pwritev_part() -> qcow2_alloc_host_offset(),
 * block/qcow2-cluster.c): clusters with the copied flag are written in place (handle_copied()),
 * the others get new host clusters, allocated together per run (handle_alloc(),
 * qcow2_alloc_cluster_offset()), with copy-on-write of the parts not written (calculate_l2_meta(),
 * perform_cow()); the replaced clusters are freed after the L2 update
 * (qcow2_alloc_cluster_link_l2()).
 */
import {
  L2E_OFFSET_MASK,
  QCOW_OFLAG_COMPRESSED,
  QCOW_OFLAG_COPIED,
  qcowOflagSubAllocRange,
  qcowOflagSubZeroRange,
} from '../../qcow2/l2entry.ts';
import {
  KIND_COMPRESSED,
  KIND_ERROR,
  KIND_NORMAL,
  KIND_UNALLOCATED_PLAIN,
  KIND_ZERO_PLAIN,
} from '../../status/kinds.ts';
import { roundDown, roundUp } from '../image.ts';
import { readGuest } from './blockStatus.ts';
import type { Qcow2Tables } from './tables.ts';

/** cluster_needs_new_alloc(): only clusters with refcount 1 (copied flag) are written in place. */
export function needsNewAlloc(e: bigint): boolean {
  if (e & QCOW_OFLAG_COMPRESSED) return true;
  if (!(e & L2E_OFFSET_MASK)) return true;
  return !(e & QCOW_OFLAG_COPIED);
}

/**
 * qcow2_co_pwritev_part() -> qcow2_alloc_host_offset(): runs of clusters written in place
 * (handle_copied()) and runs allocated together (handle_alloc()), each new run placed right
 * after the previous one if those clusters are free, else first-fit.
 */
export function pwrite(w: Qcow2Tables, offset: number, data: Uint8Array): void {
  const cs = w.clusterSize;
  const end = offset + data.length;
  let pos = offset;
  let nextHost = -1;
  while (pos < end) {
    const cStart = roundDown(pos, cs);
    const { l2, index } = w.clusterTable(cStart);
    const e = w.entry(l2, index);
    if (!needsNewAlloc(e)) {
      const host = Number(e & L2E_OFFSET_MASK);
      if (nextHost >= 0 && host !== nextHost) {
        nextHost = -1;
        continue;
      }
      const stop = Math.min(end, cStart + cs);
      writeInPlace(
        w,
        cStart,
        l2,
        index,
        pos - cStart,
        stop - cStart,
        data.subarray(pos - offset, stop - offset),
      );
      nextHost = host + cs;
      pos = stop;
      continue;
    }
    const maxRun = Math.min(Math.ceil((end - cStart) / cs), w.l2Entries - index);
    let nb = 1;
    while (nb < maxRun && needsNewAlloc(w.entry(l2, index + nb))) nb++;
    let host: number;
    let k: number;
    if (nextHost >= 0) {
      k = w.rc.allocAt(nextHost, nb);
      if (k === 0) {
        nextHost = -1;
        continue;
      }
      host = nextHost;
    } else {
      host = w.rc.alloc(nb * cs);
      k = nb;
    }
    const old: bigint[] = [];
    for (let i = 0; i < k; i++) {
      const c = cStart + i * cs;
      const a = Math.max(pos, c);
      const b = Math.min(end, c + cs);
      old.push(
        writeNewCluster(
          w,
          c,
          l2,
          index + i,
          host + i * cs,
          a - c,
          b - c,
          data.subarray(a - offset, b - offset),
        ),
      );
    }
    // qcow2_alloc_cluster_link_l2(): the replaced clusters are freed after the L2 update.
    for (const e0 of old) w.freeAnyCluster(e0);
    nextHost = host + k * cs;
    pos = Math.min(end, cStart + k * cs);
  }
}

/** The cluster's guest content with `chunk` laid over [a, b). */
export function merged(w: Qcow2Tables, c: number, a: number, chunk: Uint8Array): Uint8Array {
  const content = readGuest(w, c, w.clusterSize);
  content.set(chunk, a);
  return content;
}

/** A cluster with the copied flag (calculate_l2_meta(keep_old = true)). */
export function writeInPlace(
  w: Qcow2Tables,
  c: number,
  l2: number,
  i: number,
  a: number,
  b: number,
  chunk: Uint8Array,
): void {
  const cs = w.clusterSize;
  const sub = w.subclusterSize;
  const e = w.entry(l2, i);
  const bm = w.bitmap(l2, i);
  const host = Number(e & L2E_OFFSET_MASK);
  const scA = Math.floor(a / sub);
  const scB = Math.floor((b - 1) / sub);
  let allNormal = true;
  for (let sc = scA; sc <= scB; sc++) {
    const k = w.kindOf(e, bm, sc);
    if (k === KIND_ERROR) throw w.corrupt(c, 'invalid subcluster allocation bitmap');
    if (k !== KIND_NORMAL) allNormal = false;
  }
  if (allNormal) {
    w.file.write(host + a, chunk);
    return;
  }
  // A ZERO_ALLOC (or UNALLOCATED_ALLOC) start or end: copy-on-write to subcluster bounds.
  const from = w.kindOf(e, bm, scA) === KIND_NORMAL ? a : scA * sub;
  const to = w.kindOf(e, bm, scB) === KIND_NORMAL ? b : Math.min(cs, roundUp(b, sub));
  writeAndLink(w, c, l2, i, host, bm, from, to, a, chunk);
}

/**
 * A newly allocated host cluster (calculate_l2_meta(keep_old = false) and perform_cow()):
 * without subclusters the whole cluster is written; with them, only the written subclusters
 * and the allocated ones between them. Returns the replaced entry.
 */
export function writeNewCluster(
  w: Qcow2Tables,
  c: number,
  l2: number,
  i: number,
  host: number,
  a: number,
  b: number,
  chunk: Uint8Array,
): bigint {
  const cs = w.clusterSize;
  const sub = w.subclusterSize;
  const e = w.entry(l2, i);
  const bm = w.bitmap(l2, i);
  let from = 0;
  let to = cs;
  if (w.extendedL2) {
    const scA = Math.floor(a / sub);
    const scB = Math.floor((b - 1) / sub);
    const alloc = Number(bm & 0xffffffffn);
    const kA = w.kindOf(e, bm, scA);
    const kB = w.kindOf(e, bm, scB);
    if (kA === KIND_ERROR || kB === KIND_ERROR) throw w.corrupt(c, 'invalid subcluster allocation bitmap');
    const ctz = alloc === 0 ? 32 : 31 - Math.clz32(alloc & -alloc);
    const clz = Math.clz32(alloc);
    if (kA === KIND_COMPRESSED) from = 0;
    else if (kA === KIND_ZERO_PLAIN || kA === KIND_UNALLOCATED_PLAIN) from = scA * sub;
    else from = Math.min(scA, ctz) * sub;
    if (kB === KIND_COMPRESSED) to = cs;
    else if (kB === KIND_ZERO_PLAIN || kB === KIND_UNALLOCATED_PLAIN) to = roundUp(b, sub);
    else to = cs - Math.min(31 - scB, clz) * sub;
  }
  writeAndLink(w, c, l2, i, host, bm, from, to, a, chunk);
  return e;
}

/**
 * perform_cow() and the L2 update of qcow2_alloc_cluster_link_l2(): the cluster's guest content
 * with `chunk` over [a, a + chunk.length) is written to host [from, to) of the cluster, the
 * entry points at `host` with the copied flag, and with subclusters [from, to) become allocated.
 */
function writeAndLink(
  w: Qcow2Tables,
  c: number,
  l2: number,
  i: number,
  host: number,
  bm: bigint,
  from: number,
  to: number,
  a: number,
  chunk: Uint8Array,
): void {
  const sub = w.subclusterSize;
  const content = merged(w, c, a, chunk);
  w.file.write(host + from, content.subarray(from, to));
  w.setEntry(l2, i, BigInt(host) | QCOW_OFLAG_COPIED);
  if (w.extendedL2) {
    const r0 = Math.floor(from / sub);
    const r1 = Math.floor((to - 1) / sub) + 1;
    w.setBitmap(l2, i, (bm | qcowOflagSubAllocRange(r0, r1)) & ~qcowOflagSubZeroRange(r0, r1));
  }
}
