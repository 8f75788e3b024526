/**
 * Refcounts of many host clusters in one typed array, as wide as the image's refcount_order
 * needs (QEMU's refcount arrays of refcount_bits-wide entries, get_refcount_ro*() /
 * set_refcount_ro*()): widths of 1 to 8 bits in a Uint8Array, 16 in a Uint16Array, 32 in a
 * Uint32Array. 64-bit refcounts live in a Uint32Array too; the rare value of 2^32 - 1 or more is
 * kept in an overflow map behind a sentinel. No object per cluster, no BigInt: the check's
 * in-memory refcount table (IMRT) and the on-disk refcounts it compares with are both one.
 */

type Cells = Uint8Array | Uint16Array | Uint32Array;

/** Sentinel of a 64-bit refcount kept in the overflow map. */
const OVERFLOW = 0xffffffff;

export class RefcountArray {
  private cells: Cells;
  private readonly overflow = new Map<number, number>();
  /** Entries covered; grows when a reference lands past the end (realloc_refcount_array()). */
  size: number;
  /** Largest value inc() stores in a cell without the slow path. */
  private readonly fastMax: number;
  /** The cell value that sends get() to the overflow map (none below 64-bit widths). */
  private readonly sentinel: number;

  /**
   * `order`: the image's refcount_order (0..6). `max`: the largest refcount an entry holds
   * (s->refcount_max; Infinity for 64-bit widths).
   */
  constructor(
    readonly order: number,
    size: number,
    readonly max: number,
  ) {
    this.size = size;
    this.cells = RefcountArray.alloc(order, Math.max(size, 1));
    const cellMax = order <= 3 ? 0xff : order === 4 ? 0xffff : order === 5 ? 0xffffffff : OVERFLOW - 1;
    this.fastMax = Math.min(max, cellMax);
    this.sentinel = order === 6 ? OVERFLOW : -1;
  }

  private static alloc(order: number, n: number): Cells {
    if (order <= 3) return new Uint8Array(n);
    if (order === 4) return new Uint16Array(n);
    return new Uint32Array(n);
  }

  /**
   * The cells, for loops that read many entries: each cell is the refcount when `exact` (no
   * 64-bit value kept in the overflow map). Valid until the next grow().
   */
  get cellsView(): Cells {
    return this.cells;
  }

  /** Every cell holds its refcount (no value in the overflow map). */
  get exact(): boolean {
    return this.overflow.size === 0;
  }

  get(k: number): number {
    const c = this.cells[k] ?? 0;
    return c === this.sentinel ? (this.overflow.get(k) ?? c) : c;
  }

  set(k: number, v: number): void {
    if (this.order === 6 && v >= OVERFLOW) {
      this.cells[k] = OVERFLOW;
      this.overflow.set(k, v);
      return;
    }
    this.cells[k] = v;
  }

  /** Adds one reference; false (and no change) if the count is already `max`. */
  inc(k: number): boolean {
    const c = this.cells[k]!;
    if (c < this.fastMax) {
      this.cells[k] = c + 1;
      return true;
    }
    const v = this.get(k);
    if (v >= this.max) return false;
    this.set(k, v + 1);
    return true;
  }

  /** Grows to cover `newSize` entries; new entries are zero (realloc_refcount_array()). */
  grow(newSize: number): void {
    if (newSize <= this.size) return;
    if (newSize > this.cells.length) {
      const next = RefcountArray.alloc(this.order, Math.max(newSize, Math.ceil(this.cells.length * 1.25)));
      next.set(this.cells);
      this.cells = next;
    }
    this.size = newSize;
  }

  /**
   * Decodes `count` entries of a refcount block, from its entry `first`, into entries
   * [at, at + count). Widths below 8 bits are packed from the least significant bit; wider
   * ones are big-endian (spec "Host cluster management").
   */
  setBlock(block: Uint8Array, at: number, first: number, count: number): void {
    const c = this.cells;
    switch (this.order) {
      case 0:
        for (let i = 0; i < count; i++) {
          const e = first + i;
          c[at + i] = (block[e >>> 3]! >>> (e & 7)) & 1;
        }
        return;
      case 1:
        for (let i = 0; i < count; i++) {
          const e = first + i;
          c[at + i] = (block[e >>> 2]! >>> (2 * (e & 3))) & 3;
        }
        return;
      case 2:
        for (let i = 0; i < count; i++) {
          const e = first + i;
          c[at + i] = (block[e >>> 1]! >>> (4 * (e & 1))) & 15;
        }
        return;
      case 3:
        c.set(block.subarray(first, first + count), at);
        return;
      case 4:
        for (let i = 0, b = 2 * first; i < count; i++, b += 2) c[at + i] = (block[b]! << 8) | block[b + 1]!;
        return;
      case 5:
        for (let i = 0, b = 4 * first; i < count; i++, b += 4) {
          c[at + i] =
            ((block[b]! << 24) | (block[b + 1]! << 16) | (block[b + 2]! << 8) | block[b + 3]!) >>> 0;
        }
        return;
      default:
        for (let i = 0, b = 8 * first; i < count; i++, b += 8) {
          const hi = ((block[b]! << 24) | (block[b + 1]! << 16) | (block[b + 2]! << 8) | block[b + 3]!) >>> 0;
          const lo =
            ((block[b + 4]! << 24) | (block[b + 5]! << 16) | (block[b + 6]! << 8) | block[b + 7]!) >>> 0;
          if (hi === 0 && lo !== OVERFLOW) c[at + i] = lo;
          else this.set(at + i, hi * 0x100000000 + lo);
        }
    }
  }
}
