/**
 * Persistent dirty bitmaps (spec "Bitmaps extension"; reference §2.10), read as QEMU 7.2 reads
 * them when it opens an image: bitmap_list_load() + check_dir_entry() for the directory, then
 * bitmap_table_load() + check_table_entry() and load_bitmap_data()'s size check for each bitmap
 * (qcow2_load_dirty_bitmaps(), block/qcow2-bitmap.c). Any refusal there makes `qemu-img info`
 * fail to open the image, so it is an error here too.
 */
import { CorruptError, LimitError, UnsupportedError } from '../errors.ts';
import { u8, u16, u32 } from '../io/bigEndian.ts';
import { readPadded } from '../io/byteSource.ts';
import { MAX_BITMAP_DIRECTORY_BYTES, MAX_READ_BYTES } from '../limits.ts';
import { RangeBuilder, type Ranges } from '../ranges.ts';
import { EXT_BITMAPS } from './extensions.ts';
import { AUTOCLEAR_BITMAPS } from './header.ts';
import { type Qcow2Image, readTable, toU32Pairs } from './image.ts';

export const BITMAP_DIR_ENTRY_BYTES = 24;
export const BME_FLAG_IN_USE = 1 << 0;
export const BME_FLAG_AUTO = 1 << 1;
/** QEMU treats every other flag bit, including extra_data_compatible (bit 2), as reserved. */
export const BME_RESERVED_FLAGS = 0xfffffffc;
/** Type 1: dirty tracking bitmap, the only type there is. */
export const BT_DIRTY_TRACKING_BITMAP = 1;
export const BME_MIN_GRANULARITY_BITS = 9;
export const BME_MAX_GRANULARITY_BITS = 31;
export const BME_MAX_NAME_SIZE = 1023;
/** QEMU: bitmap table entries at most 0x8000000 (BME_MAX_TABLE_SIZE). */
export const BME_MAX_TABLE_SIZE = 0x8000000;
/** QEMU: bitmap data at most 512 MiB (BME_MAX_PHYS_SIZE). */
export const BME_MAX_PHYS_SIZE = 0x20000000;

export interface PersistentBitmap {
  readonly name: string;
  readonly granularityBits: number;
  /** Bytes of guest data per bit. */
  readonly granularity: number;
  readonly flags: { readonly inUse: boolean; readonly auto: boolean };
  /** Raw flags word from the directory entry. */
  readonly rawFlags: number;
  readonly type: number;
  readonly tableOffset: number;
  readonly tableEntries: number;
  readonly extraDataSize: number;
  /** File offset of the directory entry. */
  readonly entryOffset: number;
}

/**
 * The bitmap directory. An image without the extension, or whose autoclear bit 0 is clear
 * (QEMU then warns and ignores every bitmap), has none; the latter adds a finding.
 */
export async function readBitmaps(img: Qcow2Image): Promise<PersistentBitmap[]> {
  const file = img.name;
  const h = img.header;
  if (!(h.autoclearFeatures & AUTOCLEAR_BITMAPS)) {
    const ext = img.extensions.all.find((e) => e.type === EXT_BITMAPS);
    if (
      ext &&
      !img.findings.some((f) => f.structure === 'bitmaps header extension' && f.offset === ext.offset)
    ) {
      img.findings.push({
        file,
        structure: 'bitmaps header extension',
        offset: ext.offset,
        message:
          'autoclear bit 0 (bitmaps) is clear: a program lacking bitmap support modified this file, so QEMU ignores all bitmaps',
      });
    }
    return [];
  }
  const ext = img.extensions.bitmaps;
  if (!ext) return [];
  return readBitmapDirectory(img, ext);
}

/** Where the bitmaps header extension says the directory is. */
export interface BitmapDirectoryRef {
  readonly nbBitmaps: number;
  readonly directoryOffset: number;
  readonly directorySize: number;
}

