/**
 * `qemu-img check` for qcow2, as QEMU 7.2 does it without repair (block/qcow2-refcount.c
 * qcow2_check_refcounts(): calculate_refcounts(), check_refcounts_l1/l2(), check_refblocks(),
 * compare_refcounts(), check_oflag_copied(); block/qcow2-bitmap.c
 * qcow2_check_bitmaps_refcounts()).
 *
 * Every reference to a host cluster (header, active and snapshot L1/L2 tables, data and
 * compressed clusters, snapshot table, refcount table and blocks, LUKS header, bitmap directory
 * and tables) is counted in an in-memory refcount table, which is then compared with the
 * on-disk refcounts. Counts, message texts and their order follow QEMU's.
 */
import { isClusterscopeError } from '../errors.ts';
import { MAX_L1_ENTRIES, MAX_READ_BYTES, READ_COALESCE_GAP } from '../limits.ts';
import { AUTOCLEAR_BITMAPS, INCOMPAT_DATA_FILE } from '../qcow2/header.ts';
import { entryOffset, type Qcow2Image, readTable, toU32Pairs } from '../qcow2/image.ts';
import {
  clusterType,
  compressedBytes,
  compressedOffset,
  compressedOffsetHi,
  type EntryFormat,
  entryFormat,
  entryHex,
  l1ReservedBits,
  l2ReservedBits,
  OFFSET_MASK_HI,
  OFFSET_MASK_LO,
  QCOW_OFLAG_COPIED_HI,
  QCOW2_CLUSTER_COMPRESSED,
  QCOW2_CLUSTER_NORMAL,
  QCOW2_CLUSTER_UNALLOCATED,
  QCOW2_CLUSTER_ZERO_ALLOC,
  QCOW2_CLUSTER_ZERO_PLAIN,
} from '../qcow2/l2entry.ts';
import {
  hexAlt,
  RefcountReader,
  readRefcountTable,
  refcountMax,
  reftableEntryOffset,
  reftableEntryReserved,
} from '../qcow2/refcount.ts';
import { readSnapshotTable, type SnapshotTable } from '../qcow2/snapshots.ts';
import { bitmapTableEntryValid, loadBitmapList } from './bitmaps.ts';
import { InMemoryRefcounts } from './imrt.ts';
import { type CheckResult, MAX_CHECK_MESSAGES } from './result.ts';

export interface CheckOptions {
  /** The name qemu-img would print as "filename"; defaults to the image's name. */
  readonly filename?: string;
}

/** CHECK_FRAG_INFO: count allocated/fragmented/compressed clusters (active L1 only). */
const CHECK_FRAG_INFO = 2;

/** strerror() texts of the errno values a failing check returns. */
const EINVAL = 'Invalid argument';
const EIO = 'Input/output error';
const EFBIG = 'File too large';

const hex64 = entryHex;
const INT_MAX = 0x7fffffff;

/** Thrown inside the walk to end the check the way a negative return ends QEMU's. */
class CheckAbort {
  constructor(readonly strerror: string) {}
}

class Checker {
  checkErrors = 0;
  corruptions = 0;
  leaks = 0;
  allocated = 0;
  fragmented = 0;
  compressed = 0;
  readonly messages: string[] = [];
  messagesDropped = 0;
  private signaledCorruption = false;

  readonly cs: number;
  readonly cb: number;
  readonly fileLen: number;
  readonly hasDataFile: boolean;
  readonly extL2: boolean;
  readonly fmt: EntryFormat;
  readonly imrt: InMemoryRefcounts;
  /**
   * The table a read past EOF gives (QEMU's bdrv_pread() pads with zeros). One shared
   * instance, so a walk can see that a table is all zeros without scanning it: an all-zero L2
   * table has only unallocated entries and adds no reference, no message and no count.
   */
  readonly zeroTable: Uint8Array;

