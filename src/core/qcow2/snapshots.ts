/**
 * The internal snapshot table (spec "Snapshots"; reference §2.9), read as QEMU 7.2's
 * qcow2_do_read_snapshots() reads it on open (repair = false). What that function refuses is an
 * error here; what only `qemu-img check` reports (unaligned or oversized snapshot L1 tables,
 * v3 entries without the mandatory extra data) is a finding on the image, so that `info` opens
 * every image QEMU opens.
 */
import { CorruptError, LimitError } from '../errors.ts';
import { u16, u32, u64Big, u64Safe } from '../io/bigEndian.ts';
import { type ByteSource, readPadded } from '../io/byteSource.ts';
import {
  MAX_L1_ENTRIES,
  MAX_SAFE_OFFSET,
  MAX_SNAPSHOT_EXTRA_DATA,
  MAX_SNAPSHOT_TABLE_BYTES,
} from '../limits.ts';
import { type Qcow2Image, readTable, toU32Pairs } from './image.ts';

/** Fixed part of a snapshot table entry (QCowSnapshotHeader). */
export const SNAPSHOT_HEADER_BYTES = 40;
/** Extra data QEMU knows (QCowSnapshotExtraData): vm_state_size_large, disk_size, icount. */
export const SNAPSHOT_KNOWN_EXTRA_BYTES = 24;
/** Spec: version 3 images must carry extra data up to byte 55, i.e. through disk_size. */
export const SNAPSHOT_V3_MIN_EXTRA_BYTES = 16;

