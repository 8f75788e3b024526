/**
 * Persistent dirty bitmaps in the writer, as `qemu-img bitmap` and qemu-io drive them in QEMU
 * 7.2: the block layer marks every enabled bitmap dirty for each write, write-zeroes and discard
 * request (bdrv_co_write_req_finish() -> bdrv_set_dirty(), whatever the driver did with the
 * request: a 512-byte discard qcow2 ignores still dirties its granule), and qcow2 keeps the
 * bitmaps in memory while the image is open and stores every one of them when it closes
 * (qcow2_store_persistent_dirty_bitmaps(), block/qcow2-bitmap.c): new data clusters and a new
 * table per bitmap, in directory order, then a new directory, the header, and only then the old
 * directory and the old tables are freed. `--remove` rewrites the directory at once and frees
 * the bitmap's clusters (qcow2_co_remove_persistent_dirty_bitmap()).
 *
 * The bitmaps are kept in memory as QEMU keeps its BdrvDirtyBitmaps (dirty granules as ranges,
 * never one bit per granule of a huge disk), and stored in the file after every operation,
 * which QEMU does on every close of an image opened read-write.
 */
import { LimitError, UnsupportedError } from '../../errors.ts';
import { MAX_BITMAP_DIRECTORY_BYTES, MAX_BITMAPS } from '../../limits.ts';
import {
  BITMAP_DIR_ENTRY_BYTES,
  BME_FLAG_AUTO,
  BME_MAX_GRANULARITY_BITS,
  BME_MAX_NAME_SIZE,
  BME_MAX_PHYS_SIZE,
  BME_MAX_TABLE_SIZE,
  BME_MIN_GRANULARITY_BITS,
  BT_DIRTY_TRACKING_BITMAP,
  bitmapDataBytes,
} from '../../qcow2/bitmaps.ts';
import { roundUp } from '../image.ts';
import { updateHeader } from './create.ts';
import { GranuleRanges, type WriterBitmap } from './dirtyBitmap.ts';
import type { Qcow2Tables } from './tables.ts';

/** What `qemu-img bitmap` does to one bitmap (one action of its command line). */
export type BitmapAction =
  | { readonly action: 'add'; readonly granularity?: number; readonly disabled?: boolean }
  | { readonly action: 'remove' | 'clear' | 'enable' | 'disable' }
  | { readonly action: 'merge'; readonly source: string };

/** bdrv_get_default_bitmap_granularity(): the cluster size, between 4 KiB and 64 KiB. */
export const defaultBitmapGranularity = (clusterSize: number): number =>
  Math.min(65536, Math.max(4096, clusterSize));

/** qemu-img bitmap's refusal, in its words: "Operation ACTION on bitmap NAME failed: WHY". */
function failed(w: Qcow2Tables, action: string, name: string, why: string): UnsupportedError {
  return new UnsupportedError(
    { file: w.file.name, structure: `bitmap '${name}'` },
    `Operation ${action} on bitmap ${name} failed: ${why}`,
  );
}

const nameBytes = (name: string): number => new TextEncoder().encode(name).length;

/** calc_dir_entry_size(): 24 bytes and the name, padded to 8. */
const dirEntryBytes = (name: string): number => roundUp(BITMAP_DIR_ENTRY_BYTES + nameBytes(name), 8);

function find(w: Qcow2Tables, action: string, name: string, target = name): WriterBitmap {
  const b = w.bitmaps.find((x) => x.name === name);
  if (!b) throw failed(w, action, target, `Dirty bitmap '${name}' not found`);
  return b;
}

/**
 * One action of `qemu-img bitmap ACTION FILE NAME` (img_bitmap(): qmp_block_dirty_bitmap_add()
 * and friends on the open image), with QEMU's checks and words.
 */