/**
 * The one bitmap-directory reader (bitmap_list_load() with check_dir_entry(), QEMU 7.2
 * block/qcow2-bitmap.c), used by open, info, check and the host map. Throws QEMU's sentence
 * for every directory QEMU refuses to open.
 */
export async function readBitmapDirectory(
  img: Qcow2Image,
  ext: BitmapDirectoryRef,
): Promise<PersistentBitmap[]> {
  const file = img.name;
  const dirWhere = { file, structure: 'bitmap directory', offset: ext.directoryOffset };
  if (ext.directorySize === 0) throw new CorruptError(dirWhere, 'Requested bitmap directory size is zero');
  if (ext.directorySize > MAX_BITMAP_DIRECTORY_BYTES) {
    throw new CorruptError(dirWhere, 'Requested bitmap directory size is too big');
  }
  const dir = await readPadded(img.source, ext.directoryOffset, ext.directorySize);
  const out: PersistentBitmap[] = [];
  let pos = 0;
  const broken = (at: number) =>
    new CorruptError({ ...dirWhere, offset: ext.directoryOffset + at }, 'Broken bitmap directory');
  while (pos < dir.length) {
    if (pos + BITMAP_DIR_ENTRY_BYTES > dir.length) throw broken(pos);
    const entryOffset = ext.directoryOffset + pos;
    const where = { file, structure: `bitmap directory entry ${out.length}`, offset: entryOffset };
    if (out.length + 1 > ext.nbBitmaps) {
      throw new CorruptError(where, 'More bitmaps found than specified in header extension');
    }
    const tableOffsetHi = u32(dir, pos);
    const tableOffsetLo = u32(dir, pos + 4);
    const tableEntries = u32(dir, pos + 8);
    const rawFlags = u32(dir, pos + 12);
    const type = u8(dir, pos + 16);
    const granularityBits = u8(dir, pos + 17);
    const nameSize = u16(dir, pos + 18);
    const extraDataSize = u32(dir, pos + 20);
    // calc_dir_entry_size() computes in C `int`: a huge extra_data_size wraps around, so the
    // "Broken bitmap directory" check can pass and "extra data is not supported" is what QEMU
    // reports (found by the fuzz oracle, seed 5094).
    const next = pos + ((((BITMAP_DIR_ENTRY_BYTES + nameSize + extraDataSize) | 0) + 7) & ~7);
    if (next > dir.length) throw broken(pos);
    if (extraDataSize !== 0) throw new UnsupportedError(where, 'Bitmap extra data is not supported');
    const nameStart = pos + BITMAP_DIR_ENTRY_BYTES + extraDataSize;
    const name = new TextDecoder('utf-8', { fatal: false }).decode(
      dir.subarray(nameStart, nameStart + nameSize),
    );
    const why = checkDirEntry(img, {
      tableOffsetHi,
      tableOffsetLo,
      tableEntries,
      rawFlags,
      type,
      granularityBits,
      nameSize,
    });
    if (why) throw new CorruptError(where, `Bitmap '${name}' doesn't satisfy the constraints (${why})`);
    out.push({
      name,
      granularityBits,
      granularity: 2 ** granularityBits,
      flags: { inUse: (rawFlags & BME_FLAG_IN_USE) !== 0, auto: (rawFlags & BME_FLAG_AUTO) !== 0 },
      rawFlags,
      type,
      tableOffset: tableOffsetHi * 0x100000000 + tableOffsetLo,
      tableEntries,
      extraDataSize,
      entryOffset,
    });
    pos = next;
  }
  if (out.length !== ext.nbBitmaps) {
    throw new CorruptError(dirWhere, 'Less bitmaps found than specified in header extension');
  }
  return out;
}

interface RawDirEntry {
  tableOffsetHi: number;
  tableOffsetLo: number;
  tableEntries: number;
  rawFlags: number;
  type: number;
  granularityBits: number;
  nameSize: number;
}

