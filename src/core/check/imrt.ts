/**
 * The in-memory refcount table QEMU's check builds (IMRT, qcow2_inc_refcounts_imrt()): one
 * counter per host cluster, saturating at the image's refcount_max like QEMU's own array of
 * refcount_bits-wide entries. One byte per cluster; the rare counts above 254 live in a Map,
 * so a 1 TiB image at 64 KiB clusters costs 16 MiB.
 */
export class InMemoryRefcounts {
  private counts: Uint8Array;
  private readonly big = new Map<number, number>();
  /** Clusters covered (QEMU's *nb_clusters); grows when a reference lands past the end. */
  size: number;

  constructor(
    size: number,
    readonly max: number,
  ) {
    this.size = size;
    this.counts = new Uint8Array(Math.max(size, 1));
  }

  get(k: number): number {
    const c = this.counts[k] ?? 0;
    return c === 255 ? (this.big.get(k) ?? 255) : c;
  }

  /** Grows to cover cluster k (realloc_refcount_array(): new entries are zero). */
  grow(newSize: number): void {
    if (newSize <= this.size) return;
    if (newSize > this.counts.length) {
      const next = new Uint8Array(Math.max(newSize, Math.ceil(this.counts.length * 1.25)));
      next.set(this.counts);
      this.counts = next;
    }
    this.size = newSize;
  }

  /** Adds one reference; false (and no change) if the count is already refcount_max. */
  inc(k: number): boolean {
    const c = this.get(k);
    if (c >= this.max) return false;
    const n = c + 1;
    if (n >= 255) {
      this.counts[k] = 255;
      this.big.set(k, n);
    } else this.counts[k] = n;
    return true;
  }
}
