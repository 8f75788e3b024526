/**
 * The internal snapshot table (spec "Snapshots"; reference §2.9): the one reader, as QEMU 7.2's
 * qcow2_do_read_snapshots() reads it without repair. Opening an image (readSnapshots) and
 * `qemu-img check` (readSnapshotTable) both go through it.
 *
 * What that function refuses is an error here, with QEMU's sentence: "Too much extra metadata
 * in snapshot table entry N", "Snapshot table is too big" (both -EFBIG: LimitError, with the
 * hint QEMU prints on the next line). What only `qemu-img check` reports (unaligned or
 * oversized snapshot L1 tables, v3 entries without the mandatory extra data) is left to the
 * check, and recorded as a finding on the image when it is opened, so that `info` opens every
 * image QEMU opens. Names and ids are decoded as QEMU's JSON output shows them (cString()).
 */
import { CorruptError, type ErrorWhere, LimitError } from '../errors.ts';
import { u16, u32, u64Big } from '../io/bigEndian.ts';
import { type ByteSource, readPadded } from '../io/byteSource.ts';
import { cString } from '../io/cString.ts';
import {
  MAX_L1_ENTRIES,
  MAX_SAFE_OFFSET,
  MAX_SNAPSHOT_EXTRA_DATA,
  MAX_SNAPSHOT_TABLE_BYTES,
} from '../limits.ts';
import { type Qcow2Image, readTable, toU32Pairs } from './image.ts';
import { entryHex } from './l2entry.ts';

/** Fixed part of a snapshot table entry (QCowSnapshotHeader). */
export const SNAPSHOT_HEADER_BYTES = 40;
/** Extra data QEMU knows (QCowSnapshotExtraData): vm_state_size_large, disk_size, icount. */
export const SNAPSHOT_KNOWN_EXTRA_BYTES = 24;
/** Spec: version 3 images must carry extra data up to byte 55, i.e. through disk_size. */
export const SNAPSHOT_V3_MIN_EXTRA_BYTES = 16;
/** QEMU: offset - snapshots_offset must stay at or below INT_MAX (qcow2_do_read_snapshots()). */
const INT_MAX = 0x7fffffff;

/** One entry as QEMU's QCowSnapshot holds it: every field, whatever its value. */
export interface SnapshotEntry {
  readonly id: string;
  readonly name: string;
  /** The stored L1 table offset; exact below 2^53 and for every multiple of 512. */
  readonly l1TableOffset: number;
  /** The stored L1 table offset in hex without `0x`, exact for every value (QEMU's PRIx64). */
  readonly l1TableOffsetHex: string;
  /** The stored L1 table offset's low 32 bits (its alignment, exact for every value). */
  readonly l1TableOffsetLo: number;
  readonly l1Size: number;
  readonly dateSec: number;
  readonly dateNsec: number;
  /** Guest run time in ns (vm_clock_nsec). */
  readonly vmClock: bigint;
  /** The 64-bit extra-data field when present, else the 32-bit header field (as QEMU). */
  readonly vmStateSize: bigint;
  /** Virtual disk size at snapshot time; absent when the extra data does not reach it. */
  readonly diskSize?: bigint;
  /** Instruction count; absent when the extra data does not reach it. */
  readonly icount?: bigint;
  readonly extraDataSize: number;
  /** File offset of the entry (8-byte aligned). */
  readonly entryOffset: number;
}

/** The table as the check sees it. */
export interface SnapshotTable {
  readonly snapshots: readonly SnapshotEntry[];
  /** Bytes from snapshots_offset to the end of the last entry's name (QEMU's s->snapshots_size). */
  readonly size: number;
}

/**
 * A refusal of qcow2_do_read_snapshots(): QEMU's sentence in `detail`, and the hint it prints on
 * the line after it ("You can force-remove ... with qemu-img check -r all").
 */
export class SnapshotTableError extends LimitError {
  constructor(
    where: ErrorWhere,
    detail: string,
    limit: string,
    readonly hint: string,
  ) {
    super(where, detail, limit);
  }
}

/** Reads a byte range through a growing window so a table of many small entries costs few reads. */
class WindowReader {
  private start = 0;
  private buf: Uint8Array = new Uint8Array(0);
  constructor(
    private readonly src: ByteSource,
    private readonly chunk: number,
  ) {}
  async bytes(offset: number, length: number): Promise<Uint8Array> {
    if (offset < this.start || offset + length > this.start + this.buf.length) {
      this.start = offset;
      // QEMU's bdrv_pread() on file-posix reads zeros past EOF; readPadded does the same.
      this.buf = await readPadded(this.src, offset, Math.max(length, this.chunk));
    }
    return this.buf.subarray(offset - this.start, offset - this.start + length);
  }
}

