/**
 * compare_refcounts() (QEMU 7.2 block/qcow2-refcount.c), without repair: every cluster's
 * on-disk refcount against the references counted in memory. A refcount QEMU cannot read is a
 * check error ("Can't get refcount for cluster N"), after the corruption signal of an
 * unaligned refcount block; a lower refcount is a corruption, a higher one a leak.
 */
import { CorruptError } from '../errors.ts';
import { type Checker, EIO } from './checker.ts';
import type { DiskRefcounts } from './diskRefcounts.ts';

/** Returns the highest cluster with a refcount or a reference (image-end-offset's cluster). */
export function compareRefcounts(c: Checker, disk: DiskRefcounts): number {
  const nb = c.imrt.size;
  const imrt = c.imrt;
  const values = disk.values;
  const checkProblems = disk.hasProblems;
  let highest = 0;
  if (!checkProblems && imrt.exact && values.exact && values.size >= nb) {
    // Fast path: both tables as plain cells; lines only where they differ.
    const a = values.cellsView;
    const b = imrt.cellsView;
    for (let i = 0; i < nb; i++) {
      const refcount1 = a[i]!;
      const refcount2 = b[i]!;
      if ((refcount1 | refcount2) === 0) continue;
      highest = i;
      if (refcount1 !== refcount2) mismatch(c, i, refcount1, refcount2);
    }
    return highest;
  }
  for (let i = 0; i < nb; i++) {
    if (checkProblems) {
      const p = disk.problemOf(i);
      if (p) {
        if (p.error instanceof CorruptError) c.signalCorruption(p.error.detail);
        c.say(`Can't get refcount for cluster ${i}: ${EIO}`);
        c.checkErrors++;
        continue;
      }
    }
    const refcount1 = values.get(i);
    const refcount2 = imrt.get(i);
    if (refcount1 > 0 || refcount2 > 0) highest = i;
    if (refcount1 !== refcount2) mismatch(c, i, refcount1, refcount2);
  }
  return highest;
}

function mismatch(c: Checker, i: number, refcount1: number, refcount2: number): void {
  c.say(
    `${refcount1 < refcount2 ? 'ERROR' : 'Leaked'} cluster ${i} refcount=${refcount1} reference=${refcount2}`,
  );
  if (refcount1 < refcount2) c.corruptions++;
  else c.leaks++;
}
