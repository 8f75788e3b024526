/**
 * Refcount table and refcount blocks (spec "Host cluster management"; reference §2.8;
 * QEMU qcow2_refcount_init() and qcow2_get_refcount() in block/qcow2-refcount.c).
 *
 * refcount_bits = 1 << refcount_order. Entries of 1, 2 and 4 bits are packed inside bytes from
 * the least significant bit (entry i of a 1-bit block is `(byte[i >> 3] >> (i & 7)) & 1`);
 * entries of 8..64 bits are big-endian integers. Reads are whole refcount blocks, neighbouring
 * blocks coalesced into one request of at most MAX_READ_BYTES.
 */
import { CorruptError, LimitError, UnsupportedError } from '../errors.ts';
import { hex } from '../format.ts';
import { MAX_READ_BYTES, MAX_REFTABLE_BYTES } from '../limits.ts';
import type { Qcow2Header } from './header.ts';
import { type Qcow2Image, readTable, toU32Pairs } from './image.ts';

/** printf("%#x"): like hex() but zero prints as "0", as in QEMU's messages. */
export const hexAlt = (n: number): string => (n === 0 ? '0' : hex(n));

/** Bits 0..8 of a refcount table entry are reserved (REFT_RESERVED_MASK). */
export const REFT_RESERVED_MASK_LO = 0x1ff;

export const refcountBits = (h: Qcow2Header): number => 2 ** h.refcountOrder;

/** Entries in one refcount block: cluster_size * 8 / refcount_bits (s->refcount_block_size). */
export const refblockEntries = (h: Qcow2Header): number => (h.clusterSize * 8) / refcountBits(h);

/** Entries in the refcount table: refcount_table_clusters * cluster_size / 8 (s->refcount_table_size). */
export const reftableEntries = (h: Qcow2Header): number => (h.refcountTableClusters * h.clusterSize) / 8;

/**
 * The largest refcount an entry can hold (s->refcount_max). For 64-bit entries that is 2^64-1,
 * which no count of references in a file below 2^53 bytes can reach; Infinity stands for it.
 */
export const refcountMax = (h: Qcow2Header): number =>
  h.refcountOrder >= 6 ? Infinity : 2 ** refcountBits(h) - 1;

/** The refcount table as big-endian halves: entry i is (pairs[2i] << 32) | pairs[2i+1]. */
export interface RefcountTable {
  readonly pairs: Uint32Array;
  readonly entries: number;
}

/** Offset bits 9..63 of a refcount table entry (REFT_OFFSET_MASK); undefined at or above 2^53. */
export function reftableEntryOffset(t: RefcountTable, i: number): number | undefined {
  const hi = t.pairs[2 * i] ?? 0;
  const lo = (t.pairs[2 * i + 1] ?? 0) & ~REFT_RESERVED_MASK_LO;
  if (hi >= 0x200000) return undefined;
  return hi * 0x100000000 + (lo >>> 0);
}

export const reftableEntryReserved = (t: RefcountTable, i: number): number =>
  (t.pairs[2 * i + 1] ?? 0) & REFT_RESERVED_MASK_LO;

/** The raw 64-bit refcount table entry, for messages. */
export const reftableEntryRaw = (t: RefcountTable, i: number): bigint =>
  (BigInt(t.pairs[2 * i] ?? 0) << 32n) | BigInt(t.pairs[2 * i + 1] ?? 0);

/**
 * Reads the whole refcount table, as QEMU does on open (qcow2_refcount_init()). Bytes past the
 * end of the file read as zeros (no refcount block), as QEMU's block layer pads short reads.
 */
export async function readRefcountTable(img: Qcow2Image): Promise<RefcountTable> {
  const h = img.header;
  if (h.refcountOrder > 6) {
    throw new UnsupportedError(
      { file: img.name, structure: 'header refcount_order', offset: 96 },
      'Reference count entry width too large; may not exceed 64 bits',
    );
  }
  const bytes = h.refcountTableClusters * h.clusterSize;
  if (bytes > MAX_REFTABLE_BYTES) {
    throw new LimitError(
      { file: img.name, structure: 'refcount table', offset: h.refcountTableOffset },
      'Reference count table too large (MAX_REFTABLE_BYTES)',
    );
  }
  const pairs = toU32Pairs(await readTable(img.source, h.refcountTableOffset, bytes));
  return { pairs, entries: bytes / 8 };
}

/**
 * Entry `index` of a refcount block of width 2^order bits. Widths of 64 bits are exact below
 * 2^53 and rounded above (such a refcount never equals a count of references anyway).
 */
export function refcountAt(block: Uint8Array, order: number, index: number): number {
  switch (order) {
    case 0:
      return ((block[index >>> 3] ?? 0) >>> (index & 7)) & 1;
    case 1:
      return ((block[index >>> 2] ?? 0) >>> (2 * (index & 3))) & 3;
    case 2:
      return ((block[index >>> 1] ?? 0) >>> (4 * (index & 1))) & 15;
    case 3:
      return block[index] ?? 0;
    case 4: {
      const at = index * 2;
      return ((block[at] ?? 0) << 8) | (block[at + 1] ?? 0);
    }
    case 5: {
      const at = index * 4;
      return (
        (((block[at] ?? 0) << 24) |
          ((block[at + 1] ?? 0) << 16) |
          ((block[at + 2] ?? 0) << 8) |
          (block[at + 3] ?? 0)) >>>
        0
      );
    }
    case 6:
      return refcountAt(block, 5, index * 2) * 0x100000000 + refcountAt(block, 5, index * 2 + 1);
    default:
      throw new RangeError(`refcount_order ${order} out of range 0..6`);
  }
}