const tables = new WeakMap<Qcow2Image, Promise<SnapshotTable>>();

/**
 * qcow2_do_read_snapshots(repair = false), read once per image (later calls share the answer;
 * a failed read is not kept, so a caller may retry).
 */
export function readSnapshotTable(img: Qcow2Image): Promise<SnapshotTable> {
  let p = tables.get(img);
  if (!p) {
    p = doReadSnapshotTable(img);
    tables.set(img, p);
    p.catch(() => tables.delete(img));
  }
  return p;
}

async function doReadSnapshotTable(img: Qcow2Image): Promise<SnapshotTable> {
  const h = img.header;
  const file = img.name;
  const snapshots: SnapshotEntry[] = [];
  if (h.nbSnapshots === 0) return { snapshots, size: 0 };
  const reader = new WindowReader(img.source, Math.max(h.clusterSize, 64 * 1024));
  let offset = h.snapshotsOffset;
  for (let i = 0; i < h.nbSnapshots; i++) {
    // Entries start 8-byte aligned in the file (ROUND_UP(offset, 8) of the absolute offset).
    offset = Math.ceil(offset / 8) * 8;
    const entryOffset = offset;
    const where = { file, structure: `snapshot table entry ${i}`, offset: entryOffset };
    const e = await reader.bytes(offset, SNAPSHOT_HEADER_BYTES);
    offset += SNAPSHOT_HEADER_BYTES;
    const l1Hi = u32(e, 0);
    const l1Lo = u32(e, 4);
    const idSize = u16(e, 12);
    const nameSize = u16(e, 14);
    const extraDataSize = u32(e, 36);
    if (extraDataSize > MAX_SNAPSHOT_EXTRA_DATA) {
      throw new SnapshotTableError(
        where,
        `Too much extra metadata in snapshot table entry ${i}`,
        'MAX_SNAPSHOT_EXTRA_DATA',
        'You can force-remove this extra metadata with qemu-img check -r all',
      );
    }
    const extra = await reader.bytes(offset, Math.min(SNAPSHOT_KNOWN_EXTRA_BYTES, extraDataSize));
    let vmStateSize = BigInt(u32(e, 32));
    if (extraDataSize >= 8) vmStateSize = u64Big(extra, 0);
    const diskSize = extraDataSize >= 16 ? u64Big(extra, 8) : undefined;
    const icount = extraDataSize >= 24 ? u64Big(extra, 16) : undefined;
    // Unknown extra data beyond QCowSnapshotExtraData is kept by QEMU, skipped here.
    offset += extraDataSize;
    const id = cString(await reader.bytes(offset, idSize));
    offset += idSize;
    const name = cString(await reader.bytes(offset, nameSize));
    offset += nameSize;
    if (offset - h.snapshotsOffset > MAX_SNAPSHOT_TABLE_BYTES || offset - h.snapshotsOffset > INT_MAX) {
      throw new SnapshotTableError(
        where,
        'Snapshot table is too big',
        'MAX_SNAPSHOT_TABLE_BYTES',
        `You can force-remove all ${h.nbSnapshots - i} overhanging snapshots with qemu-img check -r all`,
      );
    }
    snapshots.push({
      id,
      name,
      l1TableOffset: l1Hi * 0x100000000 + l1Lo,
      l1TableOffsetHex: entryHex(l1Hi, l1Lo),
      l1TableOffsetLo: l1Lo,
      l1Size: u32(e, 8),
      dateSec: u32(e, 16),
      dateNsec: u32(e, 20),
      vmClock: u64Big(e, 24),
      vmStateSize,
      ...(diskSize !== undefined && { diskSize }),
      ...(icount !== undefined && { icount }),
      extraDataSize,
      entryOffset,
    });
  }
  return { snapshots, size: offset - h.snapshotsOffset };
}

/** A snapshot as `qemu-img info` shows it, with clusterscope's numbers (exact below 2^53). */
export interface Snapshot {
  readonly id: string;
  readonly name: string;
  readonly l1TableOffset: number;
  readonly l1TableOffsetHex: string;
  readonly l1Size: number;
  readonly dateSec: number;
  readonly dateNsec: number;
  /** Guest run time in ns; exact below 2^53 ns (104 days), use vmClockSec/vmClockNsec beyond. */
  readonly vmClockNs: number;
  /** vm_clock_nsec / 10^9, computed exactly (qemu-img info "vm-clock-sec"). */
  readonly vmClockSec: number;
  /** vm_clock_nsec % 10^9 (qemu-img info "vm-clock-nsec"). */
  readonly vmClockNsec: number;
  readonly vmStateSize: number;
  readonly diskSize?: number;
  /** Absent when the extra data does not reach it or it is -1 (icount off). */
  readonly icount?: number;
  readonly extraDataSize: number;
  readonly entryOffset: number;
}

