/**
 * Decompressing one compressed cluster (spec "Compressed Clusters"; QEMU
 * qcow2_co_preadv_compressed()). deflate is raw deflate (no zlib header, window bits -12);
 * zstd is one or more frames. Decompression stops once a full cluster is produced: the
 * stored sector count may over-estimate, and the bytes after the stream can belong to the next
 * compressed cluster.
 */
import { inflateSync } from 'fflate';
import { Decompress } from 'fzstd';
import { CorruptError } from '../errors.ts';
import { readPadded } from '../io/byteSource.ts';
import type { Qcow2Image } from './image.ts';
import type { L2Entry } from './l2entry.ts';

export async function readCompressedCluster(
  img: Qcow2Image,
  e: Extract<L2Entry, { type: 'compressed' }>,
  where: string,
): Promise<Uint8Array> {
  const cs = img.header.clusterSize;
  const input = await readPadded(img.source, e.hostOffset, e.compressedSize);
  const fail = (why: string) =>
    new CorruptError({ file: img.name, structure: where, offset: e.hostOffset }, why);
  if (img.header.compressionType === 'zlib') {
    const out = new Uint8Array(cs);
    try {
      const got = inflateSync(input, { out });
      if (got.length < cs) throw fail(`deflate stream produced ${got.length} of ${cs} bytes`);
    } catch (err) {
      if (err instanceof CorruptError) throw err;
      // fflate throws when `out` fills before the stream ends; a full cluster is what QEMU wants.
      if (!/buffer|length/i.test(String(err))) throw fail(`invalid deflate stream (${String(err)})`);
    }
    return out;
  }
  const out = new Uint8Array(cs);
  let filled = 0;
  const d = new Decompress((chunk) => {
    const n = Math.min(chunk.length, cs - filled);
    out.set(chunk.subarray(0, n), filled);
    filled += n;
  });
  try {
    d.push(input, true);
  } catch (err) {
    if (filled < cs) throw fail(`invalid zstd stream (${String(err)})`);
  }
  if (filled < cs) throw fail(`zstd stream produced ${filled} of ${cs} bytes`);
  return out;
}
