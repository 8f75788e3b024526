/**
 * Byte ranges (start, length) in growable typed arrays (ARCHITECTURE.md: never one object per
 * range): adjacent ranges merge, and more than MAX_EXTENTS is a LimitError naming `where`.
 * Used for a bitmap's dirty ranges and compare's differing ranges.
 */
import { type ErrorWhere, LimitError } from './errors.ts';
import { MAX_EXTENTS } from './limits.ts';

export interface Ranges {
  readonly count: number;
  readonly starts: Float64Array;
  readonly lengths: Float64Array;
}

export class RangeBuilder {
  private starts = new Float64Array(64);
  private lengths = new Float64Array(64);
  private n = 0;

  constructor(
    private readonly where: ErrorWhere,
    private readonly what: string,
  ) {}

  push(start: number, length: number): void {
    if (length <= 0) return;
    const n = this.n;
    if (n > 0 && this.starts[n - 1]! + this.lengths[n - 1]! === start) {
      this.lengths[n - 1]! += length;
      return;
    }
    if (n === this.starts.length) {
      if (n >= MAX_EXTENTS) throw new LimitError(this.where, `more than MAX_EXTENTS ${this.what}`);
      const s = new Float64Array(n * 2);
      s.set(this.starts);
      this.starts = s;
      const l = new Float64Array(n * 2);
      l.set(this.lengths);
      this.lengths = l;
    }
    this.starts[n] = start;
    this.lengths[n] = length;
    this.n = n + 1;
  }

  finish(): Ranges {
    return { count: this.n, starts: this.starts.slice(0, this.n), lengths: this.lengths.slice(0, this.n) };
  }
}