/** check_dir_entry(): returns why the entry is refused, or undefined. */
function checkDirEntry(img: Qcow2Image, e: RawDirEntry): string | undefined {
  const cs = img.header.clusterSize;
  if (e.tableEntries === 0) return 'bitmap table size is 0';
  if (e.tableOffsetHi === 0 && e.tableOffsetLo === 0) return 'bitmap table offset is 0';
  // Cluster sizes are at most 2 MiB, so alignment only depends on the low word.
  if (e.tableOffsetLo % cs) return 'bitmap table offset is not cluster-aligned';
  if (e.tableOffsetHi >= 0x200000) return 'bitmap table offset exceeds 2^53';
  if (e.tableEntries > BME_MAX_TABLE_SIZE) return 'bitmap table has more than 0x8000000 entries';
  if (e.granularityBits > BME_MAX_GRANULARITY_BITS || e.granularityBits < BME_MIN_GRANULARITY_BITS) {
    return `granularity_bits ${e.granularityBits} outside 9..31`;
  }
  if (e.rawFlags & BME_RESERVED_FLAGS) return 'reserved flags set';
  if (e.nameSize === 0 || e.nameSize > BME_MAX_NAME_SIZE) return `name size ${e.nameSize} outside 1..1023`;
  if (e.type !== BT_DIRTY_TRACKING_BITMAP) return `type ${e.type} is not 1 (dirty tracking)`;
  const physBytes = e.tableEntries * cs;
  if (physBytes > BME_MAX_PHYS_SIZE) return 'bitmap data exceeds 512 MiB';
  // A bitmap not in use must be large enough to cover the disk (products of powers of two
  // and a 27-bit count are exact in a double).
  if (!(e.rawFlags & BME_FLAG_IN_USE) && img.length > physBytes * 8 * 2 ** e.granularityBits) {
    return 'bitmap table too small for the virtual disk';
  }
  return undefined;
}

/** Bitmap table entry bits (spec): data cluster offset, and bit 0 "all ones" when offset is 0. */
export const BME_TABLE_ENTRY_RESERVED_MASK_HI = 0xff000000;
export const BME_TABLE_ENTRY_RESERVED_MASK_LO = 0x000001fe;
export const BME_TABLE_ENTRY_FLAG_ALL_ONES = 1;

const hasDataOffset = (hi: number, lo: number): boolean => (hi & 0x00ffffff) !== 0 || (lo & 0xfffffe00) !== 0;

/**
 * check_table_entry(): why QEMU refuses a bitmap table entry (reserved bits, the all-ones flag
 * beside a data offset, a misaligned data offset), or undefined. bitmap_table_load() refuses
 * the whole table for one such entry, at open and in qemu-img check alike.
 */
export function tableEntryProblem(hi: number, lo: number, clusterSize: number): string | undefined {
  if (hi & BME_TABLE_ENTRY_RESERVED_MASK_HI || lo & BME_TABLE_ENTRY_RESERVED_MASK_LO)
    return 'reserved bits set';
  if (!hasDataOffset(hi, lo)) return undefined;
  if (lo & BME_TABLE_ENTRY_FLAG_ALL_ONES) return 'all-ones flag set with a data offset';
  // Cluster sizes are at most 2 MiB, so alignment only depends on the low word.
  if ((lo & 0xfffffe00) % clusterSize) return 'data offset not cluster-aligned';
  return undefined;
}

/** Bytes of bitmap data QEMU expects for this bitmap (bdrv_dirty_bitmap_serialization_size()). */
export function bitmapDataBytes(virtualSize: number, granularity: number): number {
  const bits = Math.ceil(virtualSize / granularity);
  // Serialised in whole unsigned longs (64 bits).
  return Math.ceil(bits / 64) * 8;
}

/**
 * The bitmap table as (hi, lo) u32 pairs, checked as bitmap_table_load()/check_table_entry()
 * check it, and against the bitmap's expected size as load_bitmap_data() does for a bitmap
 * that is not in use (in-use bitmaps are inconsistent and their data is never read).
 */
