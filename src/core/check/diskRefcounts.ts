/**
 * The on-disk refcounts the check compares with, read once for every cluster the file can
 * hold (one more than its size in clusters: the in-memory table grows by at most that one, for
 * the semi-allocated last cluster): whole refcount blocks through the table reader into one
 * typed array. Clusters beyond are looked up one by one (qcow2_get_refcount()); only a damaged
 * L2 entry points there.
 */
import type { Cancellation } from '../cancel.ts';
import type { Qcow2Image } from '../qcow2/image.ts';
import { type RefblockProblem, RefcountReader, type RefcountTable } from '../qcow2/refcount.ts';
import type { RefcountArray } from '../qcow2/refcountArray.ts';

export class DiskRefcounts {
  private constructor(
    readonly values: RefcountArray,
    /** Clusters [0, count) are in `values`. */
    readonly count: number,
    private readonly problems: ReadonlyMap<number, RefblockProblem>,
    private readonly reader: RefcountReader,
  ) {}

  static async read(
    img: Qcow2Image,
    table: RefcountTable,
    count: number,
    signal?: Cancellation,
  ): Promise<DiskRefcounts> {
    const reader = new RefcountReader(img, table);
    const { values, problems } = await reader.readRange(0, count, signal);
    return new DiskRefcounts(values, count, new Map(problems.map((p) => [p.reftableIndex, p])), reader);
  }

  /** Entries of one refcount block. */
  get blockEntries(): number {
    return this.reader.blockEntries;
  }

  /** Whether any cluster below `count` cannot be read. */
  get hasProblems(): boolean {
    return this.problems.size > 0;
  }

  /** Why cluster k (< count) cannot be read, if it cannot. */
  problemOf(k: number): RefblockProblem | undefined {
    return this.problems.size ? this.problems.get(Math.floor(k / this.reader.blockEntries)) : undefined;
  }

  /** qcow2_get_refcount() of any cluster: the refcount, or why QEMU cannot read it. */
  async lookup(k: number): Promise<number | RefblockProblem> {
    if (k < this.count) return this.problemOf(k) ?? this.values.get(k);
    try {
      return await this.reader.get(k);
    } catch (e) {
      const idx = Math.floor(k / this.reader.blockEntries);
      const p = this.reader.blockOffset(idx);
      if (typeof p !== 'number') return { reftableIndex: idx, error: p };
      throw e;
    }
  }
}
