/**
 * check_refblocks() (QEMU 7.2 block/qcow2-refcount.c), the last part of calculate_refcounts(),
 * without repair: every refcount table entry's reserved bits, alignment and position, and each
 * refcount block counted as referenced exactly once.
 */
import { type RefcountTable, reftableEntryOffset, reftableEntryReserved } from '../qcow2/refcount.ts';
import type { Checker } from './checker.ts';

export function checkRefblocks(c: Checker, reftable: RefcountTable): void {
  for (let i = 0; i < reftable.entries; i++) {
    if (reftableEntryReserved(reftable, i)) {
      c.say(`ERROR refcount table entry ${i} has reserved bits set`);
      c.corruptions++;
      continue;
    }
    // REFT_OFFSET_MASK keeps bit 63: such an offset is far outside any image.
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
}
