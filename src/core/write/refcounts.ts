/**
 * Host cluster allocation and refcounts, as QEMU 7.2 does them (block/qcow2-refcount.c):
 * first-fit from free_cluster_index (alloc_clusters_noref()), refcount blocks allocated on
 * demand so that they describe themselves when they can (alloc_refcount_block()), the refcount
 * table grown by qcow2_refcount_area(), and the caller's search restarted (-EAGAIN) whenever new
 * metadata may have taken the clusters it picked.
 *
 * The file is the only state: every refcount lives in its refcount block on "disk", so what the
 * engine (and qemu-img check) reads back is exactly what this module wrote.
 */
import { CorruptError, LimitError } from '../errors.ts';
import { MAX_REFTABLE_BYTES } from '../limits.ts';
import type { MemoryFile } from './memoryFile.ts';

export const REFT_OFFSET_MASK = 0xfffffffffffffe00n;

export interface RefcountState {
  readonly file: MemoryFile;
  readonly clusterBits: number;
  readonly refcountOrder: number;
  reftableOffset: number;
  reftableClusters: number;
  /** s->free_cluster_index: where the next search for free clusters starts (0 on every open). */
  freeClusterIndex: number;
}

/** update_refcount() asks its caller to search again: new metadata may sit where it looked. */
const EAGAIN = Symbol('EAGAIN');
type Result = typeof EAGAIN | undefined;

export class Refcounts {
  readonly cs: number;
  /** Refcount entries per refcount block (s->refcount_block_size). */
  readonly blockEntries: number;

  constructor(private readonly s: RefcountState) {
    this.cs = 2 ** s.clusterBits;
    this.blockEntries = (this.cs * 8) / 2 ** s.refcountOrder;
  }

  private get tableEntries(): number {
    return (this.s.reftableClusters * this.cs) / 8;
  }

  private tableEntry(i: number): number {
    if (i >= this.tableEntries) return 0;
    return Number(this.s.file.u64(this.s.reftableOffset + i * 8) & REFT_OFFSET_MASK);
  }

  private entryAt(block: number, index: number): number {
    const f = this.s.file;
    const order = this.s.refcountOrder;
    if (order < 3) {
      const bits = 2 ** order;
      const per = 8 / bits;
      const byte = f.readSync(block + Math.floor(index / per), 1)[0] ?? 0;
      return (byte >> (bits * (index % per))) & (2 ** bits - 1);
    }
    const bytes = 2 ** (order - 3);
    const at = block + index * bytes;
    if (bytes === 1) return f.readSync(at, 1)[0] ?? 0;
    if (bytes === 2) return f.u16(at);
    if (bytes === 4) return f.u32(at);
    return Number(f.u64(at));
  }

  private setEntryAt(block: number, index: number, v: number): void {
    const f = this.s.file;
    const order = this.s.refcountOrder;
    if (order < 3) {
      const bits = 2 ** order;
      const per = 8 / bits;
      const at = block + Math.floor(index / per);
      const shift = bits * (index % per);
      const mask = (2 ** bits - 1) << shift;
      const byte = f.readSync(at, 1)[0] ?? 0;
      f.setU8(at, (byte & ~mask) | ((v << shift) & mask));
      return;
    }
    const bytes = 2 ** (order - 3);
    const at = block + index * bytes;
    if (bytes === 1) f.setU8(at, v);
    else if (bytes === 2) f.setU16(at, v);
    else if (bytes === 4) f.setU32(at, v);
    else f.setU64(at, BigInt(v));
  }

  /** The largest refcount an entry holds (s->refcount_max). */
  get max(): number {
    return this.s.refcountOrder >= 6 ? Number.MAX_SAFE_INTEGER : 2 ** (2 ** this.s.refcountOrder) - 1;
  }

  /** qcow2_get_refcount(): 0 beyond the table or under an empty table entry. */
  get(cluster: number): number {
    const block = this.tableEntry(Math.floor(cluster / this.blockEntries));
    if (!block) return 0;
    return this.entryAt(block, cluster % this.blockEntries);
  }

