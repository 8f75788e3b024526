/**
 * Run-length extents in struct-of-arrays typed arrays (ARCHITECTURE.md): memory grows with the
 * number of extents, never with the virtual size, and no object is made per cluster.
 *
 * One extent: guest bytes [start, start+length) share a `kind` (see kinds.ts), block-status
 * `flags` (flags.ts), the chain `layer` that decided them (0 = top), and a host offset `host`
 * of the first byte (-1 when there is none). Adjacent pushes merge when kind, flags and layer
 * are equal and the host offsets continue, so the result is canonical whatever the scan order
 * of L2 tables.
 */
import { LimitError } from '../errors.ts';
import { MAX_EXTENTS } from '../limits.ts';

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
  start = new Float64Array(INITIAL_CAPACITY);
  length = new Float64Array(INITIAL_CAPACITY);
  kind = new Uint8Array(INITIAL_CAPACITY);
  flags = new Uint8Array(INITIAL_CAPACITY);
  layer = new Uint16Array(INITIAL_CAPACITY);
  host = new Float64Array(INITIAL_CAPACITY);

  constructor(private readonly file = 'image') {}

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

  private grow(): void {
    const cap = this.start.length * 2;
    if (this.count >= MAX_EXTENTS) {
      throw new LimitError(
        { file: this.file, structure: 'block status' },
        `more than ${MAX_EXTENTS} extents (MAX_EXTENTS)`,
      );
    }
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
  }

  /** Trims the arrays to `count` (copies), e.g. before transferring them to another thread. */
  finish(): Extents {
    const n = this.count;
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
