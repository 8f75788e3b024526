/**
 * What the writer's images have in common: an in-memory file, a virtual length, an optional
 * backing image, synchronous guest reads, and QEMU's per-node block status (the parts of it
 * the write paths consult: qcow2_co_pwrite_zeroes()'s is_zero() and the commit job's
 * mirror_iteration()).
 */
import { BDRV_BLOCK_ALLOCATED, BDRV_BLOCK_DATA, BDRV_BLOCK_ZERO } from '../status/flags.ts';
import type { MemoryFile } from './memoryFile.ts';

export interface NodeStatus {
  /** BDRV_BLOCK_* flags after the generic layer (bdrv_co_do_block_status(), precise mode). */
  readonly flags: number;
  /** Bytes the answer covers (never 0 inside the node's length). */
  readonly n: number;
}

export interface WritableImage {
  readonly format: 'qcow2' | 'raw';
  readonly file: MemoryFile;
  /** Virtual length as QEMU sees it (bs->total_sectors * 512). */
  readonly length: number;
  readonly backing: WritableImage | undefined;
  /** Guest content through the backing chain; past the length reads zeros. */
  readGuest(offset: number, length: number): Uint8Array;
  /** This node's status at `offset` for up to `bytes` bytes, without walking into the backing file. */
  nodeStatus(offset: number, bytes: number): NodeStatus;
  /** qemu-io `write -P`: guest data. */
  write(offset: number, data: Uint8Array): void;
  /** qemu-io `write -z [-u]`. */
  writeZeroes(offset: number, length: number, unmap?: boolean): void;
  /** qemu-io `discard`. */
  discard(offset: number, length: number): void;
}

/**
 * bdrv_block_status_above(bs, NULL, ...) (block/io.c bdrv_co_common_block_status_above()):
 * the top answers; if it does not own the range, the backing chain is asked for the same
 * (narrowed) range; a layer shorter than the offset answers ZERO|ALLOCATED (reference §3.7).
 */
export function statusAbove(top: WritableImage, offset: number, bytes: number): NodeStatus {
  let r = top.nodeStatus(offset, bytes);
  if (r.flags & BDRV_BLOCK_ALLOCATED) return r;
  let want = r.n;
  for (let p = top.backing; p; p = p.backing) {
    if (offset >= p.length) return { flags: BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED, n: want };
    r = p.nodeStatus(offset, want);
    if (r.flags & BDRV_BLOCK_ALLOCATED) return r;
    want = r.n;
  }
  return r;
}

/** qcow2.c is_zero(): does [offset, offset+bytes) report ZERO through the whole chain? */
export function isZero(top: WritableImage, offset: number, bytes: number): boolean {
  let left = Math.min(bytes, Math.max(0, top.length - offset));
  let pos = offset;
  while (left > 0) {
    const r = statusAbove(top, pos, left);
    if (!(r.flags & BDRV_BLOCK_ZERO) || r.n <= 0) return false;
    pos += r.n;
    left -= r.n;
  }
  return true;
}

export const isData = (flags: number): boolean => (flags & BDRV_BLOCK_DATA) !== 0;

export const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a;
export const roundDown = (n: number, a: number): number => n - (n % a);