export async function readBitmapTable(img: Qcow2Image, bm: PersistentBitmap): Promise<Uint32Array> {
  const file = img.name;
  const where = { file, structure: `bitmap table of '${bm.name}'`, offset: bm.tableOffset };
  const table = toU32Pairs(await readTable(img.source, bm.tableOffset, bm.tableEntries * 8));
  const cs = img.header.clusterSize;
  for (let i = 0; i < bm.tableEntries; i++) {
    const hi = table[2 * i]!;
    const lo = table[2 * i + 1]!;
    const why = tableEntryProblem(hi, lo, cs);
    if (why) {
      throw new CorruptError(
        { ...where, structure: `bitmap table entry ${i} of '${bm.name}'`, offset: bm.tableOffset + 8 * i },
        `Could not read bitmap_table table from image for bitmap '${bm.name}': Invalid argument (${why})`,
      );
    }
    if (hi >= 0x200000 && hasDataOffset(hi, lo)) {
      throw new LimitError(where, `bitmap table entry ${i}: data offset exceeds 2^53`);
    }
  }
  if (!bm.flags.inUse) {
    const expect = Math.ceil(bitmapDataBytes(img.length, bm.granularity) / cs);
    if (expect !== bm.tableEntries) {
      throw new CorruptError(
        where,
        `Could not read bitmap '${bm.name}' from image: Invalid argument (table has ${bm.tableEntries} entries, the disk needs ${expect})`,
      );
    }
  }
  return table;
}

/** Dirty ranges of a bitmap as run-length extents in guest bytes, clipped to the virtual size. */
export type DirtyExtents = Ranges;

/**
 * The dirty (set) ranges of a bitmap, as `qemu:dirty-bitmap:NAME` reports them. An in-use
 * bitmap is inconsistent: QEMU refuses to export it, so this throws.
 */
export async function readDirtyExtents(img: Qcow2Image, bm: PersistentBitmap): Promise<DirtyExtents> {
  if (bm.flags.inUse) {
    throw new CorruptError(
      { file: img.name, structure: `bitmap '${bm.name}'`, offset: bm.entryOffset },
      'bitmap is in use (inconsistent); QEMU will not export it',
    );
  }
  const table = await readTable(img.source, bm.tableOffset, bm.tableEntries * 8).then(toU32Pairs);
  const cs = img.header.clusterSize;
  const bitsPerCluster = cs * 8;
  const totalBits = Math.ceil(img.length / bm.granularity);
  const out = new RangeBuilder({ file: img.name, structure: `bitmap '${bm.name}'` }, 'dirty ranges');
  let runStart = -1;
  const close = (endBit: number) => {
    if (runStart < 0) return;
    const start = runStart * bm.granularity;
    out.push(start, Math.min(endBit * bm.granularity, img.length) - start);
    runStart = -1;
  };
  const mark = (bit: number, set: boolean) => {
    if (set && runStart < 0) runStart = bit;
    else if (!set && runStart >= 0) close(bit);
  };
  for (let i = 0; i < bm.tableEntries; i++) {
    const first = i * bitsPerCluster;
    if (first >= totalBits) break;
    const last = Math.min(first + bitsPerCluster, totalBits);
    const hi = table[2 * i]!;
    const lo = table[2 * i + 1]!;
    const off = (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
    if (off === 0) {
      mark(first, (lo & BME_TABLE_ENTRY_FLAG_ALL_ONES) !== 0);
      continue;
    }
    const data = await readPadded(img.source, off, Math.min(cs, MAX_READ_BYTES));
    for (let b = first; b < last; b++) {
      const k = b - first;
      mark(b, !!(((data[k >>> 3] ?? 0) >> (k & 7)) & 1));
    }
  }
  close(totalBits);
  return out.finish();
}
