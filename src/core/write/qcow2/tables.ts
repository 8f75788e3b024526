/**
 * The writer's qcow2 image in memory: its geometry, the header fields QEMU keeps in
 * BDRVQcow2State, its L1 and L2 tables in the file, and the refcounts. The operations in the
 * files beside this one (create.ts, allocate.ts, zeroDiscard.ts, snapshot.ts, blockStatus.ts)
 * work on it, split as QEMU splits them; Qcow2Writer (../qcow2Writer.ts) is their public face.
 * Entries are read and built with the codec's masks and classified by it (qcow2/l2entry.ts).
 */
import { CorruptError, UnsupportedError } from '../../errors.ts';
import {
  clusterType,
  type EntryFormat,
  L1E_OFFSET_MASK,
  L2E_OFFSET_MASK,
  QCOW_OFLAG_COMPRESSED,
  QCOW_OFLAG_COPIED,
  subclusterType,
} from '../../qcow2/l2entry.ts';
import { KIND_UNALLOCATED_PLAIN } from '../../status/kinds.ts';
import type { WritableImage } from '../image.ts';
import { MemoryFile } from '../memoryFile.ts';
import { type RefcountState, Refcounts } from '../refcounts.ts';
import type { WriterBitmap } from './dirtyBitmap.ts';

export interface BackingSpec {
  /** The name stored in the header (as `qemu-img create -b NAME`). */
  readonly name: string;
  /** The backing format extension (`-F`). */
  readonly format: 'qcow2' | 'raw';
  /** The backing image itself, for copy-on-write reads and block status. */
  readonly image: WritableImage;
}

export interface Qcow2CreateOptions {
  readonly name: string;
  /** 2 for `compat=0.10`, 3 for `compat=1.1` (the default). */
  readonly version?: 2 | 3;
  /** Virtual size; rounded up to 512 as qemu-img does. Defaults to the backing image's length. */
  readonly size?: number;
  /** cluster_size = 2^clusterBits, 9..21; default 16 (64 KiB). */
  readonly clusterBits?: number;
  readonly extendedL2?: boolean;
  /** refcount_bits = 2^refcountOrder, 0..6; default 4 (16 bits). */
  readonly refcountOrder?: number;
  readonly backing?: BackingSpec;
}

/** One entry of the snapshot table (QCowSnapshot, the fields the writer sets). */
export interface SnapshotRecord {
  readonly id: string;
  readonly name: string;
  readonly l1Offset: number;
  readonly l1Size: number;
  readonly dateSec: number;
  readonly dateNsec: number;
  readonly diskSize: number;
}

/** The writer's image as the operations that also ask the chain's block status need it. */
export type Qcow2Node = Qcow2Tables & WritableImage;

export class Qcow2Tables {
  readonly format = 'qcow2' as const;
  readonly file: MemoryFile;
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly clusterSize: number;
  readonly extendedL2: boolean;
  readonly refcountOrder: number;
  readonly l2Entries: number;
  readonly l2EntryBytes: 8 | 16;
  readonly subclusterSize: number;
  readonly length: number;
  readonly backing: WritableImage | undefined;
  readonly backingName: string | undefined;
  readonly backingFormat: string | undefined;
  /** How the codec decodes this image's entries (no external data file). */
  readonly fmt: EntryFormat;
  /** s->l1_size and s->l1_table_offset. */
  l1Size = 0;
  l1Offset = 0;
  /** The refcount table's place and the free-cluster search (s->refcount_table_offset, ...). */
  readonly st: RefcountState;
  readonly rc: Refcounts;
  /** s->snapshots, s->snapshots_offset, s->snapshots_size. */
  readonly snapshots: SnapshotRecord[] = [];
  snapshotsOffset = 0;
  snapshotsSize = 0;
  /** The open image's persistent bitmaps (bitmaps.ts), in directory order. */
  readonly bitmaps: WriterBitmap[] = [];
  /** s->bitmap_directory_offset, s->bitmap_directory_size, s->nb_bitmaps: the directory in the file. */
  bitmapDirOffset = 0;
  bitmapDirSize = 0;
  storedBitmaps = 0;