  /** alloc_clusters_noref(): first fit from free_cluster_index, without taking a reference. */
  private allocNoref(size: number): number {
    const n = Math.ceil(size / this.cs);
    for (;;) {
      let i = 0;
      for (; i < n; i++) {
        const c = this.s.freeClusterIndex++;
        if (this.get(c) !== 0) break;
      }
      if (i === n) return (this.s.freeClusterIndex - n) * this.cs;
    }
  }

  /** qcow2_alloc_clusters(): `size` bytes of contiguous free clusters, refcount 1. */
  alloc(size: number): number {
    for (;;) {
      const offset = this.allocNoref(size);
      if (this.update(offset, size, 1) !== EAGAIN) return offset;
    }
  }

  /** qcow2_alloc_clusters_at(): as many of `n` clusters at `offset` as are free; returns the count. */
  allocAt(offset: number, n: number): number {
    for (;;) {
      let i = 0;
      const first = offset / this.cs;
      while (i < n && this.get(first + i) === 0) i++;
      if (this.update(offset, i * this.cs, 1) !== EAGAIN) return i;
    }
  }

  /**
   * qcow2_update_cluster_refcount() on clusters that are already in use (snapshots): their
   * refcount block exists, so no new metadata and no restart can happen.
   */
  ref(offset: number, size: number): void {
    if (this.update(offset, size, 1) === EAGAIN) {
      throw new CorruptError(
        { file: this.s.file.name, structure: 'refcount table', offset },
        'cluster in use has no refcount block',
      );
    }
  }

  /** qcow2_free_clusters(). */
  free(offset: number, size: number): void {
    this.update(offset, size, -1);
  }

  /** update_refcount(): add `addend` to every cluster touched by [offset, offset+length). */
  private update(offset: number, length: number, addend: number): Result {
    if (length <= 0) return undefined;
    const cs = this.cs;
    const start = offset - (offset % cs);
    const lastByte = offset + length - 1;
    const last = lastByte - (lastByte % cs);
    let block = 0;
    let oldTableIndex = -1;
    for (let c = start; c <= last; c += cs) {
      const cluster = c / cs;
      const tableIndex = Math.floor(cluster / this.blockEntries);
      if (tableIndex !== oldTableIndex) {
        const got = this.allocRefcountBlock(cluster);
        if (got === EAGAIN) {
          // "try the same ones first to see if they're still free", then undo what was done.
          if (this.s.freeClusterIndex > start / cs) this.s.freeClusterIndex = start / cs;
          if (c > start) this.update(start, c - start, -addend);
          return EAGAIN;
        }
        block = got;
      }
      oldTableIndex = tableIndex;
      const index = cluster % this.blockEntries;
      const next = this.entryAt(block, index) + addend;
      if (next < 0 || next > this.max) {
        throw new CorruptError(
          { file: this.s.file.name, structure: 'refcount block', offset: block },
          `refcount of cluster ${cluster} would become ${next} (update_refcount(): -EINVAL)`,
        );
      }
      if (next === 0 && cluster < this.s.freeClusterIndex) this.s.freeClusterIndex = cluster;
      this.setEntryAt(block, index, next);
    }
    return undefined;
  }

  /** alloc_refcount_block(): the refcount block for `cluster`, or EAGAIN after making one. */
  private allocRefcountBlock(cluster: number): number | typeof EAGAIN {
    const cs = this.cs;
    const tableIndex = Math.floor(cluster / this.blockEntries);
    const existing = this.tableEntry(tableIndex);
    if (existing) {
      if (existing % cs) {
        throw new CorruptError(
          { file: this.s.file.name, structure: `refcount table entry ${tableIndex}` },
          'Refblock offset unaligned',
        );
      }
      return existing;
    }
    const newBlock = this.allocNoref(cs);
    const newCluster = newBlock / cs;
    if (Math.floor(newCluster / this.blockEntries) === tableIndex) {
      // The block describes itself.
      this.s.file.fill(newBlock, cs, 0);
      this.setEntryAt(newBlock, newCluster % this.blockEntries, 1);
    } else {
      // Described somewhere else: this recurses at most twice. If describing it needed a new
      // block first, QEMU gives up on this one (still free) and lets the caller search again.
      if (this.update(newBlock, cs, 1) === EAGAIN) return EAGAIN;
      this.s.file.fill(newBlock, cs, 0);
    }
    if (tableIndex < this.tableEntries) {
      this.s.file.setU64(this.s.reftableOffset + tableIndex * 8, BigInt(newBlock));
      return EAGAIN;
    }
    // The table is too small: build a bigger one with self-describing blocks past everything used.
    const blocksUsed = Math.ceil(Math.max(cluster + 1, newCluster + 1) / this.blockEntries);
    this.refcountArea(blocksUsed * this.blockEntries * cs, tableIndex, newBlock);
    return EAGAIN;
  }

