/**
 * A qcow2 writer in memory, for the lessons and the sandbox: `qemu-img create` and qemu-io's
 * `write -P`, `write -z [-u]`, `discard`, plus `qemu-img snapshot -c` and the emptying step of
 * `qemu-img commit`, with QEMU 7.2's allocation semantics (block/qcow2.c, qcow2-cluster.c,
 * qcow2-refcount.c, qcow2-snapshot.c; reference §6.1). The image it writes opens in QEMU and
 * passes `qemu-img check` with no errors and no leaks.
 *
 * Every public operation behaves like one qemu-io (or qemu-img) invocation: QEMU opens the image,
 * which resets the free-cluster search to the start of the file, does the operation, closes it.
 * State lives in the file; the object only caches the header's fields.
 */
import { CorruptError, LimitError, UnsupportedError } from '../errors.ts';
import { MAX_BACKING_FORMAT_BYTES, MAX_BACKING_NAME_BYTES, MAX_L1_ENTRIES } from '../limits.ts';
import { EXT_BACKING_FORMAT, EXT_FEATURE_TABLE } from '../qcow2/extensions.ts';
import { FEATURE_TYPES, QCOW2_FEATURES } from '../qcow2/features.ts';
import { INCOMPAT_EXTL2, QCOW_MAGIC } from '../qcow2/header.ts';
import {
  clusterType,
  type EntryFormat,
  L2E_OFFSET_MASK,
  QCOW_L2_BITMAP_ALL_ZEROES,
  QCOW_OFLAG_COMPRESSED,
  QCOW_OFLAG_COPIED,
  QCOW_OFLAG_ZERO,
  qcowOflagSubAllocRange,
  qcowOflagSubZeroRange,
  subclusterType,
} from '../qcow2/l2entry.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_OFFSET_VALID,
  BDRV_BLOCK_ZERO,
} from '../status/flags.ts';
import {
  KIND_COMPRESSED,
  KIND_ERROR,
  KIND_NORMAL,
  KIND_UNALLOCATED_ALLOC,
  KIND_UNALLOCATED_PLAIN,
  KIND_ZERO_ALLOC,
  KIND_ZERO_PLAIN,
} from '../status/kinds.ts';
import { OutOfRangeError, refuse } from './errors.ts';
import { isZero, type NodeStatus, roundDown, roundUp, type WritableImage } from './image.ts';
import { MAX_WRITER_VIRTUAL_SIZE } from './limits.ts';
import { MemoryFile } from './memoryFile.ts';
import { type RefcountState, Refcounts } from './refcounts.ts';

const OFFSET_MASK = L2E_OFFSET_MASK;
const COPIED = QCOW_OFLAG_COPIED;
const COMPRESSED = QCOW_OFLAG_COMPRESSED;
const ZERO_FLAG = QCOW_OFLAG_ZERO;
const ALL_ZEROES = QCOW_L2_BITMAP_ALL_ZEROES;
const allocRange = qcowOflagSubAllocRange;
const zeroRange = qcowOflagSubZeroRange;
/** Largest request QEMU's qcow2_make_empty() discards at once: QEMU_ALIGN_DOWN(INT_MAX, cluster). */
const INT_MAX = 0x7fffffff;

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

export interface SnapshotOptions {
  /** Creation time (seconds since the epoch); defaults to now. */
  readonly dateSec?: number;
  readonly dateNsec?: number;
}

interface SnapshotRecord {
  readonly id: string;
  readonly name: string;
  readonly l1Offset: number;
  readonly l1Size: number;
  readonly dateSec: number;
  readonly dateNsec: number;
  readonly diskSize: number;
}

export class Qcow2Writer implements WritableImage {
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
  private readonly fmt: EntryFormat;
  private l1Size = 0;
  private l1Offset = 0;
  private readonly st: RefcountState;
  private readonly rc: Refcounts;
  private readonly snapshots: SnapshotRecord[] = [];
  private snapshotsOffset = 0;
  private snapshotsSize = 0;

