/**
 * Memory budgets. Whatever the engine allocates in proportion to its input (extent arrays,
 * errors kept for later, parsed map files) is charged to a MemoryBudget, which refuses with a
 * LimitError naming the budget once the bytes held at once would pass it. One budget is shared
 * by everything one computation holds (every layer's extents, the resolved chain, the copies
 * made while growing), so its value is the memory actually used: a count per array (the old
 * MAX_EXTENTS) let each of several arrays reach it.
 */
import { type ErrorWhere, LimitError } from './errors.ts';

export class MemoryBudget {
  /** Bytes charged and not released. */
  live = 0;
  /** Highest `live` seen: what the computation needed at once. */
  peak = 0;

  /**
   * `name` is the limits.ts constant the value comes from (or the caller's own name), printed
   * in the refusal so the user can tell which budget an input exceeded.
   */
  constructor(
    readonly name: string,
    readonly bytes: number,
  ) {}

  /** Charges `n` bytes about to be allocated; refuses (nothing charged) when they do not fit. */
  charge(n: number, where: ErrorWhere, what: string): void {
    if (this.live + n > this.bytes) {
      throw new LimitError(
        where,
        `${what} would need ${this.live + n} bytes at once, more than ${this.name} (${this.bytes} bytes)`,
      );
    }
    this.live += n;
    if (this.live > this.peak) this.peak = this.live;
  }

  release(n: number): void {
    this.live = Math.max(0, this.live - n);
  }

  /**
   * A budget holding what this one holds now, charged apart: for a copy that replaces the
   * previous one (a partial map: the caller keeps only the newest), so copies do not add up.
   */
  fork(): MemoryBudget {
    const b = new MemoryBudget(this.name, this.bytes);
    b.live = this.live;
    b.peak = this.live;
    return b;
  }
}

/** A budget that never refuses: callers that bound memory by construction (the streaming walk). */
export const unbounded = (name: string): MemoryBudget => new MemoryBudget(name, Number.POSITIVE_INFINITY);
