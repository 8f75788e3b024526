/**
 * `qemu-img commit TOP` (QEMU 7.2 qemu-img.c img_commit()): an active-commit mirror job copies
 * what the top owns into its backing file, then the top is emptied (bdrv_make_empty()).
 *
 * The mirror (block/mirror.c) works in chunks of `granularity` bytes (the backing file's cluster
 * size clamped to 4 KiB..64 KiB; 64 KiB for raw): a chunk is dirty when the top allocates any
 * part of it (mirror_dirty_init()). For each dirty run mirror_iteration() asks the block status
 * of the whole chain: DATA is copied; a ZERO answer covering at least one chunk and aligned to
 * the target's clusters becomes write-zeroes with unmap; anything shorter than a chunk is
 * copied as one whole chunk, read through the chain.
 */
import { UnsupportedError } from '../errors.ts';
import { BDRV_BLOCK_ALLOCATED, BDRV_BLOCK_DATA, BDRV_BLOCK_ZERO } from '../status/flags.ts';
import { statusAbove, type WritableImage } from './image.ts';
import type { Qcow2Writer } from './qcow2Writer.ts';

/** DEFAULT_MIRROR_BUF_SIZE: 16 MiB of dirty chunks per iteration. */
const MIRROR_BUF_SIZE = 16 * 1024 * 1024;
/** max_io_bytes = MAX(buf_size / MAX_IN_FLIGHT, MAX_IO_BYTES) = 1 MiB. */
const MAX_IO_BYTES = 1024 * 1024;

/** bdrv_get_default_bitmap_granularity(target). */
export function mirrorGranularity(target: WritableImage): number {
  if (target.format === 'qcow2') {
    const cs = (target as Qcow2Writer).clusterSize;
    return Math.min(65536, Math.max(4096, cs));
  }
  return 65536;
}

export function commit(top: Qcow2Writer): void {
  const base = top.backing;
  if (!base) {
    throw new UnsupportedError(
      { file: top.file.name, structure: 'backing file' },
      'Image does not have a backing file',
    );
  }
  if (base.length < top.length) {
    // QEMU grows the base first (blk_truncate with zeroing); the writer does not resize images.
    throw new UnsupportedError(
      { file: base.file.name, structure: 'virtual size' },
      'committing into a shorter backing file is not supported by the writer',
    );
  }
  const g = mirrorGranularity(base);
  const length = top.length;
  const chunks = Math.ceil(length / g);
  const dirty = new Uint8Array(chunks);
  for (let pos = 0; pos < length; ) {
    const r = top.nodeStatus(pos, length - pos);
    // Non-precise "is allocated" of the top alone: DATA or ZERO from the driver.
    if (r.flags & BDRV_BLOCK_ALLOCATED) {
      dirty.fill(1, Math.floor(pos / g), Math.ceil((pos + r.n) / g));
    }
    pos += r.n;
  }
  const cs = base.format === 'qcow2' ? (base as Qcow2Writer).clusterSize : 0;
  const aligned = (offset: number, bytes: number) => cs === 0 || (offset % cs === 0 && bytes % cs === 0);
  let chunk = 0;
  while (chunk < chunks) {
    if (!dirty[chunk]) {
      chunk++;
      continue;
    }
    let nb = 1;
    while (nb * g < MIRROR_BUF_SIZE && chunk + nb < chunks && dirty[chunk + nb]) nb++;
    let offset = chunk * g;
    chunk += nb;
    while (nb > 0 && offset < length) {
      const st = statusAbove(top, offset, Math.min(nb * g, length - offset));
      let io = st.n;
      if (st.flags & BDRV_BLOCK_DATA) io = Math.min(io, MAX_IO_BYTES);
      io -= io % g;
      let method: 'copy' | 'zero' | 'discard' = 'copy';
      if (io < g) io = g;
      else if (!(st.flags & BDRV_BLOCK_DATA) && aligned(offset, io)) {
        method = st.flags & BDRV_BLOCK_ZERO ? 'zero' : 'discard';
      }
      io = Math.min(io, length - offset);
      if (method === 'copy') base.write(offset, top.readGuest(offset, io));
      else if (method === 'zero') base.writeZeroes(offset, io, true);
      else base.discard(offset, io);
      offset += io;
      nb -= Math.ceil(io / g);
    }
  }
  top.makeEmpty();
}