  constructor(readonly img: Qcow2Image) {
    const h = img.header;
    this.cs = h.clusterSize;
    this.cb = h.clusterBits;
    this.fileLen = img.source.size;
    this.hasDataFile = (h.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n;
    this.extL2 = h.extendedL2;
    this.fmt = entryFormat(h);
    this.imrt = new InMemoryRefcounts(Math.ceil(this.fileLen / this.cs), refcountMax(h));
    this.zeroTable = new Uint8Array(this.cs);
  }

  say(line: string): void {
    if (this.messages.length < MAX_CHECK_MESSAGES) this.messages.push(line);
    else this.messagesDropped++;
  }

  /** qcow2_signal_corruption() on a read-only image: printed once, then suppressed. */
  signalCorruption(message: string): void {
    if (this.signaledCorruption) return;
    this.signaledCorruption = true;
    this.say(`qcow2: Image is corrupt: ${message}; further non-fatal corruption events will be suppressed`);
  }

  /**
   * qcow2_inc_refcounts_imrt(). `offset` may be undefined for an offset at or above 2^53,
   * which always lies a cluster or more past the end of the file; `offsetHex` prints it.
   */
  /** `offsetHex` is formatted only for an error message (it runs per L2 entry: no BigInt on the hot path). */
  inc(offset: number | undefined, size: number, offsetHex?: () => string): void {
    if (size <= 0) return;
    // "Last cluster of qcow2 image may be semi-allocated, so it may be OK to reference some
    // space after file end but it should be less than one cluster."
    if (offset === undefined || offset + size - this.fileLen >= this.cs) {
      const at = offsetHex ? offsetHex() : (offset ?? 0).toString(16);
      this.say(
        `ERROR: counting reference for region exceeding the end of the file by one cluster or more: offset 0x${at} size 0x${size.toString(16)}`,
      );
      this.corruptions++;
      return;
    }
    const first = Math.floor(offset / this.cs);
    const last = Math.floor((offset + size - 1) / this.cs);
    for (let k = first; k <= last; k++) {
      if (k >= this.imrt.size) {
        if (k + 1 > INT_MAX) {
          this.checkErrors++;
          throw new CheckAbort(EFBIG);
        }
        this.imrt.grow(k + 1);
      }
      if (!this.imrt.inc(k)) {
        this.say(`ERROR: overflow cluster offset=0x${(k * this.cs).toString(16)}`);
        this.say(
          'Use qemu-img amend to increase the refcount entry width or qemu-img convert to create a clean copy if the image cannot be opened for writing',
        );
        this.corruptions++;
      }
    }
  }

  /**
   * Visits cluster-sized tables at the given offsets in order, reading neighbours together
   * (bounded by MAX_READ_BYTES, gaps up to READ_COALESCE_GAP). Offsets past EOF read as zeros,
   * as QEMU's bdrv_pread() pads them.
   */
  async forEachTable(
    offsets: readonly (number | undefined)[],
    visit: (index: number, table: Uint8Array) => void | Promise<void>,
  ): Promise<void> {
    const cs = this.cs;
    let i = 0;
    while (i < offsets.length) {
      const start = offsets[i];
      if (start === undefined || start >= this.fileLen) {
        await visit(i, this.zeroTable);
        i++;
        continue;
      }
      let j = i + 1;
      let end = start + cs;
      while (j < offsets.length) {
        const o = offsets[j];
        if (o === undefined || o < end - cs || o >= this.fileLen) break;
        if (o - end > READ_COALESCE_GAP || o + cs - start > MAX_READ_BYTES) break;
        end = Math.max(end, o + cs);
        j++;
      }
      const bytes = await readTable(this.img.source, start, end - start);
      for (let k = i; k < j; k++) {
        const at = (offsets[k] as number) - start;
        await visit(k, bytes.subarray(at, at + cs));
      }
      i = j;
    }
  }

  /** check_refcounts_l2() for one table. */
  checkL2(table: Uint8Array, flags: number): void {
    // Fuzzing found L1 tables whose thousands of garbage entries point past EOF: scanning each
    // synthesized zero table entry by entry took minutes and changes nothing.
    if (table === this.zeroTable) return;
    const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
    const entryBytes = this.extL2 ? 16 : 8;
    const n = this.img.header.l2Entries;
    const cs = this.cs;
    let nextContiguous = 0;
    for (let i = 0; i < n; i++) {
      const hi = dv.getUint32(i * entryBytes);
      const lo = dv.getUint32(i * entryBytes + 4);
      const bmHi = this.extL2 ? dv.getUint32(i * entryBytes + 8) : 0;
      const bmLo = this.extL2 ? dv.getUint32(i * entryBytes + 12) : 0;
      const type = clusterType(hi, lo, this.fmt);

      if (type !== QCOW2_CLUSTER_COMPRESSED && l2ReservedBits(hi, lo)) {
        this.say(`ERROR found l2 entry with reserved bits set: ${hex64(hi, lo)}`);
        this.corruptions++;
      }

      switch (type) {
        case QCOW2_CLUSTER_COMPRESSED: {
          const coffsetHex = () => hex64(compressedOffsetHi(hi, this.cb), lo);
          if (hi & QCOW_OFLAG_COPIED_HI) {
            this.say(
              `ERROR: coffset=0x${coffsetHex()}: copied flag must never be set for compressed clusters`,
            );
            this.corruptions++;
          }
          const entryHex = hex64(hi & ~QCOW_OFLAG_COPIED_HI, lo);
          if (this.hasDataFile) {
            this.say(`ERROR compressed cluster ${i} with data file, entry=0x${entryHex}`);
            this.corruptions++;
            break;
          }
          if (bmHi || bmLo) {
            this.say(
              `ERROR compressed cluster ${i} with non-zero subcluster allocation bitmap, entry=0x${entryHex}`,
            );
            this.corruptions++;
            break;
          }
          // qcow2_parse_compressed_l2_entry()
          const csize = compressedBytes(hi, lo, this.cb);
          const coffset =
            compressedOffsetHi(hi, this.cb) < 0x200000 ? compressedOffset(hi, lo, this.cb) : undefined;
          this.inc(coffset, csize, coffsetHex);
          if (flags & CHECK_FRAG_INFO) {
            this.allocated++;
            this.compressed++;
            // "Compressed clusters are fragmented by nature."
            this.fragmented++;
          }
          break;
        }
        case QCOW2_CLUSTER_ZERO_ALLOC:
        case QCOW2_CLUSTER_NORMAL: {
          const huge = (hi & 0x00e00000) !== 0;
          const offset = entryOffset(hi, lo);
          const offHex = () => hex64(hi & OFFSET_MASK_HI, lo & OFFSET_MASK_LO);
          if ((bmHi & bmLo) !== 0) {
            this.corruptions++;
            this.say(
              `ERROR offset=${offHex()}: Allocated cluster has corrupted subcluster allocation bitmap`,
            );
          }
          if (offset % cs) {
            this.corruptions++;
            const containsData = this.extL2 ? bmLo !== 0 : !(lo & 1);
            this.say(
              containsData
                ? `ERROR offset=${offHex()}: Data cluster is not properly aligned; L2 entry corrupted.`
                : `ERROR offset=${offHex()}: Preallocated cluster is not properly aligned; L2 entry corrupted.`,
            );
          }
          if (flags & CHECK_FRAG_INFO) {
            this.allocated++;
            if (nextContiguous && offset !== nextContiguous) this.fragmented++;
            nextContiguous = offset + cs;
          }
          if (!this.hasDataFile) this.inc(huge ? undefined : offset, cs, offHex);
          break;
        }
        case QCOW2_CLUSTER_ZERO_PLAIN:
          break;
        case QCOW2_CLUSTER_UNALLOCATED:
          if (bmLo) {
            this.corruptions++;
            this.say('ERROR: Unallocated cluster has non-zero subcluster allocation map');
          }
          break;
      }
    }
  }

  /** check_refcounts_l1() */
  async checkL1(l1Offset: number, l1Size: number, flags: number): Promise<void> {
    if (!l1Size) return;
    this.inc(l1Offset, l1Size * 8);
    const l1 = toU32Pairs(await readTable(this.img.source, l1Offset, l1Size * 8));
    const present: number[] = [];
    const offsets: (number | undefined)[] = [];
    for (let i = 0; i < l1Size; i++) {
      const hi = l1[2 * i] ?? 0;
      const lo = l1[2 * i + 1] ?? 0;
      if (!hi && !lo) continue;
      present.push(i);
      offsets.push((hi & 0x00e00000) !== 0 ? undefined : entryOffset(hi, lo));
    }
    // The L2 tables are visited in L1 order; only the reads are batched.
    await this.forEachTable(offsets, (k, table) => {
      const i = present[k]!;
      const hi = l1[2 * i]!;
      const lo = l1[2 * i + 1]!;
      if (l1ReservedBits(hi, lo)) {
        this.say(`ERROR found L1 entry with reserved bits set: ${hex64(hi, lo)}`);
        this.corruptions++;
      }
      const l2Offset = offsets[k];
      const l2Hex = () => hex64(hi & OFFSET_MASK_HI, lo & OFFSET_MASK_LO);
      this.inc(l2Offset, this.cs, l2Hex);
      if (l2Offset !== undefined && l2Offset % this.cs) {
        this.say(`ERROR l2_offset=${l2Hex()}: Table is not cluster aligned; L1 entry corrupted`);
        this.corruptions++;
      }
      this.checkL2(table, flags);
    });
  }
}

/**
 * Checks a qcow2 image like `qemu-img check` (no repair). Never throws for what QEMU reports as
 * findings; a check QEMU would abort comes back with `failure` set.
 */
export async function checkImage(img: Qcow2Image, opts: CheckOptions = {}): Promise<CheckResult> {
  const c = new Checker(img);
  const h = img.header;
  let failure: string | undefined;
  let highest = 0;
  try {
    if (c.imrt.size > INT_MAX) {
      c.checkErrors++;
      throw new CheckAbort(EFBIG);
    }

    // qcow2_check_read_snapshot_table() runs first; its failures abort the check.
    let snapTable: SnapshotTable;
    try {
      snapTable = await readSnapshotTable(img);
    } catch (e) {
      if (!isClusterscopeError(e)) throw e;
      c.checkErrors++;
      c.say(`ERROR failed to read the snapshot table: ${e.detail}`);
      throw new CheckAbort(e.kind === 'limit' ? EFBIG : EINVAL);
    }

    // calculate_refcounts()
    c.inc(0, c.cs);
    await c.checkL1(h.l1TableOffset, h.l1Size, CHECK_FRAG_INFO);

    if (c.hasDataFile && h.nbSnapshots) {
      c.say(`ERROR ${h.nbSnapshots} snapshots in image with data file`);
      c.corruptions++;
    }
    for (const sn of snapTable.snapshots) {
      if (sn.l1TableOffset % c.cs) {
        c.say(
          `ERROR snapshot ${sn.id} (${sn.name}) l1_offset=${sn.l1TableOffsetHex === '0' ? '0' : `0x${sn.l1TableOffsetHex}`}: L1 table is not cluster aligned; snapshot table entry corrupted`,
        );
        c.corruptions++;
        continue;
      }
      if (sn.l1Size > MAX_L1_ENTRIES) {
        c.say(
          `ERROR snapshot ${sn.id} (${sn.name}) l1_size=${hexAlt(sn.l1Size)}: L1 table is too large; snapshot table entry corrupted`,
        );
        c.corruptions++;
        continue;
      }
      await c.checkL1(sn.l1TableOffset, sn.l1Size, 0);
    }
    c.inc(h.snapshotsOffset, snapTable.size);

    const reftable = await readRefcountTable(img);
    c.inc(h.refcountTableOffset, reftable.entries * 8);

    const crypto = img.extensions.cryptoHeader;
    if (crypto?.length) c.inc(crypto.offset, crypto.length);

    // qcow2_check_bitmaps_refcounts(): QEMU only knows the bitmaps when autoclear bit 0 is set.
    const bm = img.extensions.bitmaps;
    if (bm && h.autoclearFeatures & AUTOCLEAR_BITMAPS) {
      c.inc(bm.directoryOffset, bm.directorySize);
      const list = await loadBitmapList(img, bm.nbBitmaps, bm.directoryOffset, bm.directorySize);
      if ('error' in list) {
        c.corruptions++;
        throw new CheckAbort(EINVAL);
      }
      for (const b of list) {
        c.inc(b.tableOffset, b.tableEntries * 8);
        const table = toU32Pairs(await readTable(img.source, b.tableOffset, b.tableEntries * 8));
        // bitmap_table_load() refuses the whole table if any entry is invalid.
        for (let i = 0; i < b.tableEntries; i++) {
          if (!bitmapTableEntryValid(table[2 * i]!, table[2 * i + 1]!, c.cs)) {
            c.corruptions++;
            throw new CheckAbort(EINVAL);
          }
        }
        for (let i = 0; i < b.tableEntries; i++) {
          const hi = table[2 * i]!;
          const lo = table[2 * i + 1]!;
          const off = entryOffset(hi, lo);
          if (off === 0) continue;
          c.inc((hi & 0x00e00000) !== 0 ? undefined : off, c.cs, () =>
            hex64(hi & OFFSET_MASK_HI, lo & OFFSET_MASK_LO),
          );
        }
      }
    }

    // check_refblocks()
    for (let i = 0; i < reftable.entries; i++) {
      if (reftableEntryReserved(reftable, i)) {
        c.say(`ERROR refcount table entry ${i} has reserved bits set`);
        c.corruptions++;
        continue;
      }
      const off = reftableEntryOffset(reftable, i);
      if (off !== undefined && off % c.cs) {
        c.say(`ERROR refcount block ${i} is not cluster aligned; refcount table entry corrupted`);
        c.corruptions++;
        continue;
      }
      if (off === undefined || Math.floor(off / c.cs) >= c.imrt.size) {
        c.corruptions++;
        c.say(`ERROR refcount block ${i} is outside image`);
        continue;
      }
      if (off !== 0) {
        c.inc(off, c.cs);
        const rc = c.imrt.get(off / c.cs);
        if (rc !== 1) {
          c.say(`ERROR refcount block ${i} refcount=${rc}`);
          c.corruptions++;
        }
      }
    }

    // compare_refcounts(), read in bounded slices of the on-disk refcounts.
    const reader = new RefcountReader(img, reftable);
    const nb = c.imrt.size;
    const slice = Math.max(reader.blockEntries, 1 << 20);
    for (let first = 0; first < nb; first += slice) {
      const count = Math.min(slice, nb - first);
      const { values, problems } = await reader.readRange(first, count);
      if (problems.length) c.signalCorruption(problems[0]!.error.detail);
      for (let j = 0; j < count; j++) {
        const i = first + j;
        const refcount1 = values[j]!;
        if (Number.isNaN(refcount1)) {
          c.say(`Can't get refcount for cluster ${i}: ${EIO}`);
          c.checkErrors++;
          continue;
        }
        const refcount2 = c.imrt.get(i);
        if (refcount1 > 0 || refcount2 > 0) highest = i;
        if (refcount1 !== refcount2) {
          c.say(
            `${refcount1 < refcount2 ? 'ERROR' : 'Leaked'} cluster ${i} refcount=${refcount1} reference=${refcount2}`,
          );
          if (refcount1 < refcount2) c.corruptions++;
          else c.leaks++;
        }
      }
    }

    // check_oflag_copied(): the active L1 table and its L2 tables only.
    const getRefcount = async (cluster: number): Promise<number | undefined> => {
      try {
        return await reader.get(cluster);
      } catch (e) {
        if (!isClusterscopeError(e)) throw e;
        c.signalCorruption(e.detail);
        return undefined; // "don't print message nor increment check_errors"
      }
    };
    const l1 = img.l1;
    const present: number[] = [];
    const l2Offsets: (number | undefined)[] = [];
    for (let i = 0; i < h.l1Size; i++) {
      const hi = l1[2 * i] ?? 0;
      const lo = l1[2 * i + 1] ?? 0;
      if (entryOffset(hi, lo) === 0) continue;
      present.push(i);
      l2Offsets.push((hi & 0x00e00000) !== 0 ? undefined : entryOffset(hi, lo));
    }
    const entryBytes = c.extL2 ? 16 : 8;
    await c.forEachTable(l2Offsets, async (k, table) => {
      const i = present[k]!;
      const hi = l1[2 * i]!;
      const lo = l1[2 * i + 1]!;
      const l2Offset = l2Offsets[k];
      const rc = await getRefcount(
        l2Offset === undefined ? Number.MAX_SAFE_INTEGER : Math.floor(l2Offset / c.cs),
      );
      if (rc !== undefined && (rc === 1) !== ((hi & QCOW_OFLAG_COPIED_HI) !== 0)) {
        c.corruptions++;
        c.say(`ERROR OFLAG_COPIED L2 cluster: l1_index=${i} l1_entry=${hex64(hi, lo)} refcount=${rc}`);
      }
      if (table === c.zeroTable) return; // all entries unallocated: nothing to compare
      const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
      for (let j = 0; j < h.l2Entries; j++) {
        const ehi = dv.getUint32(j * entryBytes);
        const elo = dv.getUint32(j * entryBytes + 4);
        const type = clusterType(ehi, elo, c.fmt);
        if (type !== QCOW2_CLUSTER_NORMAL && type !== QCOW2_CLUSTER_ZERO_ALLOC) continue;
        let refcount: number | undefined;
        if (c.hasDataFile) refcount = 1;
        else {
          const huge = (ehi & 0x00e00000) !== 0;
          refcount = await getRefcount(
            huge ? Number.MAX_SAFE_INTEGER : Math.floor(entryOffset(ehi, elo) / c.cs),
          );
          if (refcount === undefined) continue;
        }
        if ((refcount === 1) !== ((ehi & QCOW_OFLAG_COPIED_HI) !== 0)) {
          c.corruptions++;
          c.say(`ERROR OFLAG_COPIED data cluster: l2_entry=${hex64(ehi, elo)} refcount=${refcount}`);
        }
      }
    });
  } catch (e) {
    if (e instanceof CheckAbort) failure = e.strerror;
    else if (isClusterscopeError(e) && (e.kind === 'io' || e.kind === 'corrupt')) {
      c.checkErrors++;
      c.say(`ERROR: ${e.message}`);
      failure = e.kind === 'io' ? EIO : EINVAL;
    } else throw e;
  }

  return {
    filename: opts.filename ?? img.name,
    format: 'qcow2',
    checkErrors: c.checkErrors,
    corruptions: c.corruptions,
    leaks: c.leaks,
    corruptionsFixed: 0,
    leaksFixed: 0,
    imageEndOffset: failure === undefined ? (highest + 1) * c.cs : 0,
    totalClusters: Math.ceil(img.length / c.cs),
    allocatedClusters: c.allocated,
    fragmentedClusters: c.fragmented,
    compressedClusters: c.compressed,
    messages: c.messages,
    messagesDropped: c.messagesDropped,
    ...(failure !== undefined && { failure }),
  };
}