export function bitmapAction(w: Qcow2Tables, name: string, a: BitmapAction): void {
  const file = w.file.name;
  switch (a.action) {
    case 'add': {
      if (name === '') throw failed(w, 'add', name, 'Bitmap name cannot be empty');
      const g = a.granularity ?? defaultBitmapGranularity(w.clusterSize);
      // block_dirty_bitmap_add(): the granularity is a power of two of at least 512 bytes.
      if (!Number.isInteger(g) || g < 512 || g > 2 ** 32 || (g & (g - 1)) !== 0)
        throw failed(w, 'add', name, 'Granularity must be power of 2 and at least 512');
      if (w.bitmaps.some((b) => b.name === name))
        throw failed(w, 'add', name, `Bitmap already exists: ${name}`);
      const cannot = (why: string) =>
        failed(w, 'add', name, `Can't make bitmap '${name}' persistent in '${file}': ${why}`);
      // qcow2_co_can_store_new_dirty_bitmap() and check_constraints_on_bitmap().
      if (w.version < 3) throw cannot('Cannot store dirty bitmaps in qcow2 v2 files');
      const bits = Math.log2(g);
      if (bits > BME_MAX_GRANULARITY_BITS)
        throw cannot(`Granularity exceeds maximum (${2 ** BME_MAX_GRANULARITY_BITS} bytes)`);
      if (bits < BME_MIN_GRANULARITY_BITS)
        throw cannot(`Granularity is under minimum (${2 ** BME_MIN_GRANULARITY_BITS} bytes)`);
      const bytes = Math.ceil(Math.ceil(w.length / g) / 8);
      if (bytes > BME_MAX_PHYS_SIZE || bytes > BME_MAX_TABLE_SIZE * w.clusterSize)
        throw cannot('Too much space will be occupied by the bitmap. Use larger granularity');
      if (nameBytes(name) > BME_MAX_NAME_SIZE)
        throw cannot(`Name length exceeds maximum (${BME_MAX_NAME_SIZE} characters)`);
      if (w.bitmaps.length + 1 > MAX_BITMAPS)
        throw cannot('Maximum number of persistent bitmaps is already reached');
      const dir = w.bitmaps.reduce((s, b) => s + dirEntryBytes(b.name), dirEntryBytes(name));
      if (dir > MAX_BITMAP_DIRECTORY_BYTES) throw cannot('Not enough space in the bitmap directory');
      w.bitmaps.push({
        name,
        granularityBits: bits,
        enabled: a.disabled !== true,
        dirty: new GranuleRanges(),
        tableOffset: 0,
        tableSize: 0,
      });
      return;
    }
    case 'remove': {
      const b = find(w, 'remove', name);
      w.bitmaps.splice(w.bitmaps.indexOf(b), 1);
      // qcow2_co_remove_persistent_dirty_bitmap(): a directory without it, then its clusters freed.
      if (b.tableOffset) {
        updateDirectory(
          w,
          w.bitmaps.filter((x) => x.tableOffset),
        );
        freeTable(w, b.tableOffset, b.tableSize);
      }
      return;
    }
    case 'clear':
      find(w, 'clear', name).dirty.clear();
      return;
    case 'enable':
      find(w, 'enable', name).enabled = true;
      return;
    case 'disable':
      find(w, 'disable', name).enabled = false;
      return;
    case 'merge': {
      const target = find(w, 'merge', name);
      const src = find(w, 'merge', a.source, name);
      mergeInto(target, src);
      return;
    }
  }
}

/**
 * bdrv_merge_dirty_bitmap() (hbitmap_merge()): every granule of the target that overlaps a dirty
 * granule of the source becomes dirty, whatever the two granularities.
 */
function mergeInto(target: WriterBitmap, src: WriterBitmap): void {
  const gs = 2 ** src.granularityBits;
  const gt = 2 ** target.granularityBits;
  const d = src.dirty;
  for (let i = 0; i < d.count; i++) {
    target.dirty.set(Math.floor((d.start(i) * gs) / gt), Math.ceil((d.end(i) * gs) / gt));
  }
}

/** bdrv_set_dirty(): a write, write-zeroes or discard request marks every enabled bitmap. */
export function markDirty(w: Qcow2Tables, offset: number, bytes: number): void {
  if (bytes <= 0) return;
  for (const b of w.bitmaps) {
    if (!b.enabled) continue;
    const g = 2 ** b.granularityBits;
    b.dirty.set(Math.floor(offset / g), Math.ceil(Math.min(offset + bytes, w.length) / g));
  }
}

/** free_bitmap_clusters(): the data clusters the table points at, then the table. */
function freeTable(w: Qcow2Tables, offset: number, size: number): void {
  for (let i = 0; i < size; i++) {
    const data = Number(w.file.u64(offset + 8 * i) & 0x00fffffffffffe00n);
    if (data) w.rc.free(data, w.clusterSize);
  }
  w.rc.free(offset, size * 8);
}