  private constructor(o: Qcow2CreateOptions, size: number) {
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

  /**
   * qemu-img create -f qcow2 (qcow2_co_create()): header cluster, a one-cluster refcount table
   * at cluster 1 pointing to the refcount block at cluster 2, then the L1 table allocated by
   * growing the image to its size. The bytes equal qemu-img 7.2's.
   */
  static create(o: Qcow2CreateOptions): Qcow2Writer {
    const name = o.name;
    const version = o.version ?? 3;
    const clusterBits = o.clusterBits ?? 16;
    const refcountOrder = o.refcountOrder ?? 4;
    if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) {
      throw refuse(name, 'Cluster size must be a power of two between 512 and 2048k');
    }
    if (!Number.isInteger(refcountOrder) || refcountOrder < 0 || refcountOrder > 6) {
      throw refuse(name, 'Refcount width must be a power of two and may not exceed 64 bits');
    }
    if (version === 2 && refcountOrder !== 4) {
      throw refuse(name, 'Different refcount widths than 16 bits require compatibility level 1.1 or above');
    }
    if (o.extendedL2 && version === 2) {
      throw refuse(name, 'Extended L2 entries are only supported with compatibility level 1.1 and above');
    }
    if (o.extendedL2 && clusterBits < 14) {
      throw refuse(name, 'Extended L2 entries are only supported with cluster sizes of at least 16384 bytes');
    }
    if (o.backing) {
      if (new TextEncoder().encode(o.backing.name).length > MAX_BACKING_NAME_BYTES) {
        throw refuse(name, 'Backing file name too long');
      }
      if (o.backing.format.length > MAX_BACKING_FORMAT_BYTES) throw refuse(name, 'Backing format too long');
    }
    const requested = o.size ?? o.backing?.image.length;
    if (requested === undefined) throw refuse(name, 'Image creation needs a size parameter');
    if (!Number.isInteger(requested) || requested < 0 || requested > MAX_WRITER_VIRTUAL_SIZE) {
      throw new LimitError(
        { file: name, structure: 'create options' },
        `size ${requested} is not between 0 and MAX_WRITER_VIRTUAL_SIZE`,
      );
    }
    const w = new Qcow2Writer(o, roundUp(requested, 512));
    const cs = w.clusterSize;
    // Cluster 0: header (rewritten below); cluster 1: refcount table; cluster 2: refcount block.
    w.file.extendTo(3 * cs);
    w.file.setU64(cs, BigInt(2 * cs));
    w.st.reftableOffset = cs;
    w.st.reftableClusters = 1;
    w.rc.alloc(3 * cs);
    // qcow2_co_truncate() -> qcow2_grow_l1_table(exact size): the L1 table, l1_size * 8 bytes.
    const l1Size = Math.ceil(w.length / (cs * w.l2Entries));
    if (l1Size > MAX_L1_ENTRIES) {
      throw new LimitError(
        { file: name, structure: 'L1 table' },
        'Active L1 table too large (MAX_L1_ENTRIES)',
      );
    }
    if (l1Size > 0) {
      w.l1Offset = w.rc.alloc(l1Size * 8);
      w.file.fill(w.l1Offset, l1Size * 8, 0);
      w.l1Size = l1Size;
    }
    w.writeHeader();
    return w;
  }

