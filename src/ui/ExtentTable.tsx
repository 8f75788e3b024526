/**
 * The qemu-img map rows of the range in view, as a virtualized table (only the rows in the
 * scroll window are in the DOM). Rows are merged from the chain's extents the way qemu-img map
 * merges block status (same data, zero, present and depth, host offsets continuing). Linked both
 * ways: a click (or Enter) zooms the map to the row and selects its first cluster; a selection
 * made on the map scrolls the table to its row.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { binarySize, hex } from '../core/format.ts';
import {
  BDRV_BLOCK_ALLOCATED as ALLOCATED,
  BDRV_BLOCK_DATA as DATA,
  BDRV_BLOCK_OFFSET_VALID as OFFSET_VALID,
  BDRV_BLOCK_ZERO as ZERO,
} from '../core/status/flags.ts';
import type { ExtentArrays } from '../worker/protocol.ts';
import { useApp } from './appContext.ts';

const ROW_PX = 26;
const VISIBLE_ROWS = 10;
/** Rows built at most; a view with more shows the first ones and says so. */
const MAX_ROWS = 200_000;

interface Rows {
  count: number;
  truncated: boolean;
  start: Float64Array;
  length: Float64Array;
  flags: Uint8Array;
  depth: Uint16Array;
  host: Float64Array;
}

/** qemu-img map rows overlapping [from, to), clipped to it. */
export function mapRows(x: ExtentArrays, from: number, to: number): Rows {
  const n = Math.min(x.count, MAX_ROWS);
  const r: Rows = {
    count: 0,
    truncated: false,
    start: new Float64Array(n),
    length: new Float64Array(n),
    flags: new Uint8Array(n),
    depth: new Uint16Array(n),
    host: new Float64Array(n),
  };
  let lo = 0;
  let hi = x.count;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (x.start[m]! + x.length[m]! <= from) lo = m + 1;
    else hi = m;
  }
  for (let k = lo; k < x.count && x.start[k]! < to; k++) {
    const a = Math.max(from, x.start[k]!);
    const b = Math.min(to, x.start[k]! + x.length[k]!);
    const f = x.flags[k]! & (DATA | ZERO | ALLOCATED);
    const d = x.layer[k]!;
    const h = x.flags[k]! & OFFSET_VALID && x.host[k]! >= 0 ? x.host[k]! + (a - x.start[k]!) : -1;
    const i = r.count - 1;
    if (
      i >= 0 &&
      r.flags[i] === f &&
      r.depth[i] === d &&
      r.start[i]! + r.length[i]! === a &&
      (h < 0 ? r.host[i]! < 0 : r.host[i]! >= 0 && r.host[i]! + r.length[i]! === h)
    ) {
      r.length[i]! += b - a;
      continue;
    }
    if (r.count === n) {
      r.truncated = true;
      break;
    }
    r.start[r.count] = a;
    r.length[r.count] = b - a;
    r.flags[r.count] = f;
    r.depth[r.count] = d;
    r.host[r.count] = h;
    r.count++;
  }
  return r;
}

function rowAt(r: Rows, pos: number): number {
  let lo = 0;
  let hi = r.count - 1;
  while (lo <= hi) {
    const m = (lo + hi) >>> 1;
    if (pos < r.start[m]!) hi = m - 1;
    else if (pos >= r.start[m]! + r.length[m]!) lo = m + 1;
    else return m;
  }
  return -1;
}

export function ExtentTable() {
  const chain = useApp((s) => s.chain);
  const view = useApp((s) => s.view);
  const selection = useApp((s) => s.selection);
  const setView = useApp((s) => s.setView);
  const select = useApp((s) => s.select);
  const box = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const rows = useMemo(
    () => (chain ? mapRows(chain.extents, view.start, view.end) : undefined),
    [chain, view.start, view.end],
  );
  const selRow = rows && selection !== undefined ? rowAt(rows, selection) : -1;
  useEffect(() => {
    const el = box.current;
    if (!el || selRow < 0) return;
    const top = selRow * ROW_PX;
    if (top < el.scrollTop || top + ROW_PX > el.scrollTop + el.clientHeight)
      el.scrollTop = Math.max(0, top - ROW_PX * 2);
  }, [selRow]);
  if (!chain || !rows) return null;
  const first = Math.max(0, Math.floor(scroll / ROW_PX) - 2);
  const last = Math.min(rows.count, first + VISIBLE_ROWS + 4);
  const go = (i: number) => {
    const a = rows.start[i]!;
    const len = rows.length[i]!;
    setView({ start: a, end: a + len });
    select(a - (a % chain.clusterSize));
  };
  const items = [];
  for (let i = first; i < last; i++) {
    const f = rows.flags[i]!;
    items.push(
      <tr
        key={i}
        style={{ top: i * ROW_PX }}
        className={i === selRow ? 'selected' : undefined}
        aria-selected={i === selRow}
        aria-rowindex={i + 2}
        tabIndex={0}
        onClick={() => go(i)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            go(i);
          }
        }}
      >
        <td>{hex(rows.start[i]!)}</td>
        <td>{binarySize(rows.length[i]!)}</td>
        <td>{f & ALLOCATED ? rows.depth[i] : '—'}</td>
        <td>{f & ALLOCATED ? 'yes' : 'no'}</td>
        <td>{f & ZERO ? 'yes' : 'no'}</td>
        <td>{f & DATA ? 'yes' : 'no'}</td>
        <td>{rows.host[i]! >= 0 ? hex(rows.host[i]!) : '—'}</td>
      </tr>,
    );
  }
  return (
    <section className="panel extent-table" aria-label="qemu-img map rows in view">
      <h2>
        qemu-img map rows in view: {rows.count}
        {rows.truncated ? '+' : ''}
      </h2>
      <table aria-rowcount={rows.count + 1} className="rows-head">
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col">start</th>
            <th scope="col">length</th>
            <th scope="col">depth</th>
            <th scope="col">present</th>
            <th scope="col">zero</th>
            <th scope="col">data</th>
            <th scope="col">offset</th>
          </tr>
        </thead>
      </table>
      <div
        ref={box}
        className="rows-scroll"
        data-testid="extent-rows"
        style={{ height: Math.min(rows.count, VISIBLE_ROWS) * ROW_PX + 2 }}
        onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
      >
        <table style={{ height: rows.count * ROW_PX }}>
          <tbody>{items}</tbody>
        </table>
      </div>
    </section>
  );
}
