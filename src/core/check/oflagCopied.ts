/**
 * check_oflag_copied() (QEMU 7.2 block/qcow2-refcount.c), without repair: in the active L1
 * table and its L2 tables, the copied flag must be set exactly where the on-disk refcount is 1.
 *
 * QEMU runs it after compare_refcounts() and reads every L2 table a second time. Here it runs
 * while calculate_refcounts() walks the active L2 tables, on the same bytes and against the
 * on-disk refcounts read beforehand (they do not change during a check), and keeps its lines to
 * be printed after compare_refcounts()'s, in QEMU's order. A refcount QEMU cannot read is
 * skipped without a message, after the corruption signal of an unaligned refcount block.
 */
import { CorruptError } from '../errors.ts';
import {
  entryHex,
  entryOffset,
  type L2Slice,
  OFFSET_MASK_LO,
  QCOW_OFLAG_COPIED_HI,
  QCOW2_CLUSTER_NORMAL,
  QCOW2_CLUSTER_ZERO_ALLOC,
} from '../qcow2/l2entry.ts';
import type { RefblockProblem } from '../qcow2/refcount.ts';
import type { Checker } from './checker.ts';
import type { DiskRefcounts } from './diskRefcounts.ts';
import { MAX_CHECK_MESSAGES } from './result.ts';

export class OflagCopied {
  /** Lines in QEMU's order; `signal` marks where qcow2_get_refcount() signals corruption. */
  private readonly lines: (string | { readonly signal: string })[] = [];
  private dropped = 0;
  private signalled = false;

  constructor(
    private readonly c: Checker,
    private readonly disk: DiskRefcounts,
  ) {}

  private line(s: string): void {
    if (this.lines.length < MAX_CHECK_MESSAGES) this.lines.push(s);
    else this.dropped++;
  }

  private failed(p: RefblockProblem): void {
    // "don't print message nor increment check_errors"; only the first signal can print.
    if (p.error instanceof CorruptError && !this.signalled) {
      this.signalled = true;
      this.lines.push({ signal: p.error.detail });
    }
  }

  /** The refcount of host cluster k, or undefined when QEMU cannot read it. */
  private async refcount(k: number): Promise<number | undefined> {
    const r =
      k < this.disk.count ? (this.disk.problemOf(k) ?? this.disk.values.get(k)) : await this.disk.lookup(k);
    if (typeof r === 'number') return r;
    this.failed(r);
    return undefined;
  }

  /** The L1 entry i (hi, lo) of an L2 table at a non-zero offset. */
  async l1Entry(i: number, hi: number, lo: number): Promise<void> {
    const rc = await this.refcount(Math.floor(entryOffset(hi, lo) / this.c.cs));
    if (rc === undefined) return;
    if ((rc === 1) !== ((hi & QCOW_OFLAG_COPIED_HI) !== 0)) {
      this.c.corruptions++;
      this.line(`ERROR OFLAG_COPIED L2 cluster: l1_index=${i} l1_entry=${entryHex(hi, lo)} refcount=${rc}`);
    }
  }

  /** The NORMAL and ZERO_ALLOC entries of one decoded L2 table of the active L1. */
  async l2Table(s: L2Slice): Promise<void> {
    const c = this.c;
    const cs = c.cs;
    const dataFile = c.hasDataFile;
    const disk = this.disk;
    const values = disk.values;
    // Plain cells when every refcount is exact in them (no 64-bit overflow values).
    const cells = values.exact ? values.cellsView : undefined;
    const inFile = disk.count;
    const problems = disk.hasProblems;
    const csMask = cs - 1;
    const { hi: his, lo: los, type: types } = s;
    for (let j = 0; j < s.count; j++) {
      const type = types[j]!;
      if (type !== QCOW2_CLUSTER_NORMAL && type !== QCOW2_CLUSTER_ZERO_ALLOC) continue;
      const hi = his[j]!;
      const lo = los[j]!;
      let rc: number;
      if (dataFile) rc = 1;
      else {
        const offset = entryOffset(hi, lo);
        const k = (lo & OFFSET_MASK_LO & csMask) === 0 ? offset / cs : Math.floor(offset / cs);
        const p = problems && k < inFile ? disk.problemOf(k) : undefined;
        if (p) {
          this.failed(p);
          continue;
        }
        if (k < inFile) rc = cells ? cells[k]! : values.get(k);
        else {
          const r = await this.refcount(k);
          if (r === undefined) continue;
          rc = r;
        }
      }
      if ((rc === 1) !== ((hi & QCOW_OFLAG_COPIED_HI) !== 0)) {
        c.corruptions++;
        this.line(`ERROR OFLAG_COPIED data cluster: l2_entry=${entryHex(hi, lo)} refcount=${rc}`);
      }
    }
  }

  /** Prints the lines where QEMU prints them: after compare_refcounts(). */
  flush(): void {
    for (const l of this.lines) {
      if (typeof l === 'string') this.c.say(l);
      else this.c.signalCorruption(l.signal);
    }
    this.c.messagesDropped += this.dropped;
  }
}