/**
 * store_bitmap_data() and store_bitmap(): one cluster for each cluster's worth of bitmap data
 * holding a dirty bit (the others stay 0 in the table), then the table itself.
 */
function storeBitmap(w: Qcow2Tables, b: WriterBitmap): void {
  const cs = w.clusterSize;
  const g = 2 ** b.granularityBits;
  const totalBits = Math.ceil(w.length / g);
  const tableSize = Math.ceil(bitmapDataBytes(w.length, g) / cs);
  if (tableSize > BME_MAX_TABLE_SIZE || tableSize * cs > BME_MAX_PHYS_SIZE) {
    throw new LimitError(
      { file: w.file.name, structure: `bitmap '${b.name}'` },
      `Bitmap '${b.name}' is too big`,
    );
  }
  /** Granules per cluster of bitmap data (bdrv_dirty_bitmap_serialization_coverage()). */
  const limit = cs * 8;
  const table = new Uint8Array(tableSize * 8);
  const tv = new DataView(table.buffer);
  const d = b.dirty;
  let next = 0;
  for (let i = 0; i < d.count; i++) {
    const end = Math.min(d.end(i), totalBits);
    if (end <= d.start(i)) continue;
    const first = Math.max(next, Math.floor(d.start(i) / limit));
    const last = Math.floor((end - 1) / limit);
    for (let k = first; k <= last; k++) {
      const off = w.rc.alloc(cs);
      tv.setBigUint64(8 * k, BigInt(off));
      const buf = new Uint8Array(cs);
      const lo = k * limit;
      const hi = Math.min(lo + limit, totalBits);
      for (let j = 0; j < d.count; j++) {
        const s = Math.max(lo, d.start(j));
        const e = Math.min(hi, d.end(j));
        for (let bit = s; bit < e; bit++) buf[(bit - lo) >>> 3]! |= 1 << ((bit - lo) & 7);
      }
      w.file.write(off, buf);
      next = k + 1;
    }
  }
  const tableOffset = w.rc.alloc(tableSize * 8);
  w.file.write(tableOffset, table);
  b.tableOffset = tableOffset;
  b.tableSize = tableSize;
}

/**
 * update_ext_header_and_dir() with bitmap_list_store(): a new directory of `list` (none when
 * empty: the autoclear bit goes too), the header, then the old directory freed.
 */
function updateDirectory(w: Qcow2Tables, list: readonly WriterBitmap[]): void {
  const oldOffset = w.bitmapDirOffset;
  const oldSize = w.bitmapDirSize;
  let offset = 0;
  let size = 0;
  if (list.length) {
    size = list.reduce((s, b) => s + dirEntryBytes(b.name), 0);
    const dir = new Uint8Array(size);
    const dv = new DataView(dir.buffer);
    let at = 0;
    const enc = new TextEncoder();
    for (const b of list) {
      const name = enc.encode(b.name);
      dv.setBigUint64(at, BigInt(b.tableOffset));
      dv.setUint32(at + 8, b.tableSize);
      dv.setUint32(at + 12, b.enabled ? BME_FLAG_AUTO : 0);
      dv.setUint8(at + 16, BT_DIRTY_TRACKING_BITMAP);
      dv.setUint8(at + 17, b.granularityBits);
      dv.setUint16(at + 18, name.length);
      dv.setUint32(at + 20, 0);
      dir.set(name, at + BITMAP_DIR_ENTRY_BYTES);
      at += dirEntryBytes(b.name);
    }
    offset = w.rc.alloc(size);
    w.file.write(offset, dir);
  }
  w.bitmapDirOffset = offset;
  w.bitmapDirSize = size;
  w.storedBitmaps = list.length;
  updateHeader(w);
  if (oldSize > 0) w.rc.free(oldOffset, oldSize);
}

/**
 * qcow2_store_persistent_dirty_bitmaps() at close: every bitmap stored anew in directory order
 * (new ones last), the new directory and header written, then the old directory and the old
 * tables freed. Nothing happens on an image without bitmaps.
 */
export function storeBitmaps(w: Qcow2Tables): void {
  if (w.bitmaps.length === 0) return;
  const drop = w.bitmaps.filter((b) => b.tableOffset).map((b) => [b.tableOffset, b.tableSize] as const);
  for (const b of w.bitmaps) storeBitmap(w, b);
  updateDirectory(w, w.bitmaps);
  for (const [offset, size] of drop) freeTable(w, offset, size);
}
