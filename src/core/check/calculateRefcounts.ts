/**
 * calculate_refcounts() (QEMU 7.2 block/qcow2-refcount.c): every reference to a host cluster
 * counted in the in-memory refcount table, in QEMU's order: the header, the active L1 table and
 * its L2 tables (check_oflag_copied() rides along on the same tables), each snapshot's L1 and
 * L2 tables, the snapshot table, the refcount table, the LUKS header, the bitmaps, and the
 * refcount blocks.
 */
import type { Cancellation } from '../cancel.ts';
import { MAX_L1_ENTRIES } from '../limits.ts';
import type { RefcountTable } from '../qcow2/refcount.ts';
import { hexAlt } from '../qcow2/refcount.ts';
import type { SnapshotTable } from '../qcow2/snapshots.ts';
import { checkBitmapsRefcounts } from './bitmapRefcounts.ts';
import { CHECK_FRAG_INFO, type Checker } from './checker.ts';
import type { OflagCopied } from './oflagCopied.ts';
import { checkRefblocks } from './refblocks.ts';
import { checkRefcountsL1 } from './refcountsL1L2.ts';
import { l1OffsetAlt } from './snapshotTable.ts';

export async function calculateRefcounts(
  c: Checker,
  snapshots: SnapshotTable,
  reftable: RefcountTable,
  oflag: OflagCopied,
  signal?: Cancellation,
  onTable?: () => void,
): Promise<void> {
  const img = c.img;
  const h = img.header;
  const sig = { ...(signal && { signal }), ...(onTable && { onTable }) };
  // header
  c.inc(0, c.cs);
  // current L1 table
  await checkRefcountsL1(c, {
    l1: img.l1,
    offset: h.l1TableOffset,
    offsetHex: h.l1TableOffset.toString(16),
    size: h.l1Size,
    flags: CHECK_FRAG_INFO,
    oflag,
    structure: 'L1 table',
    ...sig,
  });
  // snapshots
  if (c.hasDataFile && h.nbSnapshots) {
    c.say(`ERROR ${h.nbSnapshots} snapshots in image with data file`);
    c.corruptions++;
  }
  for (const sn of snapshots.snapshots) {
    if (sn.l1TableOffsetLo % c.cs) {
      c.say(
        `ERROR snapshot ${sn.id} (${sn.name}) l1_offset=${l1OffsetAlt(sn.l1TableOffsetHex)}: L1 table is not cluster aligned; snapshot table entry corrupted`,
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
    await checkRefcountsL1(c, {
      offset: sn.l1TableOffset,
      offsetHex: sn.l1TableOffsetHex,
      size: sn.l1Size,
      flags: 0,
      structure: `snapshot L1 table (snapshot ${sn.id})`,
      ...sig,
    });
  }
  c.inc(h.snapshotsOffset, snapshots.size);
  // refcount data
  c.inc(h.refcountTableOffset, reftable.entries * 8);
  // encryption
  const crypto = img.extensions.cryptoHeader;
  if (crypto?.length) c.inc(crypto.offset, crypto.length);
  // bitmaps
  await checkBitmapsRefcounts(c);
  checkRefblocks(c, reftable);
}
