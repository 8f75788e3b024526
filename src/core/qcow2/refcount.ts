/**
 * Refcount table and refcount blocks (spec "Host cluster management"; reference §2.8;
 * QEMU qcow2_refcount_init() and qcow2_get_refcount() in block/qcow2-refcount.c).
 *
 * refcount_bits = 1 << refcount_order. Entries of 1, 2 and 4 bits are packed inside bytes from
 * the least significant bit (entry i of a 1-bit block is `(byte[i >> 3] >> (i & 7)) & 1`);
 * entries of 8..64 bits are big-endian integers. Ranges of refcount blocks are read through the
 * one table reader (tableReader.ts) into a RefcountArray.
 */
import type { Cancellation } from '../cancel.ts';
import { CorruptError, IoError, LimitError, UnsupportedError } from '../errors.ts';
import { hexAlt } from '../format.ts';
import { MAX_REFTABLE_BYTES } from '../limits.ts';
import type { Qcow2Header } from './header.ts';
import { type Qcow2Image, readTable, toU32Pairs } from './image.ts';
import { entryHex } from './l2entry.ts';
import { RefcountArray } from './refcountArray.ts';
import { TableReader } from './tableReader.ts';

export { hexAlt };

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
      'Reference count table too large',
      'MAX_REFTABLE_BYTES',
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
  /**
   * CorruptError: the block offset is unaligned, which QEMU also signals as corruption
   * ("Refblock offset ... unaligned"). IoError: the offset lies where QEMU's block layer
   * refuses to read (bdrv_check_request(): negative as int64, or past BDRV_MAX_LENGTH).
   */
  readonly error: CorruptError | IoError;
}

/** BDRV_MAX_LENGTH = QEMU_ALIGN_DOWN(INT64_MAX, BDRV_MAX_ALIGNMENT = 1 GiB), as (hi, lo) of its last byte + 1. */
const BDRV_MAX_LENGTH_HI = 0x7fffffff;
const BDRV_MAX_LENGTH_LO = 0xc0000000;

/**
 * Would QEMU's block layer refuse to read `bytes` at the 64-bit offset (hi, lo)? It takes the
 * offset as int64_t, so bit 63 makes it negative, and refuses any request ending past
 * BDRV_MAX_LENGTH (bdrv_check_qiov_request()): the read fails with EIO, where a read merely past
 * the end of the file reads zeros.
 */
export const qemuRefusesRead = (hi: number, lo: number, bytes: number): boolean =>
  hi >>> 0 >= 0x80000000 || (hi === BDRV_MAX_LENGTH_HI && (lo >>> 0) + bytes > BDRV_MAX_LENGTH_LO);

/**
 * On-disk refcounts as qcow2_get_refcount() reads them: clusters beyond the table or under a
 * zero table entry have refcount 0; a table entry whose offset is not cluster-aligned, or that
 * QEMU cannot read at all, makes the lookup fail (RefblockProblem). Single lookups keep a few
 * blocks; ranges are read through the one table reader.
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

  /** The refcount block offset for a table slot (Infinity: past any file, reads zeros), or why QEMU cannot read it. */
  blockOffset(reftableIndex: number): number | CorruptError | IoError {
    const h = this.img.header;
    const where = {
      file: this.img.name,
      structure: `refcount table entry ${reftableIndex}`,
      offset: h.refcountTableOffset + reftableIndex * 8,
    };
    const hi = this.table.pairs[2 * reftableIndex] ?? 0;
    const lo = (this.table.pairs[2 * reftableIndex + 1] ?? 0) & ~REFT_RESERVED_MASK_LO;
    if ((lo >>> 0) % h.clusterSize) {
      return new CorruptError(
        where,
        `Refblock offset 0x${entryHex(hi, lo)} unaligned (reftable index: ${hexAlt(reftableIndex)})`,
      );
    }
    if (qemuRefusesRead(hi, lo, h.clusterSize)) {
      return new IoError(where, `Refblock offset 0x${entryHex(hi, lo)}: Input/output error`);
    }
    const off = reftableEntryOffset(this.table, reftableIndex);
    // Offsets at or above 2^53 lie far past any end of file; QEMU reads zeros there.
    return off === undefined ? Number.POSITIVE_INFINITY : off;
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

  /** The refcount of one host cluster; throws like qcow2_get_refcount()'s -EIO (RefblockProblem's error). */
  async get(cluster: number): Promise<number> {
    const idx = Math.floor(cluster / this.blockEntries);
    if (idx >= this.table.entries) return 0;
    const off = this.blockOffset(idx);
    if (typeof off !== 'number') throw off;
    if (off === 0) return 0;
    return refcountAt(await this.block(off), this.img.header.refcountOrder, cluster % this.blockEntries);
  }

  /**
   * Refcounts of clusters [first, first+count) in one pass: whole refcount blocks through the
   * table reader (neighbours coalesced, read ahead, bounded). Clusters whose lookup fails read
   * 0 in `values`; `problems` names their table slots, in order.
   */
  async readRange(
    first: number,
    count: number,
    signal?: Cancellation,
  ): Promise<{ values: RefcountArray; problems: RefblockProblem[] }> {
    const h = this.img.header;
    const values = new RefcountArray(h.refcountOrder, count, refcountMax(h));
    const problems: RefblockProblem[] = [];
    const per = this.blockEntries;
    const end = first + count;
    const lastIdx = Math.min(Math.floor((end - 1) / per), this.table.entries - 1);
    const blocks: { idx: number; offset: number }[] = [];
    for (let idx = Math.floor(first / per); idx <= lastIdx; idx++) {
      const off = this.blockOffset(idx);
      if (typeof off !== 'number') problems.push({ reftableIndex: idx, error: off });
      else if (off !== 0 && off < this.img.source.size) blocks.push({ idx, offset: off });
    }
    const reader = new TableReader(
      this.img.source,
      blocks.map((b) => b.offset),
      h.clusterSize,
      { structure: 'refcount blocks', ...(signal && { signal }) },
    );
    for (const { idx, offset } of blocks) {
      const blk = await reader.table(offset);
      const a = Math.max(first, idx * per);
      const b = Math.min(end, (idx + 1) * per);
      values.setBlock(blk, a - first, a - idx * per, b - a);
    }
    return { values, problems };
  }
}
