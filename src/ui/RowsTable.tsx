/**
 * A source's rows as a virtualized table, asked from the worker a page at a time (the runs stay
 * there): qemu-img map rows of the range in view, the differing extents of a diff, or any list
 * a feed pages (an image's internal snapshots). Rows have one height, and only those in the
 * scroll window (and a margin) are in the DOM; only the pages near it are kept. The current row
 * (the selection's, or the diff's current difference) is marked and kept in view; a click or
 * Enter on a row picks it.
 */
import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import type { RowsPage } from '../protocol/results.ts';
import type { RasterInfo } from '../protocol/source.ts';
import type { Caller } from '../state/loader.ts';
import { useServices } from './appContext.ts';

/** Rows asked for at once: a few screenfuls. */
const PAGE = 100;
const MARGIN = 4;
/**
 * Pages kept around the scroll window; farther ones are dropped and asked again if scrolled
 * back to. Scrolling through 12 M rows kept every page passed (120 k pages of strings).
 */
export const PAGES_KEPT = 16;

/** Where a table's rows come from, a page at a time. */
export interface RowsFeed {
  /** Names the rows: when it changes, every page is asked again. */
  readonly key: string;
  page(from: number, count: number): Promise<RowsPage>;
  /** The index of the row `at` names (-1: none), asked on `channel` (a newer ask supersedes). */
  locate(at: number | string, channel: string): Promise<number>;
}

/** The rows of a source's view (qemu-img map rows, a diff's differences), within `range`. */
export function sourceRows(
  client: Caller,
  source: RasterInfo,
  view: string,
  range?: { readonly start: number; readonly end: number },
): RowsFeed {
  const q = { source: source.id, view, ...(range && { range }) };
  return {
    key: `${source.id}|${view}|${range?.start}|${range?.end}`,
    page: (from, count) => client.call('rows', { ...q, from, count }),
    locate: async (at, channel) => {
      if (typeof at !== 'number') return -1;
      const r = await client.call('rows', { ...q, at, count: 1 }, { channel });
      return r.cells.length === 0 || r.start[0]! > at ? -1 : r.from;
    },
  };
}

interface CommonProps {
  readonly label: string;
  heading(total: number): ReactNode;
  readonly testId: string;
  readonly rowHeight: number;
  readonly visibleRows: number;
  /** The current row: by index, or the row `at` names (a guest offset; what a feed locates). */
  readonly current?: { readonly index: number } | { readonly at: number | string };
  readonly rowClass?: string;
  /** Class names of cells by column name. */
  readonly cellClass?: Readonly<Record<string, string>>;
  /** A swatch colour for a row's class index. */
  swatch?(klass: number): string;
  onPick(index: number, start: number, length: number, cells: readonly string[]): void;
  /** A last cell of each row (a button), with its column's name. */
  readonly action?: { readonly column: string; cell(index: number, cells: readonly string[]): ReactNode };
  readonly empty?: ReactNode;
}

export type RowsTableProps = CommonProps &
  (
    | {
        readonly source: RasterInfo;
        readonly view: string;
        /** Only the rows within this guest range, clipped to it. */
        readonly range?: { readonly start: number; readonly end: number };
      }
    | { readonly feed: RowsFeed }
  );

interface Loaded {
  readonly key: string;
  readonly total: number;
  readonly pages: ReadonlyMap<number, RowsPage>;
}

/** `pages` with page `pg` added and those more than PAGES_KEPT / 2 pages from it dropped. */
export function keepNear(
  pages: ReadonlyMap<number, RowsPage>,
  pg: number,
  r: RowsPage,
): Map<number, RowsPage> {
  const out = new Map<number, RowsPage>();
  for (const [k, v] of pages) if (Math.abs(k - pg) <= PAGES_KEPT / 2) out.set(k, v);
  return out.set(pg, r);
}

