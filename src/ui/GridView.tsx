/**
 * The one heatmap shell (the map's and the diff's): the visible guest range as a grid of cells
 * on a canvas (core/raster/grid.ts). The worker bins the range at the grid's resolution on a
 * channel of its own, so a newer view cancels the older request; the painter (paint.ts) draws
 * whatever the source's look says. d3-zoom turns wheel and drag into zoom and pan of the store's
 * view (useGridZoom.ts); keys move a cell cursor (the map) or the view (the diff); hover asks the
 * source what a cell holds.
 */
import { type ReactNode, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { binarySize, hex } from '../core/format.ts';
import {
  cellAt,
  cellOfOffset,
  cellStart,
  cellXY,
  type Grid,
  layoutGrid,
  offsetAt,
} from '../core/raster/grid.ts';
import { type BinSet, resampleBins } from '../core/raster/resample.ts';
import type { Bins, Hit } from '../protocol/results.ts';
import type { RasterInfo } from '../protocol/source.ts';
import { sourceKey } from '../state/views.ts';
import { AXIS_WIDTH, OffsetAxis } from './Axis.tsx';
import { useApp, useServices } from './appContext.ts';
import { rangeLabel } from './format.ts';
import { type Look, type Marks, paintGrid } from './paint.ts';
import { type CellInfo, Tooltip } from './Tooltip.tsx';
import { useGridZoom } from './useGridZoom.ts';
import { useWidth } from './useWidth.ts';
import { viewKey } from './viewKeys.ts';

export interface GridViewProps {
  readonly source: RasterInfo;
  /** The view key of the source the cells show ('' for the source as opened). */
  readonly view: string;
  /** A persistent bitmap whose classes the bins carry too (an image's dirty and backup layers). */
  readonly bitmap?: string;
  readonly look: Look;
  readonly marks: Omit<Marks, 'selected' | 'cursor'>;
  /** Bins the worker made with the open, used when they match the grid (no round trip). */
  readonly firstBins?: Bins;
  /** Guest offset of the selected cell, outlined. */
  readonly selected?: number;
  /** `cursor`: keys move a cell cursor (Enter picks it); `pan`: keys move the view. */
  readonly keys: 'cursor' | 'pan';
  /** A click or Enter on a cell: its (subcluster's) guest offset. */
  onPick(offset: number): void;
  /** Words for a cell's mix of classes (the tooltip), from its fractions. */
  mixWords(fractions: Float32Array, classes: number, bin: number): string;
  readonly testId: string;
  readonly captionId: string;
  readonly label: string;
  readonly roleDescription: string;
  /** The drawing box, whenever it changes (the page's next open bins its first map for it). */
  onBox?(box: { width: number; maxHeight: number }): void;
  /** A lesson's question is open: the tooltip names the range only, not what the tools say. */
  readonly quiet?: boolean;
  /** Shown on the caption's line, after it (the map's highlight bar). */
  readonly aside?: ReactNode;
}

/** Bin sets kept per source and view to estimate a new view's frame from (a few recent frames and the whole image). */
const BIN_CACHE_SETS = 6;

/** Below this window width the explanation sits under the map (app.css), so the map is kept lower. */
export const NARROW_PX = 1100;

/**
 * The drawing box a heatmap gets: its width less the axis, and at most 55% of the window's
 * height (40% on a narrow screen, where the explanation below it must stay in view too).
 */
export const gridBox = (boxWidth: number) => {
  const showAxis = boxWidth >= 600;
  const share = window.innerWidth < NARROW_PX ? 0.4 : 0.55;
  return {
    showAxis,
    width: boxWidth - (showAxis ? AXIS_WIDTH + 8 : 0),
    maxHeight: Math.max(160, Math.min(520, window.innerHeight * share)),
  };
};

export function GridView(props: GridViewProps) {
  const { source, view: viewKeyOf, look } = props;
  const { store, client } = useServices();
  const view = useApp((s) => s.view);
  const [boxRef, boxWidth] = useWidth<HTMLDivElement>();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [bins, setBins] = useState<Bins & { key: string }>();
  // The hovered cell, and the guest offset under the pointer (a subcluster's, where cells show them).
  const [hover, setHover] = useState<{ cell: number; offset: number; x: number; y: number }>();
  const [cursor, setCursor] = useState<number>();
  const [focused, setFocused] = useState(false);
  const [hit, setHit] = useState<Hit>();
  const { showAxis, width, maxHeight } = gridBox(boxWidth);
  const grid = useMemo<Grid | undefined>(() => {
    if (boxWidth <= 0 || view.end <= view.start) return undefined;
    return layoutGrid({
      width,
      maxHeight,
      start: view.start,
      end: view.end,
      clusterSize: source.clusterSize,
      subclusters: source.subclusters,
    });
  }, [boxWidth, width, maxHeight, view.start, view.end, source.clusterSize, source.subclusters]);
  const gridRef = useRef(grid);
  gridRef.current = grid;
  const { onBox } = props;
  useEffect(() => {
    if (width > 0) onBox?.({ width, maxHeight });
  }, [onBox, width, maxHeight]);
  /** Which source, view and cells the bins are for: stale bins are never drawn. */
  const bitmap = props.bitmap;
  const key = grid
    ? `${sourceKey(source)}|${viewKeyOf}|${bitmap ?? ''}|${grid.start}|${grid.cells * grid.subPerCell}|${grid.bytesPerCell}`
    : '';

  const channel = `bins:${props.testId}`;
  useEffect(() => {
    if (!grid) return;
    const end = grid.start + grid.cells * grid.subPerCell * (grid.bytesPerCell / grid.subPerCell);
    const n = grid.cells * grid.subPerCell;
    const first = props.firstBins;
    if (
      viewKeyOf === '' &&
      bitmap === undefined &&
      first &&
      first.start === grid.start &&
      first.end === end &&
      first.n === n
    ) {
      // The worker binned this map for this grid already: no round trip for the first cells.
      setBins({ ...first, key });
      return;
    }
    client
      .call(
        'bins',
        {
          source: source.id,
          view: viewKeyOf,
          start: grid.start,
          end,
          n,
          ...(bitmap !== undefined && { bitmap }),
        },
        { channel },
      )
      .then(
        (b) => setBins({ ...b, key }),
        () => {},
      );
  }, [client, source.id, viewKeyOf, bitmap, grid, key, props.firstBins, channel]);

  const fresh = bins !== undefined && grid !== undefined && bins.key === key;

  // Bins already drawn for this source and view: until a new view's exact bins arrive, its frame
  // is estimated from them (core/raster/resample.ts), so zoom and pan never wait for the worker.
  const base = `${source.id}|${viewKeyOf}`;
  const cache = useRef<{ base: string; sets: BinSet[] }>({ base, sets: [] });
  if (cache.current.base !== base) cache.current = { base, sets: [] };
  if (fresh && bins && !cache.current.sets.includes(bins)) {
    const sets = cache.current.sets;
    // The widest set (the whole image, as first drawn) stays: it covers every zoom out.
    const widest = sets.reduce<BinSet | undefined>(
      (w, x) => (!w || x.end - x.start > w.end - w.start ? x : w),
      undefined,
    );
    cache.current.sets = [
      bins,
      ...sets.filter((x) => x !== widest).slice(0, BIN_CACHE_SETS - 2),
      ...(widest ? [widest] : []),
    ];
  }
  const selectedCell = grid && props.selected !== undefined ? cellOfOffset(grid, props.selected) : -1;
  const cursorCell = grid && cursor !== undefined && focused ? cellOfOffset(grid, cursor) : -1;

  // Painted in a layout effect: the frame that shows the new view shows its cells too (with a
  // passive effect a zoom step's cells came a frame later: bench/README, interaction latency).
  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !grid) return;
    let fractions: Float32Array;
    let classes: number;
    if (fresh) {
      fractions = bins.fractions;
      classes = bins.classes;
    } else {
      const sets = cache.current.sets;
      if (!sets.length) return;
      classes = sets[0]!.classes;
      const n = grid.cells * grid.subPerCell;
      fractions = resampleBins(
        sets,
        grid.start,
        grid.start + n * (grid.bytesPerCell / grid.subPerCell),
        n,
        classes,
      );
    }
    const dpr = window.devicePixelRatio || 1;
    // Resizing a canvas reallocates its backing store: only when the size changed.
    const w = Math.round(grid.width * dpr);
    const h = Math.round(grid.height * dpr);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    paintGrid(ctx, grid, fractions, classes, look, {
      ...props.marks,
      selected: selectedCell,
      cursor: cursorCell,
    });
    // What the canvas shows: an estimate from bins already drawn, or the source's exact bins.
    canvas.dataset.frame = fresh ? 'exact' : 'estimate';
  }, [grid, bins, fresh, look, props.marks, selectedCell, cursorCell]);

  // What the hovered offset (or the keyboard's cell) holds, from the source.
  const probe = hover ? hover.offset : grid && cursorCell >= 0 ? cellStart(grid, cursorCell) : -1;
  useEffect(() => {
    if (probe < 0) return;
    client
      .call('hit', { source: source.id, view: viewKeyOf, offset: probe }, { channel: `hit:${props.testId}` })
      .then(
        (d) => setHit(d ?? undefined),
        () => {},
      );
  }, [client, source.id, viewKeyOf, probe, props.testId]);

  // Wheel and drag zoom and pan the view (useGridZoom.ts).
  useGridZoom(canvasRef, gridRef, store, true);

  const onKey = (e: React.KeyboardEvent) => {
    const g = gridRef.current;
    if (!g || e.ctrlKey || e.metaKey || e.altKey) return;
    const s = store.getState();
    const cur = cursor ?? g.start;
    let done = true;
    if (props.keys === 'pan') done = viewKey(e.key, store, g, (s.view.start + s.view.end) / 2);
    else {
      const move = (cells: number) => {
        const next = Math.min(source.length - 1, Math.max(0, cur + cells * g.bytesPerCell));
        setCursor(next);
        const v = s.view;
        if (next < v.start) s.pan(next - v.start - (next % g.bytesPerCell));
        else if (next >= g.start + g.cells * g.bytesPerCell || next >= v.end)
          s.pan(next - v.end + g.bytesPerCell);
      };
      const arrows: Record<string, number> = {
        ArrowLeft: -1,
        ArrowRight: 1,
        ArrowUp: -g.cols,
        ArrowDown: g.cols,
      };
      if (e.key in arrows) move(arrows[e.key]!);
      else if (e.key === 'Home') {
        setCursor(0);
        s.pan(-s.view.start);
      } else if (e.key === 'Enter' || e.key === ' ') props.onPick(cur - (cur % source.clusterSize));
      else if (e.key === 'Escape') s.select(undefined);
      else done = viewKey(e.key, store, g, cur);
    }
    if (done) {
      e.preventDefault();
      // The page's own keys (the diff view's 0) are the same action: do it once.
      e.stopPropagation();
    }
  };

  const cellInfo = (i: number, offset?: number): CellInfo | undefined => {
    if (!grid || i < 0) return undefined;
    const sub = grid.subPerCell;
    if (sub > 1 && offset !== undefined) {
      // A hovered subcluster: its own range.
      return {
        start: offset,
        end: Math.min(source.length, offset + grid.bytesPerCell / sub),
        clusters: 1,
        mix: '',
      };
    }
    const start = cellStart(grid, i);
    const end = Math.min(source.length, start + grid.bytesPerCell);
    return {
      start,
      end,
      clusters: Math.ceil((end - start) / source.clusterSize),
      mix: fresh && sub === 1 && !props.quiet ? props.mixWords(bins.fractions, bins.classes, i) : '',
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
    if (left + tipXY[0] + tipWidth > window.innerWidth - 8)
      tipXY = [Math.max(-left + 4, window.innerWidth - 8 - tipWidth - left), tipXY[1]];
  }
  const cs = source.clusterSize;
  // What a screen reader says as the keyboard cursor moves: the cell's range, then what it holds.
  const cursorInfo = cellInfo(cursorCell);
  const announce =
    cursorInfo && focused
      ? `${rangeLabel(cursorInfo.start, cursorInfo.end)}${cursorInfo.mix ? `: ${cursorInfo.mix}` : ''}${
          hit && !props.quiet && hit.offset >= cursorInfo.start && hit.offset < cursorInfo.end
            ? `. ${hit.summary}`
            : ''
        }`
      : '';
  const caption = grid
    ? `${rangeLabel(view.start, view.end)} · one cell = ${binarySize(grid.bytesPerCell)}${
        grid.bytesPerCell === cs ? ' (one cluster)' : ` (${grid.bytesPerCell / cs} clusters)`
      }${grid.subPerCell > 1 ? ', 32 subclusters each' : ''}`
    : '';
  const pointAt = (e: React.MouseEvent<HTMLCanvasElement>): [number, number] => {
    const r = e.currentTarget.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  return (
    <section className="heatmap" aria-label={props.label}>
      <div className="heatmap-head">
        <p className="heatmap-caption" id={props.captionId}>
          {caption}
        </p>
        {props.aside}
      </div>
      <div className="heatmap-body" ref={boxRef}>
        {grid && showAxis && <OffsetAxis grid={grid} />}
        <div className="heatmap-canvas-wrap">
          <canvas
            ref={canvasRef}
            data-testid={props.testId}
            data-cell-px={grid?.cellPx}
            data-cols={grid?.cols}
            data-bytes-per-cell={grid?.bytesPerCell}
            data-sub-per-cell={grid?.subPerCell}
            data-ready={fresh ? 'true' : 'false'}
            data-open-id={source.id}
            data-selected={props.selected !== undefined ? hex(props.selected) : undefined}
            style={{ width: grid?.width ?? 0, height: grid?.height ?? 0 }}
            tabIndex={0}
            role="img"
            aria-roledescription={props.roleDescription}
            aria-label={
              props.keys === 'cursor'
                ? `${props.label}. Arrow keys move between cells, Enter selects, plus and minus zoom, 0 resets, Page Up and Page Down scroll.`
                : `${props.label}: click a cell to make its difference current. Wheel or plus and minus zoom, drag or arrow keys pan, 0 shows the whole image.`
            }
            aria-describedby={props.captionId}
            onKeyDown={onKey}
            onFocus={() => {
              setFocused(true);
              if (cursor === undefined && grid) setCursor(grid.start);
            }}
            onBlur={() => setFocused(false)}
            onPointerMove={(e) => {
              if (!grid) return;
              const [x, y] = pointAt(e);
              const cell = cellAt(grid, x, y);
              setHover(cell < 0 ? undefined : { cell, offset: offsetAt(grid, x, y), x, y });
            }}
            onPointerLeave={() => setHover(undefined)}
            onClick={(e) => {
              if (!grid) return;
              const offset = offsetAt(grid, ...pointAt(e));
              if (offset < 0) return;
              setCursor(offset);
              props.onPick(offset);
            }}
          />
          <p className="sr-only" aria-live="polite" data-testid={`${props.testId}-announce`}>
            {announce}
          </p>
          {info && tipXY && (
            <Tooltip cell={info} detail={props.quiet ? undefined : hit} x={tipXY[0]} y={tipXY[1]} />
          )}
        </div>
      </div>
    </section>
  );
}
