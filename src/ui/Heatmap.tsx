/**
 * The cluster heatmap: the visible guest range as a grid of cells on a canvas. The worker bins
 * the range at the grid's resolution; zooming or panning asks again. d3-zoom turns wheel and
 * drag into zoom and pan of the store's view range; the keyboard moves a cursor cell.
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { binarySize } from '../core/format.ts';
import { cellAt, cellOfOffset, cellStart, cellXY, type Grid, layoutGrid, offsetAt } from '../state/grid.ts';
import type { BinsResult } from '../worker/client.ts';
import type { HitDetail } from '../worker/protocol.ts';
import { AXIS_WIDTH, OffsetAxis } from './Axis.tsx';
import { useApp, useServices } from './appContext.ts';
import { cellMix } from './cellMix.ts';
import { drawHeatmap } from './draw.ts';
import { rangeLabel } from './format.ts';
import { PALETTES, type ResolvedTheme } from './palette.ts';
import { type CellInfo, Tooltip } from './Tooltip.tsx';
import { useGridZoom } from './useGridZoom.ts';

/** Width of an element that may mount later (`mounted` re-runs the observer). */
function useWidth<T extends HTMLElement>(mounted: boolean): [React.RefObject<T | null>, number] {
  const ref = useRef<T>(null);
  const [w, setW] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-observe once the element mounts
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setW(el.clientWidth));
    ro.observe(el);
    setW(el.clientWidth);
    return () => ro.disconnect();
  }, [mounted]);
  return [ref, w];
}

