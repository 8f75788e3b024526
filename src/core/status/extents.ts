/**
 * Run-length extents in struct-of-arrays typed arrays (ARCHITECTURE.md): memory grows with the
 * number of extents, never with the virtual size, and no object is made per cluster.
 *
 * One extent: guest bytes [start, start+length) share a `kind` (see kinds.ts), block-status
 * `flags` (flags.ts), the chain `layer` that decided them (0 = top), and a host offset `host`
 * of the first byte (-1 when there is none). Adjacent pushes merge when kind, flags and layer
 * are equal and the host offsets continue, so the result is canonical whatever the scan order
 * of L2 tables.
 *
 * Memory is charged to a MemoryBudget (budget.ts) in bytes, capacity included: a builder
 * refuses to grow past it with a LimitError, so a hostile image (every L2 entry its own
 * extent, L2 tables shared by many L1 entries) ends in a sentence instead of an out-of-memory
 * crash. Builders of one computation share one budget (chainStatus()).
 */
import { MemoryBudget } from '../budget.ts';
import { EXTENT_BYTES, MAX_STATUS_BYTES } from '../limits.ts';

export const NO_HOST = -1;

export interface Extents {
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly kind: Uint8Array;
  readonly flags: Uint8Array;
  readonly layer: Uint16Array;
  readonly host: Float64Array;
}

const INITIAL_CAPACITY = 64;

export class ExtentBuilder implements Extents {
  count = 0;
  start: Float64Array;
  length: Float64Array;
  kind: Uint8Array;
  flags: Uint8Array;
  layer: Uint16Array;
  host: Float64Array;

  /**
   * `budget`: what this builder's arrays are charged to; by default one of its own of
   * MAX_STATUS_BYTES. `capacity`: extents allocated at once (a streaming window knows its size).
   */
  constructor(
    private readonly file = 'image',
    readonly budget: MemoryBudget = new MemoryBudget('MAX_STATUS_BYTES', MAX_STATUS_BYTES),
    capacity = INITIAL_CAPACITY,
  ) {
    const n = Math.max(1, capacity);
    budget.charge(n * EXTENT_BYTES, this.where(), 'block status');
    this.start = new Float64Array(n);
    this.length = new Float64Array(n);
    this.kind = new Uint8Array(n);
    this.flags = new Uint8Array(n);
    this.layer = new Uint16Array(n);
    this.host = new Float64Array(n);
  }

  private where() {
    return { file: this.file, structure: 'block status' };
  }

  push(start: number, length: number, kind: number, flags: number, layer: number, host: number): void {
    if (length <= 0) return;
    const n = this.count;
    if (n > 0) {
      const i = n - 1;
      const hi = this.host[i]!;
      if (
        this.kind[i] === kind &&
        this.flags[i] === flags &&
        this.layer[i] === layer &&
        this.start[i]! + this.length[i]! === start &&
        (host < 0 ? hi < 0 : hi >= 0 && hi + this.length[i]! === host)
      ) {
        this.length[i]! += length;
        return;
      }
    }
    if (n === this.start.length) this.grow();
    this.start[n] = start;
    this.length[n] = length;
    this.kind[n] = kind;
    this.flags[n] = flags;
    this.layer[n] = layer;
    this.host[n] = host;
    this.count = n + 1;
  }

  /** Start of the last extent, clipped to `floor`, or `end` when the last extent does not end at `end`. */
  lastRunStart(end: number, floor: number): number {
    const i = this.count - 1;
    if (i < 0 || this.start[i]! + this.length[i]! !== end) return end;
    return Math.max(this.start[i]!, floor);
  }

  /** Drops everything at or after `pos` from the tail (pos must lie within the last extent). */
  truncate(pos: number): void {
    const i = this.count - 1;
    if (i < 0) return;
    if (this.start[i]! >= pos) this.count = i;
    else this.length[i] = pos - this.start[i]!;
  }

  /** Drops everything at or after `pos` (anywhere: extents past it go, the one across it is cut). */
  cutAt(pos: number): void {
    let n = this.count;
    while (n > 0 && this.start[n - 1]! >= pos) n--;
    this.count = n;
    if (n > 0 && this.start[n - 1]! + this.length[n - 1]! > pos)
      this.length[n - 1] = pos - this.start[n - 1]!;
  }

  /** Empties the builder, keeping its arrays (the streaming walk reuses one per window). */
  reset(): void {
    this.count = 0;
  }

  private grow(): void {
    const old = this.start.length;
    const cap = old * 2;
    // The new arrays are charged before they exist and the old ones released once copied:
    // both are alive while the copy runs.
    this.budget.charge(cap * EXTENT_BYTES, this.where(), `${this.count + 1} extents of block status`);
    const g = <T extends Float64Array | Uint8Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.start = g(this.start, (k) => new Float64Array(k));
    this.length = g(this.length, (k) => new Float64Array(k));
    this.kind = g(this.kind, (k) => new Uint8Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
    this.layer = g(this.layer, (k) => new Uint16Array(k));
    this.host = g(this.host, (k) => new Float64Array(k));
    this.budget.release(old * EXTENT_BYTES);
  }

  /**
   * Trims the arrays to `count` (copies), e.g. before transferring them to another thread. The
   * builder's own arrays are released from the budget: do not push after finishing.
   */
  finish(): Extents {
    const n = this.count;
    this.budget.charge(n * EXTENT_BYTES, this.where(), `${n} extents of block status`);
    this.budget.release(this.start.length * EXTENT_BYTES);
    return {
      count: n,
      start: this.start.slice(0, n),
      length: this.length.slice(0, n),
      kind: this.kind.slice(0, n),
      flags: this.flags.slice(0, n),
      layer: this.layer.slice(0, n),
      host: this.host.slice(0, n),
    };
  }
}

/** Index of the extent containing guest offset `pos`, or -1 (binary search: hit-testing). */
export function findExtent(e: Extents, pos: number): number {
  let lo = 0;
  let hi = e.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = e.start[mid]!;
    if (pos < s) hi = mid - 1;
    else if (pos >= s + e.length[mid]!) lo = mid + 1;
    else return mid;
  }
  return -1;
}