const opened = new WeakMap<Qcow2Image, Promise<Snapshot[]>>();

/**
 * The snapshot table as opening the image reads it (readSnapshotTable()), once per image, with
 * its numbers as clusterscope represents them and its findings recorded on `img.findings` once.
 */
export function readSnapshots(img: Qcow2Image): Promise<Snapshot[]> {
  let p = opened.get(img);
  if (!p) {
    p = toSnapshots(img);
    opened.set(img, p);
    p.catch(() => opened.delete(img));
  }
  return p;
}

async function toSnapshots(img: Qcow2Image): Promise<Snapshot[]> {
  const h = img.header;
  const table = await readSnapshotTable(img);
  return table.snapshots.map((s, i) => {
    const where = { file: img.name, structure: `snapshot table entry ${i}`, offset: s.entryOffset };
    const exact = (v: bigint, what: string): number => {
      if (v > BigInt(MAX_SAFE_OFFSET))
        throw new LimitError(where, `${what} ${v} exceeds 2^53 (MAX_SAFE_OFFSET)`);
      return Number(v);
    };
    // qcow2_check_read_snapshot_table() and calculate_refcounts() report these; opening does not refuse them.
    if (s.l1TableOffset % h.clusterSize) {
      img.findings.push({
        ...where,
        message: `L1 table offset 0x${s.l1TableOffsetHex} is not cluster-aligned; snapshot table entry corrupted`,
      });
    } else if (s.l1Size > MAX_L1_ENTRIES) {
      img.findings.push({
        ...where,
        message: `L1 table is too large (${s.l1Size} entries); snapshot table entry corrupted`,
      });
    }
    if (h.version >= 3 && s.extraDataSize < SNAPSHOT_V3_MIN_EXTRA_BYTES) {
      img.findings.push({
        ...where,
        message: `extra data is ${s.extraDataSize} bytes; version 3 images must carry at least ${SNAPSHOT_V3_MIN_EXTRA_BYTES} (spec)`,
      });
    }
    const vmStateSize = exact(s.vmStateSize, 'VM state size');
    const diskSize = s.diskSize === undefined ? undefined : exact(s.diskSize, 'disk size');
    // QEMU stores -1 when icount was off and then omits it from qemu-img info.
    const icount =
      s.icount === undefined || s.icount === 0xffffffffffffffffn ? undefined : exact(s.icount, 'icount');
    return {
      id: s.id,
      name: s.name,
      l1TableOffset: s.l1TableOffset,
      l1TableOffsetHex: s.l1TableOffsetHex,
      l1Size: s.l1Size,
      dateSec: s.dateSec,
      dateNsec: s.dateNsec,
      vmClockNs: Number(s.vmClock),
      vmClockSec: Number(s.vmClock / 1000000000n),
      vmClockNsec: Number(s.vmClock % 1000000000n),
      vmStateSize,
      ...(diskSize !== undefined && { diskSize }),
      ...(icount !== undefined && { icount }),
      extraDataSize: s.extraDataSize,
      entryOffset: s.entryOffset,
    };
  });
}

/**
 * The snapshot's L1 table as (hi, lo) u32 pairs, like `Qcow2Image.l1`. Validated as QEMU's
 * qcow2_validate_table(..., "Snapshot L1 table") does before it loads one.
 */
export async function readSnapshotL1(
  img: Qcow2Image,
  snap: Pick<Snapshot, 'id' | 'l1TableOffset' | 'l1Size'>,
): Promise<Uint32Array> {
  const where = {
    file: img.name,
    structure: `snapshot L1 table (snapshot ${snap.id})`,
    offset: snap.l1TableOffset,
  };
  if (snap.l1Size > MAX_L1_ENTRIES) {
    throw new LimitError(where, 'Snapshot L1 table too large', 'MAX_L1_ENTRIES');
  }
  if (snap.l1TableOffset % img.header.clusterSize || snap.l1TableOffset + snap.l1Size * 8 > MAX_SAFE_OFFSET) {
    throw new CorruptError(where, 'Snapshot L1 table offset invalid');
  }
  return toU32Pairs(await readTable(img.source, snap.l1TableOffset, snap.l1Size * 8));
}

/** `0x…` of a snapshot's L1 offset as QEMU's %#PRIx64 prints it (0 prints as `0`). */
export const l1OffsetAlt = (s: Pick<SnapshotEntry, 'l1TableOffsetHex'>): string =>
  s.l1TableOffsetHex === '0' ? '0' : `0x${s.l1TableOffsetHex}`;
