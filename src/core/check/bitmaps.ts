/**
 * The bitmap directory as qcow2_check_bitmaps_refcounts() sees it (block/qcow2-bitmap.c): the
 * one reader of qcow2/bitmaps.ts (bitmap_list_load(), check_dir_entry(), check_table_entry()),
 * with a refusal returned as QEMU's sentence so that the check can fail the way QEMU's does.
 */
import { isClusterscopeError } from '../errors.ts';
import { readBitmapDirectory, tableEntryProblem } from '../qcow2/bitmaps.ts';
import type { Qcow2Image } from '../qcow2/image.ts';

export interface BitmapTableRef {
  readonly name: string;
  readonly tableOffset: number;
  readonly tableEntries: number;
}

/** Returns the bitmaps, or QEMU's error text when bitmap_list_load() would refuse the directory. */
export async function loadBitmapList(
  img: Qcow2Image,
  nbBitmaps: number,
  directoryOffset: number,
  directorySize: number,
): Promise<BitmapTableRef[] | { error: string }> {
  try {
    const list = await readBitmapDirectory(img, { nbBitmaps, directoryOffset, directorySize });
    return list.map((b) => ({ name: b.name, tableOffset: b.tableOffset, tableEntries: b.tableEntries }));
  } catch (e) {
    if (isClusterscopeError(e) && e.kind !== 'io') return { error: e.detail };
    throw e;
  }
}

/** check_table_entry() (qcow2/bitmaps.ts tableEntryProblem()). */
export const bitmapTableEntryValid = (hi: number, lo: number, clusterSize: number): boolean =>
  tableEntryProblem(hi, lo, clusterSize) === undefined;
