/**
 * qcow2_check_read_snapshot_table() (QEMU 7.2 block/qcow2-snapshot.c), without repair: the
 * snapshot table's position is validated as qcow2_validate_table(..., "snapshot table") does,
 * the table is read by the one reader (qcow2/snapshots.ts), and v3 entries without the
 * mandatory extra data are counted as corruptions. A failure ends the check as QEMU's does,
 * with its lines ("qemu-img: ERROR snapshot table too large", "qemu-img: ERROR failed to read
 * the snapshot table: ...") and the hint after them.
 */
import { isClusterscopeError } from '../errors.ts';
import { MAX_SNAPSHOTS } from '../limits.ts';
import {
  readSnapshotTable,
  SNAPSHOT_HEADER_BYTES,
  SNAPSHOT_V3_MIN_EXTRA_BYTES,
  type SnapshotTable,
  SnapshotTableError,
} from '../qcow2/snapshots.ts';
import { CheckAbort, type Checker, EFBIG, EINVAL, EIO } from './checker.ts';

export async function checkSnapshotTable(c: Checker): Promise<SnapshotTable> {
  const img = c.img;
  const h = img.header;
  const where = (structure: string, offset?: number) => ({ file: img.name, structure, offset });
  const nb = h.nbSnapshots;
  // qcow2_validate_table(bs, snapshots_offset, nb_snapshots, sizeof(QCowSnapshotHeader),
  // sizeof(QCowSnapshotHeader) * QCOW_MAX_SNAPSHOTS, "snapshot table").
  if (nb > MAX_SNAPSHOTS) {
    c.checkErrors++;
    c.report('ERROR snapshot table too large');
    c.say(`You can force-remove all ${nb - MAX_SNAPSHOTS} overhanging snapshots with qemu-img check -r all`);
    throw new CheckAbort(EFBIG, where('header nb_snapshots', 60));
  }
  const off = h.snapshotsOffset;
  // "Use signed INT64_MAX as the maximum even for uint64_t header fields."
  if (off % c.cs || off > 2 ** 63 - 1 - nb * SNAPSHOT_HEADER_BYTES) {
    c.checkErrors++;
    c.report('ERROR snapshot table offset invalid');
    throw new CheckAbort(EINVAL, where('header snapshots_offset', 64));
  }
  let table: SnapshotTable;
  try {
    table = await readSnapshotTable(img);
  } catch (e) {
    if (!isClusterscopeError(e)) throw e;
    c.checkErrors++;
    c.report(`ERROR failed to read the snapshot table: ${e.detail}`);
    if (e instanceof SnapshotTableError) c.say(e.hint);
    throw new CheckAbort(e instanceof SnapshotTableError ? EFBIG : EIO, e);
  }
  // "All of v3 images' snapshot table entries need to have at least 16 bytes of extra data."
  if (h.version >= 3) {
    table.snapshots.forEach((s, i) => {
      if (s.extraDataSize < SNAPSHOT_V3_MIN_EXTRA_BYTES) {
        c.corruptions++;
        c.say(`ERROR snapshot table entry ${i} is incomplete`);
      }
    });
  }
  return table;
}

/** The snapshot L1 offset as QEMU's %#PRIx64 prints it (0 prints as `0`). */
export const l1OffsetAlt = (hexDigits: string): string => (hexDigits === '0' ? '0' : `0x${hexDigits}`);
