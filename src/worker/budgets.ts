/**
 * What the page's worker holds is bounded (issue 15 point 1): every amount an input controls
 * has a budget here, with its reason. The engine's own limits (core/limits.ts) bound what any
 * one computation may need; these bound what the page keeps on top of them, so that one
 * hostile file cannot take the tab. Past a budget the open ends with a LimitError naming the
 * file, the structure and its offset, and what was read before it stays on screen.
 */

import type { Chain } from '../core/chain/chain.ts';
import { LimitError } from '../core/errors.ts';
import { hex } from '../core/format.ts';
import { entryOffset } from '../core/qcow2/l2entry.ts';

/**
 * Extents an open may hold in the page's worker, over its layers. The worker keeps each one
 * several times over (the layers' status, the resolved chain, the qemu-img map rows and the
 * lanes' runs: ~130 bytes in all), and its arrays grow by doubling: 6 Mi stays below the
 * doubling to 16 Mi (8 Mi arrays of 34 bytes an extent hold it, with the one L2 table it may
 * pass by). Measured in Chromium on a 384 KiB image whose L1 entries share one L2 table
 * (12.6 M extents, fixtures/hostile.py), shown up to here: the renderer peaked at 717 MiB
 * (1376 MiB at 8 Mi). A 384 GiB image fragmented at every 64 KiB cluster fits. The budget is
 * checked after each L2 table of the top, so an open may pass it by one table's extents. The
 * CLI streams its maps and has no such bound.
 */
export const PAGE_MAX_EXTENTS = 6 * 1024 * 1024;

/**
 * Bytes of L1 tables the files of one drop may hold once opened. Every dropped file is opened
 * before they are matched into a chain (its header names its backing file), and QEMU lets each
 * ask for a 32 MiB L1 table that may lie past the end of a 3 KiB file (read as zeros): 300 such
 * files held 19 GiB. 256 MiB is 2,048 images of 1 TiB at 64 KiB clusters (128 KiB each), or
 * eight tables of QEMU's largest; the files past it are not opened, and the page says so.
 */
export const CHAIN_TABLE_BYTES = 256 * 1024 * 1024;

/**
 * Views of a source (a snapshot's L1, backing: null, the zero scan) kept besides the chain as
 * opened; the least recently used is dropped and built again if asked for. Each one is a
 * whole status with its interpretations, as large as the open's: an image with 65,535
 * snapshots could otherwise keep one per snapshot looked at.
 */
export const VIEWS_KEPT = 4;

/**
 * Findings a source lists to the page; the rest are counted in one more. A hostile image can
 * have one per snapshot or per L2 table (65,535 snapshots with bad L1 tables, millions of L2
 * tables past the end of the file), and the page draws each as a line.
 */
export const MAX_FINDINGS_LISTED = 1000;

/**
 * Internal snapshots the `snapshots` call names (the diff's view pickers list each twice); the
 * Image panel's table pages through all of them (`snapshotRows`). A menu of 131,070 options
 * (65,535 snapshots, a legal count) froze the page.
 */
export const MAX_SNAPSHOT_CHOICES = 200;

/**
 * The LimitError of an open that passed its extents budget (PAGE_MAX_EXTENTS) while the top's
 * L2 table mapping guest bytes up to `end` was decoded: it names that table.
 */
export function extentsOverBudget(chain: Chain, end: number, held: number, budget: number): LimitError {
  const top = chain.layers[0]!;
  const detail = `${held} extents up to guest offset ${hex(end)}, more than the page keeps (PAGE_MAX_EXTENTS ${budget}); the map is shown up to there, and 'clusterscope map' streams it whole`;
  if (top.format !== 'qcow2') return new LimitError({ file: top.name, structure: 'block status' }, detail);
  const i = Math.floor((end - 1) / (top.header.clusterSize * top.header.l2Entries));
  const where = {
    file: top.name,
    structure: `L2 table (L1[${i}])`,
    offset: entryOffset(top.l1[2 * i]!, top.l1[2 * i + 1]!),
  };
  return new LimitError(where, detail);
}
