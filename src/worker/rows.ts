/**
 * A page of rows over any source's runs (the extent table, the diff's list): rows that overlap
 * the range asked for, clipped to it, from a row index or from the row holding an offset. The
 * runs stay in the worker; a page is what a table shows.
 */
import { firstEndingAfter, type Runs } from '../core/runs/runs.ts';
import type { Params } from '../protocol/calls.ts';
import type { RowsPage } from '../protocol/results.ts';

/** Most rows one page holds: a table shows a screenful, a keyboard step one. */
export const MAX_ROWS_PAGE = 1000;

export type RowsQuery = Omit<Params<'rows'>, 'source' | 'view'>;

export interface RowFormat {
  readonly columns: readonly string[];
  /** Cells of row i, clipped to [start, start + length). */
  cells(i: number, start: number, length: number): string[];
  /** A class index for the row's swatch, -1 for none. */
  klass?(i: number): number;
}

export function rowsPage(runs: Runs, q: RowsQuery, f: RowFormat): RowsPage {
  const lo = q.range ? q.range.start : 0;
  const hi = q.range ? q.range.end : Number.POSITIVE_INFINITY;
  const first = firstEndingAfter(runs, lo);
  let last = first;
  // Rows overlapping the range: [first, last).
  if (q.range) last = firstEndingAfter(runs, Math.max(lo, hi - 1)) + 1;
  else last = runs.count;
  last = Math.min(runs.count, Math.max(first, last));
  while (last > first && runs.start[last - 1]! >= hi) last--;
  const total = last - first;
  const from = Math.max(
    0,
    Math.min(total, q.at !== undefined ? firstEndingAfter(runs, q.at) - first : (q.from ?? 0)),
  );
  const n = Math.max(0, Math.min(q.count, MAX_ROWS_PAGE, total - from));
  const start = new Float64Array(n);
  const length = new Float64Array(n);
  const klass = new Int32Array(n).fill(-1);
  const cells: string[][] = [];
  for (let k = 0; k < n; k++) {
    const i = first + from + k;
    const a = Math.max(lo, runs.start[i]!);
    const z = Math.min(hi, runs.start[i]! + runs.length[i]!);
    start[k] = a;
    length[k] = z - a;
    if (f.klass) klass[k] = f.klass(i);
    cells.push(f.cells(i, a, z - a));
  }
  return { total, from, columns: f.columns, start, length, klass, cells, truncated: false };
}

/**
 * A page of a list that is no run list (an image's internal snapshots): rows [from, from + count)
 * of `total`, each `cells(i)`; rows have no guest range (start and length 0) and no swatch.
 */
export function listPage(
  total: number,
  from: number,
  count: number,
  columns: readonly string[],
  cells: (i: number) => string[],
): RowsPage {
  const first = Math.max(0, Math.min(total, Math.floor(from)));
  const n = Math.max(0, Math.min(count, MAX_ROWS_PAGE, total - first));
  return {
    total,
    from: first,
    columns,
    start: new Float64Array(n),
    length: new Float64Array(n),
    klass: new Int32Array(n).fill(-1),
    cells: Array.from({ length: n }, (_, k) => cells(first + k)),
    truncated: false,
  };
}
