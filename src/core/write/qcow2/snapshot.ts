/**
 * `qemu-img snapshot -c NAME` (QEMU 7.2 qcow2_snapshot_create(), block/qcow2-snapshot.c): copy
 * the active L1 table, take one more reference on every L2 table and data cluster it reaches
 * (qcow2_update_snapshot_refcount()), then write a new snapshot table (qcow2_write_snapshots())
 * and free the old one.
 */

import { UnsupportedError } from '../../errors.ts';
import {
  L1E_OFFSET_MASK,
  L2E_OFFSET_MASK,
  QCOW_OFLAG_COMPRESSED,
  QCOW_OFLAG_COPIED,
} from '../../qcow2/l2entry.ts';
import { roundUp } from '../image.ts';
import type { Qcow2Tables } from './tables.ts';

export interface SnapshotOptions {
  /** Creation time (seconds since the epoch); defaults to now. */
  readonly dateSec?: number;
  readonly dateNsec?: number;
}

/**
 * `qemu-img snapshot -c NAME` (qcow2_snapshot_create()): copy the active L1 table, take one
 * more reference on every L2 table and data cluster it reaches (clearing their copied flags,
 * qcow2_update_snapshot_refcount()), then write a new snapshot table and free the old one.
 */
export function snapshotCreate(w: Qcow2Tables, name: string, opts: SnapshotOptions = {}): void {
  const now = Date.now();
  const dateSec = opts.dateSec ?? Math.floor(now / 1000);
  const dateNsec = opts.dateNsec ?? (now % 1000) * 1_000_000;
  let maxId = 0;
  for (const s of w.snapshots) maxId = Math.max(maxId, Number.parseInt(s.id, 10) || 0);
  const l1Bytes = w.l1Size * 8;
  const l1Offset = w.rc.alloc(l1Bytes);
  w.file.write(l1Offset, w.file.readPadded(w.l1Offset, l1Bytes));
  updateSnapshotRefcount(w);
  w.snapshots.push({
    id: String(maxId + 1),
    name,
    l1Offset,
    l1Size: w.l1Size,
    dateSec,
    dateNsec,
    diskSize: w.length,
  });
  writeSnapshots(w);
}

export function updateSnapshotRefcount(w: Qcow2Tables): void {
  const cs = w.clusterSize;
  for (let i = 0; i < w.l1Size; i++) {
    const l1e = w.l1Entry(i);
    const l2 = Number(l1e & L1E_OFFSET_MASK);
    if (!l2) continue;
    for (let j = 0; j < w.l2Entries; j++) {
      const old = w.entry(l2, j);
      let e = old & ~QCOW_OFLAG_COPIED;
      if (e & QCOW_OFLAG_COMPRESSED) {
        throw new UnsupportedError(
          { file: w.file.name, structure: 'L2 entry' },
          'the writer does not snapshot compressed clusters',
        );
      }
      const host = Number(e & L2E_OFFSET_MASK);
      let refcount = 0;
      if (host) {
        w.rc.ref(host, cs);
        refcount = w.rc.get(host / cs);
      }
      if (refcount === 1) e |= QCOW_OFLAG_COPIED;
      if (e !== old) w.setEntry(l2, j, e);
    }
    w.rc.ref(l2, cs);
    const next = w.rc.get(l2 / cs) === 1 ? BigInt(l2) | QCOW_OFLAG_COPIED : BigInt(l2);
    if (next !== l1e) w.file.setU64(w.l1Offset + i * 8, next);
  }
}

/** qcow2_write_snapshots(): 40-byte header, 24 bytes of extra data, id, name; 8-byte aligned. */
export function writeSnapshots(w: Qcow2Tables): void {
  const enc = new TextEncoder();
  const encoded = w.snapshots.map((s) => ({ s, id: enc.encode(s.id), name: enc.encode(s.name) }));
  let size = 0;
  for (const x of encoded) size = roundUp(size, 8) + 40 + 24 + x.id.length + x.name.length;
  const table = w.rc.alloc(size);
  let at = table;
  const f = w.file;
  for (const { s, id, name } of encoded) {
    at = roundUp(at, 8);
    f.setU64(at, BigInt(s.l1Offset));
    f.setU32(at + 8, s.l1Size);
    f.setU16(at + 12, id.length);
    f.setU16(at + 14, name.length);
    f.setU32(at + 16, s.dateSec);
    f.setU32(at + 20, s.dateNsec);
    f.setU64(at + 24, 0n);
    f.setU32(at + 32, 0);
    f.setU32(at + 36, 24);
    f.setU64(at + 40, 0n);
    f.setU64(at + 48, BigInt(s.diskSize));
    f.setU64(at + 56, 0n);
    f.write(at + 64, id);
    f.write(at + 64 + id.length, name);
    at += 64 + id.length + name.length;
  }
  f.setU32(60, w.snapshots.length);
  f.setU64(64, BigInt(table));
  w.rc.free(w.snapshotsOffset, w.snapshotsSize);
  w.snapshotsOffset = table;
  w.snapshotsSize = size;
}
