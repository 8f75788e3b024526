/**
 * The heatmap in diff mode: the same grid as the map (grid.ts), each cell coloured by where A
 * and B agree and by each kind of disagreement. A cell holding any difference shows it, however
 * small its share (a differing cluster in a 1 TiB cell still shows); large cells band the kinds
 * in proportion, and a one-cluster cell of an image with subclusters (extended L2) is an 8x4
 * grid of them, as on the map. The current difference is outlined. The worker bins; this only
 * paints. Wheel, drag (useGridZoom.ts) and keys (viewKeys.ts) zoom and pan as on the map.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { binarySize } from '../../core/format.ts';
import { cellAt, cellStart, type Grid, layoutGrid } from '../../state/grid.ts';
import type { DiffSummary } from '../../worker/diffProtocol.ts';
import { AXIS_WIDTH, OffsetAxis } from '../Axis.tsx';
import { useApp, useServices } from '../appContext.ts';
import { rangeLabel } from '../format.ts';
import { useGridZoom } from '../useGridZoom.ts';
import { viewKey } from '../viewKeys.ts';
import { drawDiff } from './diffDraw.ts';
import type { DiffPalette } from './diffPalette.ts';
import { useDiffClient } from './useDiff.ts';

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
    // Resizing a canvas reallocates its backing store: only when the size changed.
    const w = Math.round(grid.width * dpr);
    const h = Math.round(grid.height * dpr);
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const cur =
      current >= 0 && current < summary.count
        ? { start: summary.start[current]!, end: summary.start[current]! + summary.length[current]! }
        : undefined;
    drawDiff(ctx, { grid, fractions: bins.f, classes: bins.classes, palette, current: cur });
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