  /**
   * qcow2_refcount_area(): a new refcount table and the refcount blocks that cover it, placed
   * at `startOffset` (everything from there on is free), with every old block carried over.
   */
  private refcountArea(startOffset: number, newIndex: number, newBlock: number): void {
    const cs = this.cs;
    const f = this.s.file;
    const perTableCluster = cs / 8;
    const totalBlocks = refcountMetadataBlocks(startOffset / cs, cs, this.blockEntries, true);
    const areaIndex = Math.floor(startOffset / cs / this.blockEntries);
    let tableSize = totalBlocks + Math.ceil(totalBlocks / 2);
    tableSize = Math.ceil(tableSize / perTableCluster) * perTableCluster;
    const tableClusters = (tableSize * 8) / cs;
    if (tableSize * 8 > MAX_REFTABLE_BYTES) {
      throw new LimitError(
        { file: f.name, structure: 'refcount table' },
        'Reference count table too large (MAX_REFTABLE_BYTES)',
      );
    }
    const table: number[] = [];
    for (let i = 0; i < tableSize; i++) table.push(i < this.tableEntries ? this.tableEntry(i) : 0);
    table[newIndex] = newBlock;
    let additional = 0;
    for (let i = areaIndex; i < totalBlocks; i++) if (!table[i]) additional++;
    const tableOffset = startOffset + additional * cs;
    const endOffset = tableOffset + tableClusters * cs;
    let blockOffset = startOffset;
    for (let i = areaIndex; i < totalBlocks; i++) {
      if (!table[i]) {
        f.fill(blockOffset, cs, 0);
        table[i] = blockOffset;
        blockOffset += cs;
      }
      const block = table[i]!;
      const firstCovered = i * this.blockEntries * cs;
      if (firstCovered < endOffset) {
        let j = firstCovered < startOffset ? (startOffset - firstCovered) / cs : 0;
        const endIndex = Math.min((endOffset - firstCovered) / cs, this.blockEntries);
        for (; j < endIndex; j++) this.setEntryAt(block, j, 1);
      }
    }
    for (let i = 0; i < tableSize; i++) f.setU64(tableOffset + i * 8, BigInt(table[i] ?? 0));
    const oldOffset = this.s.reftableOffset;
    const oldBytes = this.s.reftableClusters * cs;
    this.s.reftableOffset = tableOffset;
    this.s.reftableClusters = tableClusters;
    // The header's refcount_table_offset and refcount_table_clusters.
    f.setU64(48, BigInt(tableOffset));
    f.setU32(56, tableClusters);
    this.free(oldOffset, oldBytes);
  }
}

/**
 * qcow2_refcount_metadata_size(): refcount blocks needed for `clusters` clusters plus the
 * blocks and table clusters themselves (fixed point), optionally with QEMU's 50 % headroom.
 */
export function refcountMetadataBlocks(
  clusters: number,
  clusterSize: number,
  blockEntries: number,
  generous: boolean,
): number {
  const perTableCluster = clusterSize / 8;
  let table = 0;
  let blocks = 0;
  let n = 0;
  let last: number;
  let c = clusters;
  let g = generous;
  do {
    last = n;
    blocks = Math.ceil((c + table + blocks) / blockEntries);
    table = Math.ceil(blocks / perTableCluster);
    n = c + blocks + table;
    if (n === last && g) {
      c += Math.ceil(table / 2);
      n = 0;
      g = false;
    }
  } while (n !== last);
  return blocks;
}