export function RowsTable(p: RowsTableProps) {
  const { client } = useServices();
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const given = 'feed' in p ? p.feed : undefined;
  const own = 'feed' in p ? undefined : { source: p.source, view: p.view, range: p.range };
  const ownKey = own && `${own.source.id}|${own.view}|${own.range?.start}|${own.range?.end}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `ownKey` names `own`
  const feed = useMemo(
    () => given ?? sourceRows(client, own!.source, own!.view, own!.range),
    [client, given, ownKey],
  );
  const key = feed.key;
  const [loaded, setLoaded] = useState<Loaded>({ key: '', total: -1, pages: new Map() });
  const [atRow, setAtRow] = useState<{ key: string; at: number | string; index: number }>();
  const pages = loaded.key === key ? loaded.pages : new Map<number, RowsPage>();
  const total = loaded.key === key ? loaded.total : -1;

  const first = Math.max(0, Math.floor(scroll / p.rowHeight) - MARGIN);
  const last = Math.max(first + 1, Math.ceil((scroll + p.visibleRows * p.rowHeight) / p.rowHeight) + MARGIN);
  useEffect(() => {
    for (let pg = Math.floor(first / PAGE); pg * PAGE < (total < 0 ? 1 : Math.min(last, total)); pg++) {
      if (pages.has(pg)) continue;
      feed.page(pg * PAGE, PAGE).then(
        (r) =>
          setLoaded((old) => ({
            key,
            total: r.total,
            pages: keepNear(old.key === key ? old.pages : new Map(), pg, r),
          })),
        () => {},
      );
    }
  }, [feed, key, first, last, total, pages]);

  // The row `at` names (the selection's offset, a snapshot's tag): asked for its index.
  const at = p.current && 'at' in p.current ? p.current.at : undefined;
  useEffect(() => {
    if (at === undefined) return;
    feed.locate(at, `rows:at:${p.testId}`).then(
      (index) => setAtRow({ key, at, index }),
      () => {},
    );
  }, [feed, key, at, p.testId]);
  const current =
    p.current && 'index' in p.current
      ? p.current.index
      : atRow && atRow.key === key && atRow.at === at
        ? atRow.index
        : -1;

  // Keep the current row in view.
  useEffect(() => {
    const el = box.current;
    if (!el || current < 0) return;
    const top = current * p.rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + p.rowHeight > el.scrollTop + el.clientHeight)
      el.scrollTop = top + p.rowHeight - el.clientHeight;
  }, [current, p.rowHeight]);

  const rowOf = (i: number) => {
    const pg = pages.get(Math.floor(i / PAGE));
    const k = i % PAGE;
    return pg && k < pg.cells.length ? { pg, k } : undefined;
  };
  const columns = pages.values().next().value?.columns ?? [];
  const items = [];
  for (let i = first; i < Math.min(last, Math.max(0, total)); i++) {
    const r = rowOf(i);
    const pick = () => r && p.onPick(i, r.pg.start[r.k]!, r.pg.length[r.k]!, r.pg.cells[r.k]!);
    items.push(
      <tr
        key={i}
        style={{ top: i * p.rowHeight, height: p.rowHeight }}
        className={[p.rowClass, i === current ? 'selected' : ''].filter(Boolean).join(' ') || undefined}
        data-current={i === current ? 'true' : undefined}
        aria-selected={i === current}
        aria-rowindex={i + 2}
        tabIndex={0}
        onClick={pick}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            pick();
          }
        }}
      >
        {r
          ? r.pg.cells[r.k]!.map((c, j) => (
              <td
                key={columns[j] ?? j}
                className={p.cellClass?.[columns[j] ?? '']}
                title={c.length > 60 ? c : undefined}
              >
                {j === 0 && p.swatch && r.pg.klass[r.k]! >= 0 && (
                  <span
                    className="swatch"
                    style={{ background: p.swatch(r.pg.klass[r.k]!) }}
                    aria-hidden="true"
                  />
                )}
                {c}
              </td>
            ))
          : columns.map((c) => <td key={c}>…</td>)}
        {p.action && <td className="rows-action">{r && p.action.cell(i, r.pg.cells[r.k]!)}</td>}
      </tr>,
    );
  }
  const shown = Math.max(0, total);
  return (
    <section className="panel rows-table" aria-label={p.label}>
      <h2>{p.heading(shown)}</h2>
      {total === 0 && p.empty ? (
        p.empty
      ) : (
        <>
          <table aria-rowcount={shown + 1} className="rows-head">
            <thead>
              <tr aria-rowindex={1}>
                {columns.map((c) => (
                  <th key={c} scope="col" className={p.cellClass?.[c]}>
                    {c}
                  </th>
                ))}
                {p.action && (
                  <th scope="col" className="rows-action">
                    {p.action.column}
                  </th>
                )}
              </tr>
            </thead>
          </table>
          <div
            ref={box}
            className="rows-scroll"
            data-testid={p.testId}
            style={{ height: Math.min(shown, p.visibleRows) * p.rowHeight + 2 }}
            onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
          >
            <table style={{ height: shown * p.rowHeight }}>
              <tbody>{items}</tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