  /** qcow2_update_header(): the whole first cluster, extensions and backing name included. */
  private writeHeader(): void {
    const cs = this.clusterSize;
    const b = new Uint8Array(cs);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, QCOW_MAGIC);
    dv.setUint32(4, this.version);
    dv.setUint32(20, this.clusterBits);
    dv.setBigUint64(24, BigInt(this.length));
    dv.setUint32(36, this.l1Size);
    dv.setBigUint64(40, BigInt(this.l1Offset));
    dv.setBigUint64(48, BigInt(this.st.reftableOffset));
    dv.setUint32(56, this.st.reftableClusters);
    dv.setUint32(60, this.snapshots.length);
    dv.setBigUint64(64, BigInt(this.snapshotsOffset));
    let pos = 72;
    if (this.version === 3) {
      dv.setBigUint64(72, this.extendedL2 ? INCOMPAT_EXTL2 : 0n);
      dv.setUint32(96, this.refcountOrder);
      dv.setUint32(100, 112);
      pos = 112;
    }
    const noSpace = () =>
      new LimitError(
        { file: this.file.name, structure: 'header' },
        'Could not update qcow2 header: No space left',
      );
    const ext = (type: number, data: Uint8Array) => {
      const len = 8 + roundUp(data.length, 8);
      if (pos + len > cs) throw noSpace();
      dv.setUint32(pos, type);
      dv.setUint32(pos + 4, data.length);
      b.set(data, pos + 8);
      pos += len;
    };
    const enc = new TextEncoder();
    if (this.backingFormat !== undefined) ext(EXT_BACKING_FORMAT, enc.encode(this.backingFormat));
    // QEMU omits the feature table for clusters of 4 KiB and less: 8 names take 392 bytes,
    // which would leave almost no room for a backing file name in a 512-byte cluster.
    if (this.version === 3 && cs > 4096) {
      const t = new Uint8Array(QCOW2_FEATURES.length * 48);
      QCOW2_FEATURES.forEach(({ type, bit, name }, i) => {
        t[i * 48] = FEATURE_TYPES.indexOf(type);
        t[i * 48 + 1] = bit;
        t.set(enc.encode(name), i * 48 + 2);
      });
      ext(EXT_FEATURE_TABLE, t);
    }
    if (pos + 8 > cs) throw noSpace();
    pos += 8; // end marker
    if (this.backingName !== undefined) {
      const n = enc.encode(this.backingName);
      if (pos + n.length > cs) throw noSpace();
      b.set(n, pos);
      dv.setBigUint64(8, BigInt(pos));
      dv.setUint32(16, n.length);
    }
    this.file.write(0, b);
  }

  // ---- tables -------------------------------------------------------------------------------

  private l1Entry(i: number): bigint {
    return i < this.l1Size ? this.file.u64(this.l1Offset + i * 8) : 0n;
  }
  private entry(l2: number, i: number): bigint {
    return this.file.u64(l2 + i * this.l2EntryBytes);
  }
  private bitmap(l2: number, i: number): bigint {
    return this.extendedL2 ? this.file.u64(l2 + i * 16 + 8) : 0n;
  }
  private setEntry(l2: number, i: number, v: bigint): void {
    this.file.setU64(l2 + i * this.l2EntryBytes, v);
  }
  private setBitmap(l2: number, i: number, v: bigint): void {
    this.file.setU64(l2 + i * 16 + 8, v);
  }
  private l1IndexOf(offset: number): number {
    return Math.floor(offset / (this.clusterSize * this.l2Entries));
  }
  private l2IndexOf(offset: number): number {
    return Math.floor(offset / this.clusterSize) % this.l2Entries;
  }
  /** The L2 table covering `offset` without allocating one, or 0. */
  private l2For(offset: number): number {
    return Number(this.l1Entry(this.l1IndexOf(offset)) & OFFSET_MASK);
  }

  /**
   * get_cluster_table(): the L2 table for `offset`, allocated if there is none and copied
   * (l2_allocate()) if the L1 entry lacks the copied flag because a snapshot shares it.
   */
  private clusterTable(offset: number): { l2: number; index: number } {
    const i = this.l1IndexOf(offset);
    const e = this.l1Entry(i);
    let l2 = Number(e & OFFSET_MASK);
    if (!(e & COPIED)) {
      const cs = this.clusterSize;
      const fresh = this.rc.alloc(cs);
      const content = l2 ? this.file.readPadded(l2, cs) : new Uint8Array(cs);
      this.file.write(fresh, content);
      this.file.setU64(this.l1Offset + i * 8, BigInt(fresh) | COPIED);
      if (l2) this.rc.free(l2, cs);
      l2 = fresh;
    }
    return { l2, index: this.l2IndexOf(offset) };
  }

  /** qcow2_get_subcluster_type() on an entry and its bitmap, through the codec. */
  private kindOf(e: bigint, bm: bigint, sc: number): number {
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

  private corrupt(offset: number, what: string): CorruptError {
    return new CorruptError({ file: this.file.name, structure: 'L2 entry', offset }, what);
  }

  // ---- reading ------------------------------------------------------------------------------

  readGuest(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const end = Math.min(offset + length, this.length);
    const sub = this.subclusterSize;
    let pos = offset;
    while (pos < end) {
      const stop = Math.min(end, roundDown(pos, sub) + sub);
      const kind = this.kindAt(pos);
      if (kind === KIND_NORMAL) {
        const l2 = this.l2For(pos);
        const host = Number(this.entry(l2, this.l2IndexOf(pos)) & OFFSET_MASK) + (pos % this.clusterSize);
        out.set(this.file.readPadded(host, stop - pos), pos - offset);
      } else if (kind === KIND_UNALLOCATED_PLAIN || kind === KIND_UNALLOCATED_ALLOC) {
        const b = this.backing;
        if (b && pos < b.length) {
          const n = Math.min(stop, b.length) - pos;
          out.set(b.readGuest(pos, n), pos - offset);
        }
      } else if (kind === KIND_COMPRESSED) {
        throw new UnsupportedError(
          { file: this.file.name, structure: 'L2 entry', offset: pos },
          'the writer does not read compressed clusters',
        );
      } else if (kind === KIND_ERROR) {
        throw this.corrupt(pos, 'invalid subcluster allocation bitmap');
      }
      pos = stop;
    }
    return out;
  }

  /**
   * qcow2_co_block_status() through qcow2_get_host_offset() and count_contiguous_subclusters(),
   * then the generic layer's ALLOCATED / no-backing ZERO / beyond-backing-EOF ZERO (reference §3.3-3.6).
   */
  nodeStatus(offset: number, bytes: number): NodeStatus {
    const cs = this.clusterSize;
    const sub = this.subclusterSize;
    const inCluster = offset % cs;
    const l2i = this.l2IndexOf(offset);
    const needed = Math.min(bytes, this.length - offset, (this.l2Entries - l2i) * cs - inCluster) + inCluster;
    const l2 = this.l2For(offset);
    let kind = KIND_UNALLOCATED_PLAIN;
    let available = needed;
    if (l2) {
      const sc0 = Math.floor(inCluster / sub);
      const nbClusters = Math.ceil(needed / cs);
      kind = this.kindOf(this.entry(l2, l2i), this.bitmap(l2, l2i), sc0);
      if (kind === KIND_ERROR) throw this.corrupt(offset, 'invalid subcluster allocation bitmap');
      const checkOffset = kind === KIND_NORMAL || kind === KIND_ZERO_ALLOC || kind === KIND_UNALLOCATED_ALLOC;
      let expected = Number(this.entry(l2, l2i) & OFFSET_MASK);
      let count = 0;
      for (let i = 0; i < nbClusters; i++) {
        const first = i === 0 ? sc0 : 0;
        const e = this.entry(l2, l2i + i);
        const bm = this.bitmap(l2, l2i + i);
        if (i > 0) {
          if (this.kindOf(e, bm, 0) !== kind) break;
          if (checkOffset) {
            expected += cs;
            if (Number(e & OFFSET_MASK) !== expected) break;
          }
        }
        let n = 1;
        const per = this.extendedL2 ? 32 : 1;
        while (first + n < per && this.kindOf(e, bm, first + n) === kind) n++;
        count += n;
        if (kind === KIND_COMPRESSED || first + n < per) break;
      }
      available = Math.min(needed, (count + sc0) * sub);
    }
    const n = available - inCluster;
    let flags = 0;
    if (kind === KIND_NORMAL) flags = BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID;
    else if (kind === KIND_COMPRESSED) flags = BDRV_BLOCK_DATA;
    else if (kind === KIND_ZERO_ALLOC) flags = BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID;
    else if (kind === KIND_ZERO_PLAIN) flags = BDRV_BLOCK_ZERO;
    else if (kind === KIND_UNALLOCATED_ALLOC) flags = BDRV_BLOCK_OFFSET_VALID;
    if (flags & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO)) flags |= BDRV_BLOCK_ALLOCATED;
    else if (!this.backing || offset >= this.backing.length) flags |= BDRV_BLOCK_ZERO;
    return { flags, n };
  }

  // ---- writing data -------------------------------------------------------------------------

  private check(offset: number, length: number): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0) {
      throw new OutOfRangeError(this.file.name, offset, length, this.length);
    }
    if (offset + length > this.length) throw new OutOfRangeError(this.file.name, offset, length, this.length);
  }

  /** Each operation is one QEMU open: the free-cluster search starts over (s->free_cluster_index = 0). */
  private open(): void {
    this.st.freeClusterIndex = 0;
  }

  /** qemu-io `write -P`: guest data at `offset`. */
  write(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    this.open();
    this.pwrite(offset, data);
  }

  /** cluster_needs_new_alloc(): only clusters with refcount 1 (copied flag) are written in place. */
  private needsNewAlloc(e: bigint): boolean {
    if (e & COMPRESSED) return true;
    if (!(e & OFFSET_MASK)) return true;
    return !(e & COPIED);
  }

  /**
   * qcow2_co_pwritev_part() -> qcow2_alloc_host_offset(): runs of clusters written in place
   * (handle_copied()) and runs allocated together (handle_alloc()), each new run placed right
   * after the previous one if those clusters are free, else first-fit.
   */
  private pwrite(offset: number, data: Uint8Array): void {
    const cs = this.clusterSize;
    const end = offset + data.length;
    let pos = offset;
    let nextHost = -1;
    while (pos < end) {
      const cStart = roundDown(pos, cs);
      const { l2, index } = this.clusterTable(cStart);
      const e = this.entry(l2, index);
      if (!this.needsNewAlloc(e)) {
        const host = Number(e & OFFSET_MASK);
        if (nextHost >= 0 && host !== nextHost) {
          nextHost = -1;
          continue;
        }
        const stop = Math.min(end, cStart + cs);
        this.writeInPlace(
          cStart,
          l2,
          index,
          pos - cStart,
          stop - cStart,
          data.subarray(pos - offset, stop - offset),
        );
        nextHost = host + cs;
        pos = stop;
        continue;
      }
      const maxRun = Math.min(Math.ceil((end - cStart) / cs), this.l2Entries - index);
      let nb = 1;
      while (nb < maxRun && this.needsNewAlloc(this.entry(l2, index + nb))) nb++;
      let host: number;
      let k: number;
      if (nextHost >= 0) {
        k = this.rc.allocAt(nextHost, nb);
        if (k === 0) {
          nextHost = -1;
          continue;
        }
        host = nextHost;
      } else {
        host = this.rc.alloc(nb * cs);
        k = nb;
      }
      const old: bigint[] = [];
      for (let i = 0; i < k; i++) {
        const c = cStart + i * cs;
        const a = Math.max(pos, c);
        const b = Math.min(end, c + cs);
        old.push(
          this.writeNewCluster(
            c,
            l2,
            index + i,
            host + i * cs,
            a - c,
            b - c,
            data.subarray(a - offset, b - offset),
          ),
        );
      }
      // qcow2_alloc_cluster_link_l2(): the replaced clusters are freed after the L2 update.
      for (const e0 of old) this.freeAnyCluster(e0);
      nextHost = host + k * cs;
      pos = Math.min(end, cStart + k * cs);
    }
  }

  /** The cluster's guest content with `chunk` laid over [a, b). */
  private merged(c: number, a: number, chunk: Uint8Array): Uint8Array {
    const content = this.readGuest(c, this.clusterSize);
    content.set(chunk, a);
    return content;
  }

  /** A cluster with the copied flag (calculate_l2_meta(keep_old = true)). */
  private writeInPlace(c: number, l2: number, i: number, a: number, b: number, chunk: Uint8Array): void {
    const cs = this.clusterSize;
    const sub = this.subclusterSize;
    const e = this.entry(l2, i);
    const bm = this.bitmap(l2, i);
    const host = Number(e & OFFSET_MASK);
    const scA = Math.floor(a / sub);
    const scB = Math.floor((b - 1) / sub);
    let allNormal = true;
    for (let sc = scA; sc <= scB; sc++) {
      const k = this.kindOf(e, bm, sc);
      if (k === KIND_ERROR) throw this.corrupt(c, 'invalid subcluster allocation bitmap');
      if (k !== KIND_NORMAL) allNormal = false;
    }
    if (allNormal) {
      this.file.write(host + a, chunk);
      return;
    }
    // A ZERO_ALLOC (or UNALLOCATED_ALLOC) start or end: copy-on-write to subcluster bounds.
    const from = this.kindOf(e, bm, scA) === KIND_NORMAL ? a : scA * sub;
    const to = this.kindOf(e, bm, scB) === KIND_NORMAL ? b : Math.min(cs, roundUp(b, sub));
    const content = this.merged(c, a, chunk);
    this.file.write(host + from, content.subarray(from, to));
    this.setEntry(l2, i, BigInt(host) | COPIED);
    if (this.extendedL2) {
      const r0 = Math.floor(from / sub);
      const r1 = Math.floor((to - 1) / sub) + 1;
      this.setBitmap(l2, i, (bm | allocRange(r0, r1)) & ~zeroRange(r0, r1));
    }
  }

  /**
   * A newly allocated host cluster (calculate_l2_meta(keep_old = false) and perform_cow()):
   * without subclusters the whole cluster is written; with them, only the written subclusters
   * and the allocated ones between them. Returns the replaced entry.
   */
  private writeNewCluster(
    c: number,
    l2: number,
    i: number,
    host: number,
    a: number,
    b: number,
    chunk: Uint8Array,
  ): bigint {
    const cs = this.clusterSize;
    const sub = this.subclusterSize;
    const e = this.entry(l2, i);
    const bm = this.bitmap(l2, i);
    let from = 0;
    let to = cs;
    if (this.extendedL2) {
      const scA = Math.floor(a / sub);
      const scB = Math.floor((b - 1) / sub);
      const alloc = Number(bm & 0xffffffffn);
      const kA = this.kindOf(e, bm, scA);
      const kB = this.kindOf(e, bm, scB);
      if (kA === KIND_ERROR || kB === KIND_ERROR)
        throw this.corrupt(c, 'invalid subcluster allocation bitmap');
      const ctz = alloc === 0 ? 32 : 31 - Math.clz32(alloc & -alloc);
      const clz = Math.clz32(alloc);
      if (kA === KIND_COMPRESSED) from = 0;
      else if (kA === KIND_ZERO_PLAIN || kA === KIND_UNALLOCATED_PLAIN) from = scA * sub;
      else from = Math.min(scA, ctz) * sub;
      if (kB === KIND_COMPRESSED) to = cs;
      else if (kB === KIND_ZERO_PLAIN || kB === KIND_UNALLOCATED_PLAIN) to = roundUp(b, sub);
      else to = cs - Math.min(31 - scB, clz) * sub;
    }
    const content = this.merged(c, a, chunk);
    this.file.write(host + from, content.subarray(from, to));
    this.setEntry(l2, i, BigInt(host) | COPIED);
    if (this.extendedL2) {
      const r0 = Math.floor(from / sub);
      const r1 = Math.floor((to - 1) / sub) + 1;
      this.setBitmap(l2, i, (bm | allocRange(r0, r1)) & ~zeroRange(r0, r1));
    }
    return e;
  }

  /** qcow2_free_any_cluster(). */
  private freeAnyCluster(e: bigint): void {
    if (e & COMPRESSED) {
      throw new UnsupportedError(
        { file: this.file.name, structure: 'L2 entry' },
        'the writer does not free compressed clusters',
      );
    }
    const host = Number(e & OFFSET_MASK);
    if (host) this.rc.free(host, this.clusterSize);
  }

  // ---- zeroes and discard -------------------------------------------------------------------

  /**
   * qemu-io `write -z [-u]`: bdrv_co_do_pwrite_zeroes() splits the request at subcluster
   * boundaries (pwrite_zeroes_alignment); a piece the driver refuses (-ENOTSUP) is written as
   * a buffer of zeros, i.e. as data.
   */
  writeZeroes(offset: number, length: number, unmap = false): void {
    this.check(offset, length);
    this.open();
    forEachAlignedPiece(offset, length, this.subclusterSize, (pos, num) => {
      if (!this.driverZeroes(pos, num, unmap)) this.pwrite(pos, new Uint8Array(num));
    });
  }

  /** qcow2_co_pwrite_zeroes(): false for -ENOTSUP. */
  private driverZeroes(offset: number, bytes: number, unmap: boolean): boolean {
    const sub = this.subclusterSize;
    const head = offset % sub;
    let tail = roundUp(offset + bytes, sub) - (offset + bytes);
    if (offset + bytes === this.length) tail = 0;
    if (head || tail) {
      // A partial subcluster: only if the rest of it already reads as zero.
      if (!(isZero(this, offset - head, head) && isZero(this, offset + bytes, tail))) return false;
      const start = offset - head;
      const k = this.kindAt(start);
      if (
        k !== KIND_UNALLOCATED_PLAIN &&
        k !== KIND_UNALLOCATED_ALLOC &&
        k !== KIND_ZERO_PLAIN &&
        k !== KIND_ZERO_ALLOC
      ) {
        return false;
      }
      return this.zeroize(start, sub, unmap);
    }
    return this.zeroize(offset, bytes, unmap);
  }

  /**
   * qcow2_subcluster_zeroize(). Version 2 has no zero flag: without a backing file QEMU
   * discards instead (the clusters become unallocated); with one it refuses (-ENOTSUP) and the
   * block layer writes zeros as data.
   */
  private zeroize(offset: number, bytes: number, unmap: boolean): boolean {
    const cs = this.clusterSize;
    if (this.version < 3) {
      if (this.backing) return false;
      this.clusterDiscard(offset, bytes, false);
      return true;
    }
    let end = offset + bytes;
    const head = Math.min(end, roundUp(offset, cs)) - offset;
    let pos = offset + head;
    const tail = end >= this.length ? 0 : end - Math.max(pos, roundDown(end, cs));
    end -= tail;
    if (head) this.zeroSubclusters(offset, Math.ceil(head / this.subclusterSize));
    let nb = Math.ceil((end - pos) / cs);
    while (nb > 0) {
      const done = this.zeroInL2Table(pos, nb, unmap);
      nb -= done;
      pos += done * cs;
    }
    if (tail) this.zeroSubclusters(end, Math.ceil(tail / this.subclusterSize));
    return true;
  }

  /** zero_l2_subclusters(): part of one cluster with extended L2 entries. */
  private zeroSubclusters(offset: number, count: number): void {
    const { l2, index } = this.clusterTable(offset);
    const sc = Math.floor((offset % this.clusterSize) / this.subclusterSize);
    const bm = this.bitmap(l2, index);
    const next = (bm | zeroRange(sc, sc + count)) & ~allocRange(sc, sc + count);
    if (next !== bm) this.setBitmap(l2, index, next);
  }

  /** zero_in_l2_slice(): whole clusters of one L2 table; returns how many it handled. */
  private zeroInL2Table(offset: number, nb: number, unmap: boolean): number {
    const { l2, index } = this.clusterTable(offset);
    const n = Math.min(nb, this.l2Entries - index);
    for (let i = 0; i < n; i++) {
      const old = this.entry(l2, index + i);
      const oldBm = this.bitmap(l2, index + i);
      const allocated = (old & COMPRESSED) !== 0n || (old & OFFSET_MASK) !== 0n;
      const doUnmap = (old & COMPRESSED) !== 0n || (unmap && allocated);
      let next = doUnmap ? 0n : old;
      let nextBm = oldBm;
      if (this.extendedL2) nextBm = ALL_ZEROES;
      else next |= ZERO_FLAG;
      if (next === old && nextBm === oldBm) continue;
      this.setEntry(l2, index + i, next);
      if (this.extendedL2) this.setBitmap(l2, index + i, nextBm);
      if (doUnmap) this.freeAnyCluster(old);
    }
    return n;
  }

  /**
   * qemu-io `discard`: bdrv_co_pdiscard() splits at cluster boundaries; qcow2_co_pdiscard()
   * ignores partial clusters (except a whole last cluster of an unaligned image) and, on a
   * version 2 image with a backing file, everything: without a zero flag a discarded cluster
   * would show the backing file's data.
   */
  discard(offset: number, length: number): void {
    this.check(offset, length);
    this.open();
    forEachAlignedPiece(offset, length, this.clusterSize, (pos, num) => this.driverDiscard(pos, num));
  }

  private driverDiscard(offset: number, bytes: number): void {
    const cs = this.clusterSize;
    if (this.version < 3 && this.backing) return;
    if ((offset % cs || bytes % cs) && (offset % cs || offset + bytes !== this.length)) return;
    this.clusterDiscard(offset, bytes, false);
  }

  /** qcow2_cluster_discard(). A "full" discard leaves the clusters unallocated (backing shows through). */
  private clusterDiscard(offset: number, bytes: number, full: boolean): void {
    let nb = Math.ceil(bytes / this.clusterSize);
    let pos = offset;
    while (nb > 0) {
      const done = this.discardInL2Table(pos, nb, full);
      nb -= done;
      pos += done * this.clusterSize;
    }
  }

  /** discard_in_l2_slice() (7.2: no discard-no-unref). Like QEMU, it allocates a missing L2 table. */
  private discardInL2Table(offset: number, nb: number, full: boolean): number {
    const { l2, index } = this.clusterTable(offset);
    const n = Math.min(nb, this.l2Entries - index);
    for (let i = 0; i < n; i++) {
      const old = this.entry(l2, index + i);
      const oldBm = this.bitmap(l2, index + i);
      const allocated = (old & COMPRESSED) !== 0n || (old & OFFSET_MASK) !== 0n;
      let next = old;
      let nextBm = oldBm;
      if (full) {
        next = 0n;
        nextBm = 0n;
      } else if (this.backing || allocated) {
        if (this.extendedL2) {
          next = 0n;
          nextBm = ALL_ZEROES;
        } else {
          next = this.version >= 3 ? ZERO_FLAG : 0n;
        }
      }
      if (next === old && nextBm === oldBm) continue;
      this.setEntry(l2, index + i, next);
      if (this.extendedL2) this.setBitmap(l2, index + i, nextBm);
      this.freeAnyCluster(old);
    }
    return n;
  }

  // ---- snapshots and emptying ---------------------------------------------------------------

  /**
   * `qemu-img snapshot -c NAME` (qcow2_snapshot_create()): copy the active L1 table, take one
   * more reference on every L2 table and data cluster it reaches (clearing their copied flags,
   * qcow2_update_snapshot_refcount()), then write a new snapshot table and free the old one.
   */
  snapshot(name: string, opts: SnapshotOptions = {}): void {
    this.open();
    const now = Date.now();
    const dateSec = opts.dateSec ?? Math.floor(now / 1000);
    const dateNsec = opts.dateNsec ?? (now % 1000) * 1_000_000;
    let maxId = 0;
    for (const s of this.snapshots) maxId = Math.max(maxId, Number.parseInt(s.id, 10) || 0);
    const l1Bytes = this.l1Size * 8;
    const l1Offset = this.rc.alloc(l1Bytes);
    this.file.write(l1Offset, this.file.readPadded(this.l1Offset, l1Bytes));
    this.updateSnapshotRefcount();
    this.snapshots.push({
      id: String(maxId + 1),
      name,
      l1Offset,
      l1Size: this.l1Size,
      dateSec,
      dateNsec,
      diskSize: this.length,
    });
    this.writeSnapshots();
  }

  private updateSnapshotRefcount(): void {
    const cs = this.clusterSize;
    for (let i = 0; i < this.l1Size; i++) {
      const l1e = this.l1Entry(i);
      const l2 = Number(l1e & OFFSET_MASK);
      if (!l2) continue;
      for (let j = 0; j < this.l2Entries; j++) {
        const old = this.entry(l2, j);
        let e = old & ~COPIED;
        if (e & COMPRESSED) {
          throw new UnsupportedError(
            { file: this.file.name, structure: 'L2 entry' },
            'the writer does not snapshot compressed clusters',
          );
        }
        const host = Number(e & OFFSET_MASK);
        let refcount = 0;
        if (host) {
          this.rc.ref(host, cs);
          refcount = this.rc.get(host / cs);
        }
        if (refcount === 1) e |= COPIED;
        if (e !== old) this.setEntry(l2, j, e);
      }
      this.rc.ref(l2, cs);
      const next = this.rc.get(l2 / cs) === 1 ? BigInt(l2) | COPIED : BigInt(l2);
      if (next !== l1e) this.file.setU64(this.l1Offset + i * 8, next);
    }
  }

  /** qcow2_write_snapshots(): 40-byte header, 24 bytes of extra data, id, name; 8-byte aligned. */
  private writeSnapshots(): void {
    const enc = new TextEncoder();
    const encoded = this.snapshots.map((s) => ({ s, id: enc.encode(s.id), name: enc.encode(s.name) }));
    let size = 0;
    for (const x of encoded) size = roundUp(size, 8) + 40 + 24 + x.id.length + x.name.length;
    const table = this.rc.alloc(size);
    let at = table;
    const f = this.file;
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
    f.setU32(60, this.snapshots.length);
    f.setU64(64, BigInt(table));
    this.rc.free(this.snapshotsOffset, this.snapshotsSize);
    this.snapshotsOffset = table;
    this.snapshotsSize = size;
  }

  /**
   * bdrv_make_empty() as `qemu-img commit` calls it on the top after copying
   * (qcow2_make_empty()): a v3 image without snapshots is reset to a fresh layout
   * (make_completely_empty()); otherwise every cluster is discarded with full_discard, which
   * leaves L2 entries 0 so that the backing file shows through (and allocates L2 tables).
   */
  makeEmpty(): void {
    this.open();
    const cs = this.clusterSize;
    const l1Clusters = Math.ceil(this.l1Size / (cs / 8));
    if (this.version >= 3 && this.snapshots.length === 0 && 3 + l1Clusters <= this.rc.blockEntries) {
      this.file.fill(this.l1Offset, l1Clusters * cs, 0);
      this.file.fill(cs, (2 + l1Clusters) * cs, 0);
      this.l1Offset = 3 * cs;
      this.st.reftableOffset = cs;
      this.st.reftableClusters = 1;
      this.file.setU64(cs, BigInt(2 * cs));
      this.st.freeClusterIndex = 0;
      const first = this.rc.alloc(3 * cs + this.l1Size * 8);
      if (first !== 0) throw this.corrupt(0, 'First cluster in emptied image is in use');
      this.writeHeader();
      this.file.truncate((3 + l1Clusters) * cs);
      return;
    }
    const step = roundDown(INT_MAX, cs);
    for (let offset = 0; offset < this.length; offset += step) {
      this.clusterDiscard(offset, Math.min(step, this.length - offset), true);
    }
  }
}

/**
 * How the block layer splits a request before the driver sees it (bdrv_co_do_pwrite_zeroes(),
 * bdrv_co_pdiscard()): an unaligned head up to the next `align` boundary, then the aligned
 * middle in one piece, then the unaligned tail.
 */
function forEachAlignedPiece(
  offset: number,
  length: number,
  align: number,
  piece: (pos: number, num: number) => void,
): void {
  let head = offset % align;
  const tail = (offset + length) % align;
  let pos = offset;
  let left = length;
  while (left > 0) {
    let num = left;
    if (head) {
      num = Math.min(left, align - head);
      head = (head + num) % align;
    } else if (tail && num > align) {
      num -= tail;
    }
    piece(pos, num);
    pos += num;
    left -= num;
  }
}
