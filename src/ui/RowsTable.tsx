/**
 * A source's rows as a virtualized table, asked from the worker a page at a time (the runs stay
 * there): qemu-img map rows of the range in view, the differing extents of a diff. Rows have one
 * height, and only those in the scroll window (and a margin) are in the DOM. The current row
 * (the selection's, or the diff's current difference) is marked and kept in view; a click or
 * Enter on a row picks it.
 */
import { type ReactNode, useEffect, useRef, useState } from 'react';
import type { RowsPage } from '../protocol/results.ts';
import type { RasterInfo } from '../protocol/source.ts';
import { useServices } from './appContext.ts';

/** Rows asked for at once: a few screenfuls. */
const PAGE = 100;
const MARGIN = 4;

export interface RowsTableProps {
  readonly source: RasterInfo;
  readonly view: string;
  /** Only the rows within this guest range, clipped to it. */
  readonly range?: { readonly start: number; readonly end: number };
  readonly label: string;
  heading(total: number): ReactNode;
  readonly testId: string;
  readonly rowHeight: number;
  readonly visibleRows: number;
  /** The current row: by index, or the row holding a guest offset. */
  readonly current?: { readonly index: number } | { readonly at: number };
  readonly rowClass?: string;
  /** Class names of cells by column name. */
  readonly cellClass?: Readonly<Record<string, string>>;
  /** A swatch colour for a row's class index. */
  swatch?(klass: number): string;
  onPick(index: number, start: number, length: number): void;
  readonly empty?: ReactNode;
}

interface Loaded {
  readonly key: string;
  readonly total: number;
  readonly pages: ReadonlyMap<number, RowsPage>;
}

export function RowsTable(p: RowsTableProps) {
  const { client } = useServices();
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const key = `${p.source.id}|${p.view}|${p.range?.start}|${p.range?.end}`;
  const [loaded, setLoaded] = useState<Loaded>({ key: '', total: -1, pages: new Map() });
  const [atRow, setAtRow] = useState<{ key: string; at: number; index: number }>();
  const pages = loaded.key === key ? loaded.pages : new Map<number, RowsPage>();
  const total = loaded.key === key ? loaded.total : -1;
  const q = { source: p.source.id, view: p.view, ...(p.range && { range: p.range }) };

  const first = Math.max(0, Math.floor(scroll / p.rowHeight) - MARGIN);
  const last = Math.max(first + 1, Math.ceil((scroll + p.visibleRows * p.rowHeight) / p.rowHeight) + MARGIN);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `q` is `key` in parts
  useEffect(() => {
    for (let pg = Math.floor(first / PAGE); pg * PAGE < (total < 0 ? 1 : Math.min(last, total)); pg++) {
      if (pages.has(pg)) continue;
      client.call('rows', { ...q, from: pg * PAGE, count: PAGE }).then(
        (r) =>
          setLoaded((old) => ({
            key,
            total: r.total,
            pages: new Map(old.key === key ? old.pages : []).set(pg, r),
          })),
        () => {},
      );
    }
  }, [client, key, first, last, total, pages]);

  // The row holding an offset (the selection): asked for its index.
  const at = p.current && 'at' in p.current ? p.current.at : undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `q` is `key` in parts
  useEffect(() => {
    if (at === undefined) return;
    client.call('rows', { ...q, at, count: 1 }, { channel: `rows:at:${p.testId}` }).then(
      (r) => setAtRow({ key, at, index: r.cells.length === 0 || r.start[0]! > at ? -1 : r.from }),
      () => {},
    );
  }, [client, key, at, p.testId]);
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
    const pick = () => r && p.onPick(i, r.pg.start[r.k]!, r.pg.length[r.k]!);
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
