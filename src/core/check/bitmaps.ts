/**
 * The bitmap directory as qcow2_check_bitmaps_refcounts() sees it (block/qcow2-bitmap.c,
 * bitmap_list_load(), check_dir_entry(), check_table_entry()). Only what refcounting needs:
 * each bitmap's table offset and size, with QEMU's validation so that a directory QEMU refuses
 * makes the check fail the same way.
 */
import { u8, u16, u32, u64Safe } from '../io/bigEndian.ts';
import { readPadded } from '../io/byteSource.ts';
import { MAX_BITMAP_DIRECTORY_BYTES } from '../limits.ts';
import type { Qcow2Image } from '../qcow2/image.ts';

export interface BitmapTableRef {
  readonly name: string;
  readonly tableOffset: number;
  readonly tableEntries: number;
}

const DIR_ENTRY_BYTES = 24;
const BME_MAX_TABLE_SIZE = 0x8000000;
const BME_MIN_GRANULARITY_BITS = 9;
const BME_MAX_GRANULARITY_BITS = 31;
const BME_MAX_NAME_SIZE = 1023;
const BME_MAX_PHYS_SIZE = 0x20000000;
const BME_FLAG_IN_USE = 1;
const BME_RESERVED_FLAGS = 0xfffffffc;

/** Returns the bitmaps, or QEMU's error text when bitmap_list_load() would refuse the directory. */
export async function loadBitmapList(
  img: Qcow2Image,
  nbBitmaps: number,
  dirOffset: number,
  dirSize: number,
): Promise<BitmapTableRef[] | { error: string }> {
  if (dirSize === 0) return { error: 'Requested bitmap directory size is zero' };
  if (dirSize > MAX_BITMAP_DIRECTORY_BYTES) return { error: 'Requested bitmap directory size is too big' };
  const dir = await readPadded(img.source, dirOffset, dirSize);
  const cs = img.header.clusterSize;
  const out: BitmapTableRef[] = [];
  let e = 0;
  while (e < dirSize) {
    if (e + DIR_ENTRY_BYTES > dirSize) return { error: 'Broken bitmap directory' };
    if (out.length + 1 > nbBitmaps) return { error: 'More bitmaps found than specified in header extension' };
    const tableOffset = u64Safe(dir, e);
    const tableEntries = u32(dir, e + 8);
    const flags = u32(dir, e + 12);
    const type = u8(dir, e + 16);
    const granularityBits = u8(dir, e + 17);
    const nameSize = u16(dir, e + 18);
    const extra = u32(dir, e + 20);
    const next = e + Math.ceil((DIR_ENTRY_BYTES + extra + nameSize) / 8) * 8;
    if (next > dirSize) return { error: 'Broken bitmap directory' };
    if (extra !== 0) return { error: 'Bitmap extra data is not supported' };
    const name = new TextDecoder().decode(dir.subarray(e + DIR_ENTRY_BYTES, e + DIR_ENTRY_BYTES + nameSize));
    // check_dir_entry()
    const bad =
      tableEntries === 0 ||
      tableOffset === 0 ||
      tableOffset === undefined ||
      tableOffset % cs !== 0 ||
      tableEntries > BME_MAX_TABLE_SIZE ||
      granularityBits > BME_MAX_GRANULARITY_BITS ||
      granularityBits < BME_MIN_GRANULARITY_BITS ||
      (flags & BME_RESERVED_FLAGS) !== 0 ||
      nameSize > BME_MAX_NAME_SIZE ||
      type !== 1;
    const physBytes = tableEntries * cs;
    const tooSmall = !(flags & BME_FLAG_IN_USE) && img.length > physBytes * 8 * 2 ** granularityBits;
    if (bad || physBytes > BME_MAX_PHYS_SIZE || tooSmall) {
      return { error: `Bitmap '${name}' doesn't satisfy the constraints` };
    }
    out.push({ name, tableOffset, tableEntries });
    e = next;
  }
  if (out.length !== nbBitmaps) return { error: 'Less bitmaps found than specified in header extension' };
  return out;
}

/** check_table_entry(): reserved bits 0xff000000000001fe; with an offset, bit 0 and misalignment. */
export function bitmapTableEntryValid(hi: number, lo: number, clusterSize: number): boolean {
  if (hi & 0xff000000 || lo & 0x1fe) return false;
  const offHi = hi & 0x00ffffff;
  const offLo = (lo & 0xfffffe00) >>> 0;
  if (offHi || offLo) {
    if (lo & 1) return false;
    if ((offHi * 0x100000000 + offLo) % clusterSize !== 0) return false;
  }
  return true;
}