export function Heatmap({ theme }: { theme: ResolvedTheme }) {
  const { store, client } = useServices();
  const chain = useApp((s) => s.chain);
  const openId = useApp((s) => s.openId);
  const view = useApp((s) => s.view);
  const layers = useApp((s) => s.layers);
  const selection = useApp((s) => s.selection);
  const [boxRef, boxWidth] = useWidth<HTMLDivElement>(chain !== undefined);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [bins, setBins] = useState<BinsResult & { openId: number }>();
  // The hovered cell, and the guest offset under the pointer (a subcluster's, where cells show them).
  const [hover, setHover] = useState<{ cell: number; offset: number; x: number; y: number }>();
  const [cursor, setCursor] = useState<number>();
  const [focused, setFocused] = useState(false);
  const [hit, setHit] = useState<HitDetail>();

  const showAxis = boxWidth >= 600;
  const top = chain?.layers[0];
  // The drawing area: the worker bins the next image's first map for it (ChainInfo.firstBins).
  const width = boxWidth - (showAxis ? AXIS_WIDTH + 8 : 0);
  const maxHeight = Math.max(160, Math.min(520, window.innerHeight * 0.55));
  useEffect(() => {
    client.gridBox = width > 0 ? { width, maxHeight } : undefined;
  }, [client, width, maxHeight]);
  const grid = useMemo<Grid | undefined>(() => {
    if (!chain || boxWidth <= 0) return undefined;
    return layoutGrid({
      width,
      maxHeight,
      start: view.start,
      end: view.end,
      clusterSize: chain.clusterSize,
      subclusters: top?.extendedL2 === true,
    });
  }, [chain, boxWidth, width, maxHeight, view.start, view.end, top]);
  const gridRef = useRef(grid);
  gridRef.current = grid;

  // Ask the worker for this grid's bins; only the newest answer is kept.
  const binsSeq = useRef(0);
  useEffect(() => {
    if (!grid || !chain) return;
    const seq = ++binsSeq.current;
    const end = grid.start + grid.cells * grid.bytesPerCell;
    const n = grid.cells * grid.subPerCell;
    const first = chain.firstBins;
    if (first && first.start === grid.start && first.end === end && first.bins === n) {
      // The worker binned this map for this grid already: no round trip for the first cells.
      setBins({ ...first, openId });
      return;
    }
    client.bins(openId, grid.start, end, n).then(
      (b) => {
        if (seq === binsSeq.current) setBins({ ...b, openId });
      },
      () => {},
    );
  }, [client, openId, chain, grid]);

  const fresh =
    bins &&
    grid &&
    bins.openId === openId &&
    bins.start === grid.start &&
    bins.bins === grid.cells * grid.subPerCell;
  const palette = PALETTES[theme];
  const selectedCell = grid && selection !== undefined ? cellOfOffset(grid, selection) : -1;
  const cursorCell = grid && cursor !== undefined && focused ? cellOfOffset(grid, cursor) : -1;

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !grid || !fresh || !chain) return;
    const dpr = window.devicePixelRatio || 1;
    // Resizing a canvas reallocates its backing store: only when the size changed.
    const w = Math.round(grid.width * dpr);
    const h = Math.round(grid.height * dpr);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawHeatmap(ctx, {
      grid,
      fractions: bins.fractions,
      classes: bins.classes,
      layers,
      palette,
      layerCount: chain.layers.length,
      cursor: cursorCell,
      selected: selectedCell,
    });
  }, [grid, bins, fresh, layers, palette, chain, cursorCell, selectedCell]);

  // Hit-test the hovered offset (or the keyboard's cell) in the worker.
  const probe = hover ? hover.offset : grid && cursorCell >= 0 ? cellStart(grid, cursorCell) : -1;
  const hitSeq = useRef(0);
  useEffect(() => {
    if (!grid || probe < 0) return;
    const seq = ++hitSeq.current;
    client.hit(openId, probe).then(
      (d) => {
        if (seq === hitSeq.current) setHit(d);
      },
      () => {},
    );
  }, [client, openId, grid, probe]);

  // Wheel and drag zoom and pan the view (useGridZoom.ts).
  useGridZoom(canvasRef, gridRef, store, chain !== undefined);

  const onKey = useCallback(
    (e: React.KeyboardEvent) => {
      const g = gridRef.current;
      if (!g || !chain) return;
      const s = store.getState();
      const cur = cursor ?? g.start;
      const move = (cells: number) => {
        const next = Math.min(chain.length - 1, Math.max(0, cur + cells * g.bytesPerCell));
        setCursor(next);
        const v = s.view;
        if (next < v.start) s.pan(next - v.start - (next % g.bytesPerCell));
        else if (next >= g.start + g.cells * g.bytesPerCell || next >= v.end)
          s.pan(next - v.end + g.bytesPerCell);
      };
      const act = (): boolean => {
        switch (e.key) {
          case 'ArrowLeft':
            move(-1);
            return true;
          case 'ArrowRight':
            move(1);
            return true;
          case 'ArrowUp':
            move(-g.cols);
            return true;
          case 'ArrowDown':
            move(g.cols);
            return true;
          case 'PageUp':
            s.pan(-(s.view.end - s.view.start));
            return true;
          case 'PageDown':
            s.pan(s.view.end - s.view.start);
            return true;
          case 'Home':
            setCursor(0);
            s.pan(-s.view.start);
            return true;
          case '+':
          case '=':
            s.zoom(2, cur);
            return true;
          case '-':
            s.zoom(0.5, cur);
            return true;
          case '0':
            s.resetView();
            return true;
          case 'Enter':
          case ' ':
            s.select(cur - (cur % chain.clusterSize));
            return true;
          case 'Escape':
            s.select(undefined);
            return true;
          default:
            return false;
        }
      };
      if (act()) e.preventDefault();
    },
    [chain, cursor, store],
  );

  if (!chain) return null;
  const cellInfo = (i: number, offset?: number): CellInfo | undefined => {
    if (!grid || i < 0) return undefined;
    const sub = grid.subPerCell;
    if (sub > 1 && offset !== undefined) {
      // A hovered subcluster: its own range.
      const end = Math.min(chain.length, offset + grid.bytesPerCell / sub);
      return { start: offset, end, clusters: 1, mix: '' };
    }
    const start = cellStart(grid, i);
    const end = Math.min(chain.length, start + grid.bytesPerCell);
    return {
      start,
      end,
      clusters: Math.ceil((end - start) / chain.clusterSize),
      mix: fresh && sub === 1 ? cellMix(bins.fractions, bins.classes, i, chain.layers) : '',
    };
  };
  const tipCell = hover ? hover.cell : cursorCell;
  const info = cellInfo(tipCell, hover?.offset);
  let tipXY: [number, number] | undefined;
  if (hover) tipXY = [hover.x + 14, hover.y + 14];
  else if (grid && cursorCell >= 0) {
    const [cx, cy] = cellXY(grid, cursorCell);
    tipXY = [cx + grid.cellPx + 6, cy + grid.cellPx + 6];
  }
  if (tipXY && canvasRef.current) {
    // Keep the tooltip on screen: flip it left of the pointer near the right edge.
    const left = canvasRef.current.getBoundingClientRect().left;
    const tipWidth = Math.min(432, window.innerWidth * 0.86);
    if (left + tipXY[0] + tipWidth > window.innerWidth - 8) {
      tipXY = [Math.max(-left + 4, window.innerWidth - 8 - tipWidth - left), tipXY[1]];
    }
  }
  const caption = grid
    ? `${rangeLabel(view.start, view.end)} · one cell = ${binarySize(grid.bytesPerCell)}${
        grid.bytesPerCell === chain.clusterSize
          ? ' (one cluster)'
          : ` (${grid.bytesPerCell / chain.clusterSize} clusters)`
      }${grid.subPerCell > 1 ? ', 32 subclusters each' : ''}`
    : '';

  return (
    <section className="heatmap" aria-label="Cluster heatmap">
      <p className="heatmap-caption" id="heatmap-caption">
        {caption}
      </p>
      <div className="heatmap-body" ref={boxRef}>
        {grid && showAxis && <OffsetAxis grid={grid} />}
        <div className="heatmap-canvas-wrap">
          <canvas
            ref={canvasRef}
            data-testid="heatmap-canvas"
            data-cell-px={grid?.cellPx}
            data-cols={grid?.cols}
            data-bytes-per-cell={grid?.bytesPerCell}
            data-ready={fresh ? 'true' : 'false'}
            data-open-id={openId}
            style={{ width: grid?.width ?? 0, height: grid?.height ?? 0 }}
            tabIndex={0}
            aria-roledescription="cluster heatmap"
            aria-label="Cluster heatmap. Arrow keys move between cells, Enter selects, plus and minus zoom, 0 resets, Page Up and Page Down scroll."
            aria-describedby="heatmap-caption"
            onKeyDown={onKey}
            onFocus={() => {
              setFocused(true);
              if (cursor === undefined && grid) setCursor(grid.start);
            }}
            onBlur={() => setFocused(false)}
            onPointerMove={(e) => {
              if (!grid) return;
              const r = e.currentTarget.getBoundingClientRect();
              const [x, y] = [e.clientX - r.left, e.clientY - r.top];
              const cell = cellAt(grid, x, y);
              setHover(cell < 0 ? undefined : { cell, offset: offsetAt(grid, x, y), x, y });
            }}
            onPointerLeave={() => setHover(undefined)}
            onClick={(e) => {
              if (!grid) return;
              const r = e.currentTarget.getBoundingClientRect();
              const offset = offsetAt(grid, e.clientX - r.left, e.clientY - r.top);
              if (offset < 0) return;
              setCursor(offset);
              store.getState().select(offset);
            }}
          />
          {info && tipXY && <Tooltip cell={info} detail={hit} x={tipXY[0]} y={tipXY[1]} />}
        </div>
      </div>
    </section>
  );
}