export interface Snapshot {
  readonly id: string;
  readonly name: string;
  readonly l1TableOffset: number;
  readonly l1Size: number;
  readonly dateSec: number;
  readonly dateNsec: number;
  /** Guest run time in ns; exact below 2^53 ns (104 days), use vmClockSec/vmClockNsec beyond. */
  readonly vmClockNs: number;
  /** vm_clock_nsec / 10^9, computed exactly (qemu-img info "vm-clock-sec"). */
  readonly vmClockSec: number;
  /** vm_clock_nsec % 10^9 (qemu-img info "vm-clock-nsec"). */
  readonly vmClockNsec: number;
  /** The 64-bit extra-data field when present, else the 32-bit header field (as QEMU). */
  readonly vmStateSize: number;
  /** Virtual disk size at snapshot time; absent when the extra data does not reach it. */
  readonly diskSize?: number;
  /** Instruction count; absent when the extra data does not reach it or it is -1 (icount off). */
  readonly icount?: number;
  readonly extraDataSize: number;
  /** File offset of the entry (8-byte aligned). */
  readonly entryOffset: number;
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

/** A C string read from a fixed-length field: QEMU appends a NUL, so an embedded NUL ends it. */
function cString(b: Uint8Array): string {
  const nul = b.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(nul < 0 ? b : b.subarray(0, nul));
}

const cache = new WeakMap<Qcow2Image, Promise<Snapshot[]>>();

/**
 * The snapshot table, read once per image (later calls share the result, and findings are
 * recorded on `img.findings` once).
 */
export function readSnapshots(img: Qcow2Image): Promise<Snapshot[]> {
  let p = cache.get(img);
  if (!p) {
    p = doReadSnapshots(img);
    cache.set(img, p);
    // A failed read is not cached, so a caller may retry (e.g. after a transient I/O error).
    p.catch(() => cache.delete(img));
  }
  return p;
}

async function doReadSnapshots(img: Qcow2Image): Promise<Snapshot[]> {
  const h = img.header;
  const file = img.name;
  const out: Snapshot[] = [];
  if (h.nbSnapshots === 0) return out;
  const reader = new WindowReader(img.source, Math.max(h.clusterSize, 64 * 1024));
  let offset = h.snapshotsOffset;
  let tableLength = 0;
  for (let i = 0; i < h.nbSnapshots; i++) {
    offset = Math.ceil(offset / 8) * 8;
    tableLength = Math.ceil(tableLength / 8) * 8;
    const entryOffset = offset;
    const where = { file, structure: `snapshot table entry ${i}`, offset: entryOffset };
    const e = await reader.bytes(offset, SNAPSHOT_HEADER_BYTES);
    offset += SNAPSHOT_HEADER_BYTES;
    const l1TableOffset = u64Safe(e, 0);
    if (l1TableOffset === undefined) {
      throw new LimitError(where, `L1 table offset ${u64Big(e, 0)} exceeds 2^53 (MAX_SAFE_OFFSET)`);
    }
    const l1Size = u32(e, 8);
    const idSize = u16(e, 12);
    const nameSize = u16(e, 14);
    const dateSec = u32(e, 16);
    const dateNsec = u32(e, 20);
    const vmClock = u64Big(e, 24);
    let vmStateSize = u32(e, 32);
    const extraDataSize = u32(e, 36);
    if (extraDataSize > MAX_SNAPSHOT_EXTRA_DATA) {
      throw new LimitError(
        where,
        `Too much extra metadata in snapshot table entry ${i} (${extraDataSize} bytes > MAX_SNAPSHOT_EXTRA_DATA ${MAX_SNAPSHOT_EXTRA_DATA})`,
      );
    }
    const known = Math.min(SNAPSHOT_KNOWN_EXTRA_BYTES, extraDataSize);
    const extra = await reader.bytes(offset, known);
    let diskSize: number | undefined;
    let icount: number | undefined;
    if (extraDataSize >= 8) {
      const big = u64Safe(extra, 0);
      if (big === undefined)
        throw new LimitError(where, `VM state size ${u64Big(extra, 0)} exceeds 2^53 (MAX_SAFE_OFFSET)`);
      vmStateSize = big;
    }
    if (extraDataSize >= 16) {
      diskSize = u64Safe(extra, 8);
      if (diskSize === undefined)
        throw new LimitError(where, `disk size ${u64Big(extra, 8)} exceeds 2^53 (MAX_SAFE_OFFSET)`);
    }
    if (extraDataSize >= 24) {
      const ic = u64Big(extra, 16);
      // QEMU stores -1 when icount was off and then omits it from qemu-img info.
      if (ic !== 0xffffffffffffffffn) {
        if (ic > BigInt(MAX_SAFE_OFFSET))
          throw new LimitError(where, `icount ${ic} exceeds 2^53 (MAX_SAFE_OFFSET)`);
        icount = Number(ic);
      }
    }
    // Unknown extra data beyond QCowSnapshotExtraData is kept by QEMU, skipped here.
    offset += extraDataSize;
    const id = cString(await reader.bytes(offset, idSize));
    offset += idSize;
    const name = cString(await reader.bytes(offset, nameSize));
    offset += nameSize;

    tableLength += SNAPSHOT_HEADER_BYTES + extraDataSize + idSize + nameSize;
    if (tableLength > MAX_SNAPSHOT_TABLE_BYTES) {
      throw new LimitError(
        where,
        `Snapshot table is too big (more than MAX_SNAPSHOT_TABLE_BYTES ${MAX_SNAPSHOT_TABLE_BYTES})`,
      );
    }

    // qcow2_check_read_snapshot_table() reports these; opening does not refuse them.
    if (l1TableOffset % h.clusterSize) {
      img.findings.push({
        ...where,
        message: `L1 table offset ${hexOf(l1TableOffset)} is not cluster-aligned; snapshot table entry corrupted`,
      });
    } else if (l1Size > MAX_L1_ENTRIES) {
      img.findings.push({
        ...where,
        message: `L1 table is too large (${l1Size} entries); snapshot table entry corrupted`,
      });
    }
    if (h.version >= 3 && extraDataSize < SNAPSHOT_V3_MIN_EXTRA_BYTES) {
      img.findings.push({
        ...where,
        message: `extra data is ${extraDataSize} bytes; version 3 images must carry at least ${SNAPSHOT_V3_MIN_EXTRA_BYTES} (spec)`,
      });
    }

    const vmClockSec = Number(vmClock / 1000000000n);
    out.push({
      id,
      name,
      l1TableOffset,
      l1Size,
      dateSec,
      dateNsec,
      vmClockNs: Number(vmClock),
      vmClockSec,
      vmClockNsec: Number(vmClock % 1000000000n),
      vmStateSize,
      ...(diskSize !== undefined && { diskSize }),
      ...(icount !== undefined && { icount }),
      extraDataSize,
      entryOffset,
    });
  }
  return out;
}

const hexOf = (n: number): string => `0x${n.toString(16)}`;

/**
 * The snapshot's L1 table as (hi, lo) u32 pairs, like `Qcow2Image.l1`. Validated as QEMU's
 * qcow2_validate_table(..., "Snapshot L1 table") does before it loads one.
 */
export async function readSnapshotL1(img: Qcow2Image, snap: Snapshot): Promise<Uint32Array> {
  const where = {
    file: img.name,
    structure: `snapshot L1 table (snapshot ${snap.id})`,
    offset: snap.l1TableOffset,
  };
  if (snap.l1Size > MAX_L1_ENTRIES) {
    throw new LimitError(
      where,
      `Snapshot L1 table too large (${snap.l1Size} entries > MAX_L1_ENTRIES ${MAX_L1_ENTRIES})`,
    );
  }
  if (snap.l1TableOffset % img.header.clusterSize || snap.l1TableOffset + snap.l1Size * 8 > MAX_SAFE_OFFSET) {
    throw new CorruptError(where, 'Snapshot L1 table offset invalid');
  }
  return toU32Pairs(await readTable(img.source, snap.l1TableOffset, snap.l1Size * 8));
}
