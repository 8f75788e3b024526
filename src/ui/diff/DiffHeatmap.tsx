/**
 * The heatmap in diff mode: the same grid as the map (grid.ts), each cell coloured by where A
 * and B agree and by each kind of disagreement. A cell holding any difference shows it, however
 * small its share (a differing cluster in a 1 TiB cell still shows); large cells band the kinds
 * in proportion, and a one-cluster cell of an image with subclusters (extended L2) is an 8x4
 * grid of them, as on the map. The current difference is outlined. The worker bins; this only
 * paints. Wheel, drag (useGridZoom.ts) and keys (viewKeys.ts) zoom and pan as on the map.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { DiffSummary } from '../../worker/diffProtocol.ts';
import { AXIS_WIDTH, OffsetAxis } from '../Axis.tsx';
import { useApp, useServices } from '../appContext.ts';
import { binarySize, rangeLabel } from '../format.ts';
import { cellAt, cellOfOffset, cellStart, cellXY, type Grid, layoutGrid } from '../grid.ts';
import { useGridZoom } from '../useGridZoom.ts';
import { viewKey } from '../viewKeys.ts';
import { type DiffPalette, kindColour } from './diffPalette.ts';
import { useDiffClient } from './useDiff.ts';

const VISIBLE_SHARE = 0.3;

function useWidth<T extends HTMLElement>(): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [w, setW] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setW(el.clientWidth));
    ro.observe(el);
    setW(el.clientWidth);
    return () => ro.disconnect();
  }, []);
  return [ref, w];
}

/** (colour, share) bands of one cell: differences first (at least VISIBLE_SHARE), then agreement. */
function bands(fr: Float32Array, classes: number, i: number, p: DiffPalette): [string, number][] {
  const out: [string, number][] = [];
  let diff = 0;
  for (let k = 1; k < classes; k++) {
    const f = fr[i * classes + k]!;
    if (f > 1e-9) {
      const s = Math.max(f, VISIBLE_SHARE);
      out.push([kindColour(p, k - 1), s]);
      diff += s;
    }
  }
  if (diff > 1) return out.map(([c, s]) => [c, s / diff]);
  const agree = fr[i * classes]!;
  if (agree > 1e-9) out.push([p.agree, Math.min(1 - diff, Math.max(agree, diff ? 0 : 1))]);
  return out;
}