  protected constructor(o: Qcow2CreateOptions, size: number) {
    this.file = new MemoryFile(o.name);
    this.version = o.version ?? 3;
    this.clusterBits = o.clusterBits ?? 16;
    this.clusterSize = 2 ** this.clusterBits;
    this.extendedL2 = o.extendedL2 ?? false;
    this.refcountOrder = o.refcountOrder ?? 4;
    this.l2EntryBytes = this.extendedL2 ? 16 : 8;
    this.l2Entries = this.clusterSize / this.l2EntryBytes;
    this.subclusterSize = this.extendedL2 ? this.clusterSize / 32 : this.clusterSize;
    this.fmt = { clusterBits: this.clusterBits, extendedL2: this.extendedL2, dataFile: false };
    this.length = size;
    this.backing = o.backing?.image;
    this.backingName = o.backing?.name;
    this.backingFormat = o.backing?.format;
    this.st = {
      file: this.file,
      clusterBits: this.clusterBits,
      refcountOrder: this.refcountOrder,
      reftableOffset: 0,
      reftableClusters: 0,
      freeClusterIndex: 0,
    };
    this.rc = new Refcounts(this.st);
  }

  l1Entry(i: number): bigint {
    return i < this.l1Size ? this.file.u64(this.l1Offset + i * 8) : 0n;
  }
  entry(l2: number, i: number): bigint {
    return this.file.u64(l2 + i * this.l2EntryBytes);
  }
  bitmap(l2: number, i: number): bigint {
    return this.extendedL2 ? this.file.u64(l2 + i * 16 + 8) : 0n;
  }
  setEntry(l2: number, i: number, v: bigint): void {
    this.file.setU64(l2 + i * this.l2EntryBytes, v);
  }
  setBitmap(l2: number, i: number, v: bigint): void {
    this.file.setU64(l2 + i * 16 + 8, v);
  }
  l1IndexOf(offset: number): number {
    return Math.floor(offset / (this.clusterSize * this.l2Entries));
  }
  l2IndexOf(offset: number): number {
    return Math.floor(offset / this.clusterSize) % this.l2Entries;
  }
  /** The L2 table covering `offset` without allocating one, or 0. */
  l2For(offset: number): number {
    return Number(this.l1Entry(this.l1IndexOf(offset)) & L1E_OFFSET_MASK);
  }

  /**
   * get_cluster_table(): the L2 table for `offset`, allocated if there is none and copied
   * (l2_allocate()) if the L1 entry lacks the copied flag because a snapshot shares it.
   */
  clusterTable(offset: number): { l2: number; index: number } {
    const i = this.l1IndexOf(offset);
    const e = this.l1Entry(i);
    let l2 = Number(e & L1E_OFFSET_MASK);
    if (!(e & QCOW_OFLAG_COPIED)) {
      const cs = this.clusterSize;
      const fresh = this.rc.alloc(cs);
      const content = l2 ? this.file.readPadded(l2, cs) : new Uint8Array(cs);
      this.file.write(fresh, content);
      this.file.setU64(this.l1Offset + i * 8, BigInt(fresh) | QCOW_OFLAG_COPIED);
      if (l2) this.rc.free(l2, cs);
      l2 = fresh;
    }
    return { l2, index: this.l2IndexOf(offset) };
  }

  /** qcow2_get_subcluster_type() on an entry and its bitmap, through the codec. */
  kindOf(e: bigint, bm: bigint, sc: number): number {
    const ctype = clusterType(Number(e >> 32n), Number(e & 0xffffffffn), this.fmt);
    return subclusterType(ctype, Number(bm & 0xffffffffn), Number(bm >> 32n), sc, this.extendedL2);
  }

  /** The subcluster kind at a guest offset (no allocation). */
  kindAt(offset: number): number {
    const l2 = this.l2For(offset);
    if (!l2) return KIND_UNALLOCATED_PLAIN;
    const i = this.l2IndexOf(offset);
    const sc = Math.floor((offset % this.clusterSize) / this.subclusterSize);
    return this.kindOf(this.entry(l2, i), this.bitmap(l2, i), sc);
  }

  /** The host cluster of an entry (L2E_OFFSET_MASK), 0 when it has none. */
  hostOf(e: bigint): number {
    return Number(e & L2E_OFFSET_MASK);
  }

  /** qcow2_free_any_cluster(). */
  freeAnyCluster(e: bigint): void {
    if (e & QCOW_OFLAG_COMPRESSED) {
      throw new UnsupportedError(
        { file: this.file.name, structure: 'L2 entry' },
        'the writer does not free compressed clusters',
      );
    }
    const host = this.hostOf(e);
    if (host) this.rc.free(host, this.clusterSize);
  }

  corrupt(offset: number, what: string): CorruptError {
    return new CorruptError({ file: this.file.name, structure: 'L2 entry', offset }, what);
  }
}
