/**
 * The differing extents as a list, virtualized: rows have a fixed height and only those in
 * view (plus a margin) are rendered; their reasons (core explainDifference, made in the worker
 * on demand) are fetched a page at a time, so a diff of a million extents costs a screenful.
 */
import { useEffect, useRef, useState } from 'react';
import { binarySize, hex } from '../../core/format.ts';
import type { DiffSummary } from '../../worker/diffProtocol.ts';
import { type DiffPalette, kindColour } from './diffPalette.ts';
import { useDiffClient } from './useDiff.ts';

const ROW_H = 68;
const PAGE = 50;
const MARGIN = 6;

export function DiffList({
  diffId,
  summary,
  palette,
  current,
  onPick,
}: {
  diffId: number;
  summary: DiffSummary;
  palette: DiffPalette;
  current: number;
  onPick: (i: number) => void;
}) {
  const dc = useDiffClient();
  const boxRef = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [reasons, setReasons] = useState<{ diffId: number; pages: Map<number, readonly string[]> }>({
    diffId,
    pages: new Map(),
  });
  const viewH = Math.min(summary.count * ROW_H, 5 * ROW_H);
  const first = Math.max(0, Math.floor(scroll / ROW_H) - MARGIN);
  const last = Math.min(summary.count, Math.ceil((scroll + viewH) / ROW_H) + MARGIN);

  // Pages of reasons for the rows in view; a new diff starts an empty cache.
  const pages = reasons.diffId === diffId ? reasons.pages : new Map<number, readonly string[]>();
  useEffect(() => {
    for (let p = Math.floor(first / PAGE); p * PAGE < last; p++) {
      if (pages.has(p)) continue;
      pages.set(p, []);
      dc.reasons(diffId, p * PAGE, (p + 1) * PAGE).then(
        (r) =>
          setReasons((old) => ({ diffId, pages: new Map(old.diffId === diffId ? old.pages : []).set(p, r) })),
        () => {},
      );
    }
  }, [dc, diffId, first, last, pages]);

  // Keep the current row in view.
  useEffect(() => {
    const el = boxRef.current;
    if (!el || current < 0) return;
    const top = current * ROW_H;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_H > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_H - el.clientHeight;
  }, [current]);

  const reasonOf = (i: number) => pages.get(Math.floor(i / PAGE))?.[i % PAGE];
  const rows = [];
  for (let i = first; i < last; i++) {
    const k = summary.kinds[summary.kind[i]!]!;
    const s = summary.start[i]!;
    const len = summary.length[i]!;
    const c0 = Math.floor(s / summary.clusterSize);
    const c1 = Math.floor((s + len - 1) / summary.clusterSize);
    rows.push(
      <li
        key={i}
        className="diff-row"
        data-current={i === current ? 'true' : undefined}
        style={{ top: i * ROW_H, height: ROW_H }}
      >
        <button type="button" aria-current={i === current ? 'true' : undefined} onClick={() => onPick(i)}>
          <span className="diff-row-head">
            <span
              className="swatch"
              style={{ background: kindColour(palette, k.index) }}
              aria-hidden="true"
            />
            <strong>{c0 === c1 ? `cluster ${c0}` : `clusters ${c0}-${c1}`}</strong>
            <span className="muted">
              {hex(s)} · {binarySize(len)}
            </span>
            <span>{k.label}</span>
          </span>
          <span className="diff-reason" title={reasonOf(i)}>
            {reasonOf(i) || '…'}
          </span>
        </button>
      </li>,
    );
  }
  return (
    <section className="diff-list" aria-label="Differing extents">
      <h2>
        Differences <span className="muted">({summary.count})</span>
      </h2>
      {summary.count === 0 ? (
        <p className="muted">None: A and B agree everywhere they both reach.</p>
      ) : (
        <div
          className="diff-scroll"
          ref={boxRef}
          style={{ height: viewH }}
          onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
        >
          <ul aria-label="Differing extents" style={{ height: summary.count * ROW_H }}>
            {rows}
          </ul>
        </div>
      )}
    </section>
  );
}