export function DiffHeatmap({
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
  onPick: (offset: number) => void;
}) {
  const dc = useDiffClient();
  const { store } = useServices();
  const view = useApp((s) => s.view);
  const [boxRef, boxWidth] = useWidth<HTMLDivElement>();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [bins, setBins] = useState<{
    diffId: number;
    start: number;
    n: number;
    classes: number;
    f: Float32Array;
  }>();
  const showAxis = boxWidth >= 600;
  const cs = summary.clusterSize;
  const grid = useMemo<Grid | undefined>(() => {
    if (boxWidth <= 0 || view.end <= view.start) return undefined;
    return layoutGrid({
      width: boxWidth - (showAxis ? AXIS_WIDTH + 8 : 0),
      maxHeight: Math.max(160, Math.min(520, window.innerHeight * 0.55)),
      start: view.start,
      end: view.end,
      clusterSize: cs,
      subclusters: summary.subclusters,
    });
  }, [boxWidth, showAxis, view.start, view.end, cs, summary.subclusters]);
  const gridRef = useRef(grid);
  gridRef.current = grid;
  useGridZoom(canvasRef, gridRef, store, true);

  const seq = useRef(0);
  useEffect(() => {
    if (!grid) return;
    const s = ++seq.current;
    const end = grid.start + grid.cells * grid.bytesPerCell;
    dc.bins(diffId, grid.start, end, grid.cells * grid.subPerCell).then(
      (b) => {
        if (s === seq.current)
          setBins({ diffId, start: b.start, n: b.bins, classes: b.classes, f: b.fractions });
      },
      () => {},
    );
  }, [dc, diffId, grid]);

  const fresh = !!(
    bins &&
    grid &&
    bins.diffId === diffId &&
    bins.start === grid.start &&
    bins.n === grid.cells * grid.subPerCell
  );

  useEffect(() => {
    const c = canvasRef.current;
    if (!c || !grid || !bins || !fresh) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(grid.width * dpr);
    c.height = Math.round(grid.height * dpr);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, grid.width, grid.height);
    const gap = grid.cellPx >= 8 ? 1 : 0;
    const s = grid.cellPx - gap;
    /** One bin's box: bands of its classes (the first difference alone when small). */
    const box = (bin: number, x: number, y: number, w: number, h: number) => {
      const b = bands(bins.f, bins.classes, bin, palette);
      ctx.fillStyle = palette.empty;
      ctx.fillRect(x, y, w, h);
      if (!b.length) return;
      if (h < 8) {
        ctx.fillStyle = b[0]![0];
        ctx.fillRect(x, y, w, h);
        return;
      }
      let acc = 0;
      for (const [col, share] of b) {
        const y0 = y + Math.round(acc * h);
        acc += share;
        const y1 = y + Math.round(Math.min(1, acc) * h);
        if (y1 > y0) {
          ctx.fillStyle = col;
          ctx.fillRect(x, y0, w, y1 - y0);
        }
      }
    };
    const sub = grid.subPerCell;
    for (let i = 0; i < grid.cells; i++) {
      const [x, y] = cellXY(grid, i);
      if (sub === 1) {
        box(i, x, y, s, s);
        continue;
      }
      // 32 subclusters as 8 columns x 4 rows in guest order, as the map draws them (draw.ts).
      for (let k = 0; k < sub; k++) {
        const sx = Math.round(x + ((k % 8) * s) / 8);
        const sy = Math.round(y + (Math.floor(k / 8) * s) / 4);
        const ex = Math.round(x + (((k % 8) + 1) * s) / 8);
        const ey = Math.round(y + ((Math.floor(k / 8) + 1) * s) / 4);
        box(i * sub + k, sx, sy, ex - sx, ey - sy);
      }
    }
    // The current difference: an outline around each cell it touches (at most a screenful).
    if (current >= 0 && current < summary.count) {
      const a = Math.max(grid.start, summary.start[current]!);
      const z = summary.start[current]! + summary.length[current]! - 1;
      const first = cellOfOffset(grid, a);
      const last = Math.min(grid.cells - 1, cellOfOffset(grid, z));
      const w = Math.max(2, Math.min(3, s / 6));
      ctx.strokeStyle = palette.outline;
      ctx.lineWidth = w;
      for (let i = Math.max(0, first); i <= last && i - first < 4096; i++) {
        const [x, y] = cellXY(grid, i);
        ctx.strokeRect(x + w / 2, y + w / 2, Math.max(1, s - w), Math.max(1, s - w));
      }
    }
  }, [grid, bins, fresh, palette, current, summary]);

  const caption = grid
    ? `${rangeLabel(view.start, view.end)} · one cell = ${binarySize(grid.bytesPerCell)}${
        grid.bytesPerCell === cs ? ' (one cluster)' : ` (${grid.bytesPerCell / cs} clusters)`
      }${grid.subPerCell > 1 ? ', 32 subclusters each' : ''}`
    : '';
  return (
    <section className="heatmap diff-heatmap" aria-label="Difference heatmap">
      <p className="heatmap-caption" id="diff-caption">
        {caption}
      </p>
      <div className="heatmap-body" ref={boxRef}>
        {grid && showAxis && <OffsetAxis grid={grid} />}
        <div className="heatmap-canvas-wrap">
          <canvas
            ref={canvasRef}
            data-testid="diff-canvas"
            data-cell-px={grid?.cellPx}
            data-cols={grid?.cols}
            data-bytes-per-cell={grid?.bytesPerCell}
            data-ready={fresh ? 'true' : 'false'}
            data-sub-per-cell={grid?.subPerCell}
            style={{ width: grid?.width ?? 0, height: grid?.height ?? 0 }}
            tabIndex={0}
            role="img"
            aria-roledescription="difference heatmap"
            aria-label="Where A and B agree and differ; click a cell to make its difference current. Wheel or plus and minus zoom, drag or arrow keys pan, 0 shows the whole image."
            aria-describedby="diff-caption"
            onKeyDown={(e) => {
              const g = gridRef.current;
              if (e.ctrlKey || e.metaKey || e.altKey || !g) return;
              const v = store.getState().view;
              if (viewKey(e.key, store, g, (v.start + v.end) / 2)) {
                e.preventDefault();
                // The page's 0 (whole image) and the heatmap's are one action: do it once.
                e.stopPropagation();
              }
            }}
            onClick={(e) => {
              if (!grid) return;
              const r = e.currentTarget.getBoundingClientRect();
              const cell = cellAt(grid, e.clientX - r.left, e.clientY - r.top);
              if (cell >= 0) onPick(cellStart(grid, cell));
            }}
          />
        </div>
      </div>
    </section>
  );
}
