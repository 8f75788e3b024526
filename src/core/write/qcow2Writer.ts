/**
 * A qcow2 writer in memory, for the lessons and the sandbox: `qemu-img create` and qemu-io's
 * `write -P`, `write -z [-u]`, `discard`, plus `qemu-img snapshot -c` and the emptying step of
 * `qemu-img commit`, with QEMU 7.2's allocation semantics (block/qcow2.c, qcow2-cluster.c,
 * qcow2-refcount.c, qcow2-snapshot.c; reference §6.1). The image it writes opens in QEMU and
 * passes `qemu-img check` with no errors and no leaks.
 *
 * The work is done in qcow2/, split as QEMU splits it: create.ts (qcow2_co_create(),
 * qcow2_update_header()), allocate.ts (qcow2_alloc_host_offset(): handle_copied(),
 * handle_alloc()), zeroDiscard.ts (qcow2_subcluster_zeroize(), qcow2_cluster_discard(),
 * qcow2_make_empty()), snapshot.ts (qcow2_snapshot_create()), blockStatus.ts (reads and
 * qcow2_co_block_status()), bitmaps.ts (qcow2-bitmap.c and the block layer's dirty tracking),
 * on the image and its tables (tables.ts).
 *
 * Every public operation behaves like one qemu-io (or qemu-img) invocation: QEMU opens the image,
 * which resets the free-cluster search to the start of the file, does the operation, closes it.
 * State lives in the file; the object only caches the header's fields.
 */

import { OutOfRangeError } from './errors.ts';
import type { NodeStatus, WritableImage } from './image.ts';
import { pwrite } from './qcow2/allocate.ts';
import { type BitmapAction, bitmapAction, markDirty, storeBitmaps } from './qcow2/bitmaps.ts';
import { nodeStatus, readGuest } from './qcow2/blockStatus.ts';
import { createSize, layoutNewImage } from './qcow2/create.ts';
import { type SnapshotOptions, snapshotCreate } from './qcow2/snapshot.ts';
import { type Qcow2CreateOptions, Qcow2Tables } from './qcow2/tables.ts';
import { makeEmpty, pdiscard, pwriteZeroes } from './qcow2/zeroDiscard.ts';

export type { BitmapAction } from './qcow2/bitmaps.ts';
export type { SnapshotOptions } from './qcow2/snapshot.ts';
export type { BackingSpec, Qcow2CreateOptions } from './qcow2/tables.ts';

export class Qcow2Writer extends Qcow2Tables implements WritableImage {
  /** qemu-img create -f qcow2 (qcow2_co_create()). */
  static create(o: Qcow2CreateOptions): Qcow2Writer {
    const w = new Qcow2Writer(o, createSize(o));
    layoutNewImage(w);
    return w;
  }

  readGuest(offset: number, length: number): Uint8Array {
    return readGuest(this, offset, length);
  }

  /**
   * qcow2_co_block_status() through qcow2_get_host_offset() and count_contiguous_subclusters(),
   * then the generic layer's ALLOCATED / no-backing ZERO / beyond-backing-EOF ZERO (reference §3.3-3.6).
   */
  nodeStatus(offset: number, bytes: number): NodeStatus {
    return nodeStatus(this, offset, bytes);
  }

  /** qemu-io `write -P`: guest data at `offset`. */
  write(offset: number, data: Uint8Array): void {
    this.request(offset, data.length);
    pwrite(this, offset, data);
    markDirty(this, offset, data.length);
    this.close();
  }

  /** qemu-io `write -z [-u]`. */
  writeZeroes(offset: number, length: number, unmap = false): void {
    this.request(offset, length);
    pwriteZeroes(this, offset, length, unmap);
    markDirty(this, offset, length);
    this.close();
  }

  /** qemu-io `discard`: the range is dirty even where qcow2 keeps the clusters. */
  discard(offset: number, length: number): void {
    this.request(offset, length);
    pdiscard(this, offset, length);
    markDirty(this, offset, length);
    this.close();
  }

  /** `qemu-img snapshot -c NAME`. */
  snapshot(name: string, opts: SnapshotOptions = {}): void {
    this.open();
    snapshotCreate(this, name, opts);
    this.close();
  }

  /** bdrv_make_empty() as `qemu-img commit` calls it on the top after copying (a driver call: no bitmap is dirtied). */
  makeEmpty(): void {
    this.open();
    makeEmpty(this);
    this.close();
  }

  /** `qemu-img bitmap --ACTION FILE NAME` (one action per call). */
  dirtyBitmap(name: string, action: BitmapAction): void {
    this.open();
    bitmapAction(this, name, action);
    this.close();
  }

  /** A guest request inside the image, then one QEMU open. */
  private request(offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw new OutOfRangeError(this.file.name, offset, length, this.length);
    }
    if (offset + length > this.length) throw new OutOfRangeError(this.file.name, offset, length, this.length);
    this.open();
  }

  /** Each operation is one QEMU open: the free-cluster search starts over (s->free_cluster_index = 0). */
  private open(): void {
    this.st.freeClusterIndex = 0;
  }

  /** ... and one close, which stores the persistent bitmaps (qcow2_inactivate()). */
  private close(): void {
    storeBitmaps(this);
  }
}
