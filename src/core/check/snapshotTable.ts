/**
 * The parts of the internal snapshot table the check needs: each snapshot's L1 table and the
 * table's byte length (s->snapshots_size). Private to check: src/core/qcow2/snapshots.ts (another
 * engineer's) did not exist yet when this was written; when it does, the L1 fields can come from
 * there, but the length rule below (qcow2_do_read_snapshots(): the end of the last entry's name,
 * without its padding) is specific to the check and stays here.
 */
import { CorruptError, LimitError } from '../errors.ts';
import { latin1, u16, u32, u64Safe } from '../io/bigEndian.ts';
import { readPadded } from '../io/byteSource.ts';
import { MAX_SNAPSHOT_EXTRA_DATA, MAX_SNAPSHOT_TABLE_BYTES } from '../limits.ts';
import type { Qcow2Image } from '../qcow2/image.ts';

export interface CheckSnapshot {
  readonly id: string;
  readonly name: string;
  /** undefined when the stored offset is at or above 2^53. */
  readonly l1TableOffset: number | undefined;
  readonly l1TableOffsetHex: string;
  readonly l1Size: number;
}

export interface CheckSnapshotTable {
  readonly snapshots: readonly CheckSnapshot[];
  /** Bytes from snapshots_offset to the end of the last entry's name (QEMU's snapshots_size). */
  readonly size: number;
}

const HEADER_BYTES = 40;

/** Reads the table entry by entry, as qcow2_do_read_snapshots() does (without repair). */
export async function readSnapshotTableForCheck(img: Qcow2Image): Promise<CheckSnapshotTable> {
  const h = img.header;
  const file = img.name;
  const snapshots: CheckSnapshot[] = [];
  let offset = h.snapshotsOffset;
  for (let i = 0; i < h.nbSnapshots; i++) {
    offset = Math.ceil(offset / 8) * 8;
    const head = await readPadded(img.source, offset, HEADER_BYTES);
    const l1TableOffset = u64Safe(head, 0);
    const hi = u32(head, 0);
    const lo = u32(head, 4);
    const l1Size = u32(head, 8);
    const idLen = u16(head, 12);
    const nameLen = u16(head, 14);
    const extra = u32(head, 36);
    if (extra > MAX_SNAPSHOT_EXTRA_DATA) {
      throw new CorruptError(
        { file, structure: `snapshot table entry ${i}`, offset },
        `Too much extra metadata in snapshot table entry ${i}`,
      );
    }
    offset += HEADER_BYTES + extra;
    const strings = await readPadded(img.source, offset, idLen + nameLen);
    offset += idLen + nameLen;
    if (offset - h.snapshotsOffset > MAX_SNAPSHOT_TABLE_BYTES) {
      throw new LimitError(
        { file, structure: 'snapshot table', offset: h.snapshotsOffset },
        'Snapshot table is too big',
      );
    }
    snapshots.push({
      id: latin1(strings, 0, idLen),
      name: latin1(strings, idLen, nameLen),
      l1TableOffset,
      l1TableOffsetHex: (BigInt(hi) * 0x100000000n + BigInt(lo)).toString(16),
      l1Size,
    });
  }
  return { snapshots, size: offset - h.snapshotsOffset };
}
