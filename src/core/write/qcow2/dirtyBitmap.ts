/**
 * One dirty bitmap as the open image holds it in memory (QEMU's BdrvDirtyBitmap: dirty granules
 * as ranges, never one bit per granule of a huge disk). The tables hold the list; bitmaps.ts
 * changes and stores them.
 */

/** Dirty granules of one bitmap: sorted, disjoint, non-touching [start, end) pairs in granule units. */
export class GranuleRanges {
  /** start0, end0, start1, end1, ... */
  private r: number[] = [];

  get count(): number {
    return this.r.length / 2;
  }
  start(i: number): number {
    return this.r[2 * i]!;
  }
  end(i: number): number {
    return this.r[2 * i + 1]!;
  }

  /** hbitmap_set(): granules [a, b) become dirty. */
  set(a: number, b: number): void {
    if (b <= a) return;
    const r = this.r;
    let i = 0;
    while (i < r.length && r[i + 1]! < a) i += 2;
    let j = i;
    let lo = a;
    let hi = b;
    while (j < r.length && r[j]! <= b) {
      lo = Math.min(lo, r[j]!);
      hi = Math.max(hi, r[j + 1]!);
      j += 2;
    }
    r.splice(i, j - i, lo, hi);
  }

  clear(): void {
    this.r = [];
  }

  /** Whether any granule of [a, b) is dirty. */
  any(a: number, b: number): boolean {
    for (let i = 0; i < this.r.length; i += 2) if (this.r[i]! < b && this.r[i + 1]! > a) return true;
    return false;
  }
}

/** One bitmap as the open image holds it (a BdrvDirtyBitmap and its Qcow2Bitmap). */
export interface WriterBitmap {
  readonly name: string;
  readonly granularityBits: number;
  /** bdrv_dirty_bitmap_enabled(); stored as BME_FLAG_AUTO. */
  enabled: boolean;
  readonly dirty: GranuleRanges;
  /** The stored table (0 before the bitmap's first store). */
  tableOffset: number;
  tableSize: number;
}
