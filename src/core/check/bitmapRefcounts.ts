/**
 * qcow2_check_bitmaps_refcounts() (QEMU 7.2 block/qcow2-bitmap.c), part of
 * calculate_refcounts(): the bitmap directory, each bitmap table and each of its data clusters
 * counted in the in-memory refcount table. A directory or table QEMU refuses to load ends the
 * check (EINVAL). The directory's validation is check/bitmaps.ts's.
 */

import { AUTOCLEAR_BITMAPS } from '../qcow2/header.ts';
import { readTable, toU32Pairs } from '../qcow2/image.ts';
import { entryHex, entryOffset, OFFSET_MASK_HI, OFFSET_MASK_LO } from '../qcow2/l2entry.ts';
import { bitmapTableEntryValid, loadBitmapList } from './bitmaps.ts';
import { CheckAbort, type Checker, EINVAL } from './checker.ts';

export async function checkBitmapsRefcounts(c: Checker): Promise<void> {
  const img = c.img;
  const bm = img.extensions.bitmaps;
  // QEMU only knows the bitmaps when autoclear bit 0 is set.
  if (!bm || !(img.header.autoclearFeatures & AUTOCLEAR_BITMAPS)) return;
  const where = { file: img.name, structure: 'bitmap directory', offset: bm.directoryOffset };
  c.inc(bm.directoryOffset, bm.directorySize);
  const list = await loadBitmapList(img, bm.nbBitmaps, bm.directoryOffset, bm.directorySize);
  if ('error' in list) {
    c.corruptions++;
    throw new CheckAbort(EINVAL, where);
  }
  for (const b of list) {
    c.inc(b.tableOffset, b.tableEntries * 8);
    const table = toU32Pairs(await readTable(img.source, b.tableOffset, b.tableEntries * 8));
    // bitmap_table_load() refuses the whole table if any entry is invalid.
    for (let i = 0; i < b.tableEntries; i++) {
      if (!bitmapTableEntryValid(table[2 * i]!, table[2 * i + 1]!, c.cs)) {
        c.corruptions++;
        throw new CheckAbort(EINVAL, {
          file: img.name,
          structure: `bitmap table (${b.name})`,
          offset: b.tableOffset,
        });
      }
    }
    for (let i = 0; i < b.tableEntries; i++) {
      const hi = table[2 * i]!;
      const lo = table[2 * i + 1]!;
      const off = entryOffset(hi, lo);
      if (off === 0) continue;
      c.inc(off, c.cs, () => entryHex(hi & OFFSET_MASK_HI, lo & OFFSET_MASK_LO));
    }
  }
}