/** Decodes `count` entries of a refcount block starting at entry `first` into `out[outAt..]`. */
export function decodeRefcountBlock(
  block: Uint8Array,
  order: number,
  out: Float64Array,
  outAt = 0,
  first = 0,
  count = (block.length * 8) >>> order,
): void {
  if (order === 4) {
    for (let i = 0; i < count; i++) {
      const at = (first + i) * 2;
      out[outAt + i] = ((block[at] ?? 0) << 8) | (block[at + 1] ?? 0);
    }
    return;
  }
  for (let i = 0; i < count; i++) out[outAt + i] = refcountAt(block, order, first + i);
}

/** Why one refcount table slot cannot be read (qcow2_get_refcount() returns -EIO). */
export interface RefblockProblem {
  readonly reftableIndex: number;
  readonly error: CorruptError;
}

/**
 * On-disk refcounts as qcow2_get_refcount() reads them: clusters beyond the table or under a
 * zero table entry have refcount 0; a table entry whose offset is not cluster-aligned makes the
 * lookup fail with a CorruptError ("Refblock offset ... unaligned").
 */
export class RefcountReader {
  private readonly cache = new Map<number, Uint8Array>();
  private static readonly CACHE_BLOCKS = 64;
  readonly blockEntries: number;

  constructor(
    readonly img: Qcow2Image,
    readonly table: RefcountTable,
  ) {
    this.blockEntries = refblockEntries(img.header);
  }

  /** The refcount block offset for a table slot, or a CorruptError if QEMU refuses it. */
  private blockOffset(reftableIndex: number): number | CorruptError {
    const h = this.img.header;
    const off = reftableEntryOffset(this.table, reftableIndex);
    // Offsets at or above 2^53 lie far past any end of file; QEMU reads zeros there.
    if (off === undefined) return Number.POSITIVE_INFINITY;
    if (off % h.clusterSize) {
      return new CorruptError(
        {
          file: this.img.name,
          structure: `refcount table entry ${reftableIndex}`,
          offset: h.refcountTableOffset + reftableIndex * 8,
        },
        `Refblock offset ${hexAlt(off)} unaligned (reftable index: ${hexAlt(reftableIndex)})`,
      );
    }
    return off;
  }

  private async block(offset: number): Promise<Uint8Array> {
    const h = this.img.header;
    if (!Number.isFinite(offset) || offset >= this.img.source.size) return new Uint8Array(h.clusterSize);
    let b = this.cache.get(offset);
    if (b) return b;
    b = await readTable(this.img.source, offset, h.clusterSize);
    if (this.cache.size >= RefcountReader.CACHE_BLOCKS) {
      const first = this.cache.keys().next().value;
      if (first !== undefined) this.cache.delete(first);
    }
    this.cache.set(offset, b);
    return b;
  }

  /** The refcount of one host cluster; throws CorruptError like qcow2_get_refcount()'s -EIO. */
  async get(cluster: number): Promise<number> {
    const idx = Math.floor(cluster / this.blockEntries);
    if (idx >= this.table.entries) return 0;
    const off = this.blockOffset(idx);
    if (off instanceof CorruptError) throw off;
    if (off === 0) return 0;
    return refcountAt(await this.block(off), this.img.header.refcountOrder, cluster % this.blockEntries);
  }

  /**
   * Refcounts of clusters [first, first+count) in one pass: whole refcount blocks, neighbouring
   * blocks read in one request. Clusters whose lookup fails are NaN; `problems` lists why.
   */
  async readRange(
    first: number,
    count: number,
  ): Promise<{ values: Float64Array; problems: RefblockProblem[] }> {
    const h = this.img.header;
    const values = new Float64Array(count);
    const problems: RefblockProblem[] = [];
    const per = this.blockEntries;
    const end = first + count;
    const lastIdx = Math.min(Math.floor((end - 1) / per), this.table.entries - 1);
    let idx = Math.floor(first / per);
    // A run of refcount blocks at consecutive host offsets is read with one request.
    while (idx <= lastIdx) {
      const off = this.blockOffset(idx);
      if (off instanceof CorruptError) {
        problems.push({ reftableIndex: idx, error: off });
        const a = Math.max(first, idx * per);
        const b = Math.min(end, (idx + 1) * per);
        values.fill(Number.NaN, a - first, b - first);
        idx++;
        continue;
      }
      if (off === 0 || off >= this.img.source.size) {
        idx++;
        continue;
      }
      let runEnd = idx + 1;
      while (
        runEnd <= lastIdx &&
        (runEnd - idx + 1) * h.clusterSize <= MAX_READ_BYTES &&
        this.blockOffset(runEnd) === off + (runEnd - idx) * h.clusterSize
      ) {
        runEnd++;
      }
      const bytes = await readTable(this.img.source, off, (runEnd - idx) * h.clusterSize);
      for (let k = idx; k < runEnd; k++) {
        const blk = bytes.subarray((k - idx) * h.clusterSize, (k - idx + 1) * h.clusterSize);
        const a = Math.max(first, k * per);
        const b = Math.min(end, (k + 1) * per);
        decodeRefcountBlock(blk, h.refcountOrder, values, a - first, a - k * per, b - a);
      }
      idx = runEnd;
    }
    return { values, problems };
  }
}
