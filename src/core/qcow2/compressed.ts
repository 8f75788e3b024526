/**
 * Decompressing one compressed cluster (spec "Compressed Clusters"; QEMU
 * qcow2_co_preadv_compressed(), qcow2_zlib_decompress(), qcow2_zstd_decompress()). deflate is
 * raw deflate (no zlib header, window bits -12); zstd is one or more frames. Decompression stops
 * once a full cluster is produced: the stored sector count may over-estimate, and the bytes after
 * the stream can belong to the next compressed cluster.
 */
import { inflateSync } from 'fflate';
import { Decompress } from 'fzstd';
import { CorruptError, type ErrorWhere, LimitError } from '../errors.ts';
import { readPadded } from '../io/byteSource.ts';
import { MAX_ZSTD_WINDOW_CLUSTERS } from '../limits.ts';
import type { Qcow2Image } from './image.ts';
import type { L2Entry } from './l2entry.ts';

export async function readCompressedCluster(
  img: Qcow2Image,
  e: Extract<L2Entry, { type: 'compressed' }>,
  where: string,
): Promise<Uint8Array> {
  const cs = img.header.clusterSize;
  const input = await readPadded(img.source, e.hostOffset, e.compressedSize);
  const at = { file: img.name, structure: where, offset: e.hostOffset };
  if (img.header.compressionType === 'zlib') return inflateCluster(input, cs, at);
  return zstdCluster(input, cs, at);
}

function inflateCluster(input: Uint8Array, cs: number, at: ErrorWhere): Uint8Array {
  const out = new Uint8Array(cs);
  const fail = (why: string) => new CorruptError(at, why);
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

/** zstd frame magic (spec RFC 8878 §3.1.1), little-endian. */
const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50..0x184D2A5F, then a 4-byte length. */
const ZSTD_SKIPPABLE_MASK = 0xfffffff0;
const ZSTD_SKIPPABLE = 0x184d2a50;

/** A zstd frame's header as far as bounding it needs (RFC 8878 §3.1.1.1). */
export interface ZstdFrameHeader {
  /** Bytes of magic and header: the first block starts here, relative to the frame. */
  readonly headerBytes: number;
  /** Window_Size: the history the decoder must keep (Frame_Content_Size for single-segment frames). */
  readonly windowSize: number;
  readonly checksum: boolean;
}

const le = (b: Uint8Array, at: number, n: number): number => {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[at + i] ?? 0);
  return v;
};

/** Parses the frame header at `p`; undefined when the bytes there are no zstd frame. */
export function zstdFrameHeader(b: Uint8Array, p: number): ZstdFrameHeader | undefined {
  if (p + 5 > b.length || le(b, p, 4) !== ZSTD_MAGIC) return undefined;
  const fhd = b[p + 4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  if (fhd & 0x08) return undefined; // reserved bit
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  let q = p + 5;
  let windowSize = 0;
  if (!singleSegment) {
    const wd = b[q++] ?? 0;
    const base = 2 ** (10 + (wd >> 3));
    windowSize = base + (base / 8) * (wd & 7);
  }
  q += dictBytes;
  if (singleSegment) windowSize = le(b, q, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
  q += fcsBytes;
  return { headerBytes: q - p, windowSize, checksum: ((fhd >> 2) & 1) === 1 };
}

/**
 * The end of the frame at `p` (after its checksum), walking its block headers without
 * decoding them (RFC 8878 §3.1.1.2); undefined if the blocks run past the input.
 */
function zstdFrameEnd(b: Uint8Array, p: number, h: ZstdFrameHeader): number | undefined {
  let q = p + h.headerBytes;
  for (;;) {
    if (q + 3 > b.length) return undefined;
    const bh = le(b, q, 3);
    const last = bh & 1;
    const type = (bh >> 1) & 3;
    const size = bh >>> 3;
    q += 3 + (type === 1 ? 1 : size);
    if (q > b.length) return undefined;
    if (last) return q + (h.checksum ? 4 : 0);
  }
}

/**
 * qcow2_zstd_decompress(): frames decoded into one cluster until it is full. QEMU's output
 * buffer is one cluster, so no frame of a cluster QEMU wrote needs more history than that: every
 * frame's Window_Size is checked against the cluster size before any byte of it is decoded, and
 * a larger one is refused (fzstd allocates the window a header asks for: a 70-byte frame asked
 * for 1.9 GiB).
 */
export function zstdCluster(input: Uint8Array, cs: number, at: ErrorWhere): Uint8Array {
  const out = new Uint8Array(cs);
  let filled = 0;
  const fail = (why: string) => new CorruptError(at, why);
  let p = 0;
  while (filled < cs) {
    if (p + 8 <= input.length && (le(input, p, 4) & ZSTD_SKIPPABLE_MASK) >>> 0 === ZSTD_SKIPPABLE) {
      p += 8 + le(input, p + 4, 4);
      continue;
    }
    const h = zstdFrameHeader(input, p);
    if (!h) throw fail(`invalid zstd stream (no frame at byte ${p}; ${filled} of ${cs} bytes)`);
    if (h.windowSize > MAX_ZSTD_WINDOW_CLUSTERS * cs) {
      throw new LimitError(
        at,
        `zstd frame at byte ${p} needs a ${h.windowSize}-byte window, more than the ${cs}-byte cluster QEMU decodes into`,
        'MAX_ZSTD_WINDOW_CLUSTERS',
      );
    }
    const end = zstdFrameEnd(input, p, h);
    if (end === undefined) throw fail(`zstd frame at byte ${p} runs past the compressed data`);
    const d = new Decompress((chunk) => {
      const n = Math.min(chunk.length, cs - filled);
      out.set(chunk.subarray(0, n), filled);
      filled += n;
    });
    try {
      d.push(input.subarray(p, end), true);
    } catch (err) {
      if (filled < cs) throw fail(`invalid zstd stream (${String(err)})`);
    }
    p = end;
  }
  return out;
}
