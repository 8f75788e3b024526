/**
 * A persistent bitmap on the one raster: its lane (dirty / clean, as qemu:dirty-bitmap:NAME
 * reports it), and the heatmap classes of the bitmap the page shows: dirty and clean, and what
 * an incremental backup reads of the dirty bytes (interpret/bitmap.ts incrementalBackupRead():
 * data, zero, absent), so a cell states how much of it is dirty and how much of that is data.
 */
import { BACKUP_ABSENT, BACKUP_CLEAN, BACKUP_DATA, BACKUP_ZERO, DIRTY_SET } from '../interpret/bitmap.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import type { Binner } from './bins.ts';
import { C_BACKUP_ABSENT, C_BACKUP_DATA, C_BACKUP_ZERO, C_CLEAN, C_DIRTY } from './classes.ts';
import type { LaneRuns } from './lanes.ts';

/** A bitmap's runs on the raster: its dirty / clean runs and its incremental-backup runs. */
export interface BitmapRaster {
  /** qemu:dirty-bitmap values (DIRTY_CLEAN / DIRTY_SET). */
  readonly dirty: Interpreted;
  /** BACKUP_* values. */
  readonly backup: Interpreted;
}

const BACKUP_CLASS: Readonly<Record<number, number>> = {
  [BACKUP_DATA]: C_BACKUP_DATA,
  [BACKUP_ZERO]: C_BACKUP_ZERO,
  [BACKUP_ABSENT]: C_BACKUP_ABSENT,
};

/** A bitmap's lane: dirty or clean. */
export const bitmapLane = (dirty: Interpreted): LaneRuns => ({
  runs: dirty,
  classOf: (i) => (dirty.value[i] === DIRTY_SET ? C_DIRTY : C_CLEAN),
});

/** Adds the bitmap's classes to bins being made (chain.ts binChain). */
export function addBitmapBins(b: Binner, r: BitmapRaster): void {
  const d = r.dirty;
  b.addRuns(d, (i, cls) => {
    cls[0] = d.value[i] === DIRTY_SET ? C_DIRTY : C_CLEAN;
    return 1;
  });
  const k = r.backup;
  b.addRuns(k, (i, cls) => {
    const v = k.value[i]!;
    if (v === BACKUP_CLEAN) return 0;
    cls[0] = BACKUP_CLASS[v]!;
    return 1;
  });
}
