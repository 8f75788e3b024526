/**
 * Lanes on one linear guest axis (the view range), like a genome browser: one per chain layer and
 * per interpretation on the map, A / B / the difference in the diff view. The source bins each
 * lane at the plot's pixel width (the one raster); a pixel shows what its bytes hold by the one
 * rule (paint.ts), so a few scattered writes in a 100 GiB lane still show. Dragging across the
 * lanes zooms the views to the brushed range.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Lanes as LanesResult } from '../protocol/results.ts';
import type { RasterInfo } from '../protocol/source.ts';
import { pacedSourceKey } from '../state/views.ts';
import { useApp, useServices } from './appContext.ts';
import { useLaneAxis } from './laneAxis.ts';
import { LANE_GAP, LANE_H, type Look, lanesHeight, paintLanes } from './paint.ts';

export const AXIS_H = 22;
/** Room right of the plot for the axis's last label. */
export const AXIS_PAD = 24;
/** One key's zoom factor and pan step (a share of the view), as the heatmap's keys. */
const LANE_KEY_ZOOM = 2;
const LANE_KEY_PAN = 1 / 8;
/** Lane labels take at most a third of narrow screens, and at most `max` px. */
const labelWidth = (w: number, max: number) => Math.min(max, Math.floor(w / 3));

export interface LanesProps {
  readonly source: RasterInfo;
  readonly view: string;
  readonly lookOf: (lane: number) => Look;
  readonly testId: string;
  readonly maxLabel: number;
  /** Marked on the lanes: a highlighted range (a band), the selected offset (a line). */
  readonly marks?: {
    readonly range?: { readonly start: number; readonly end: number };
    readonly at?: number;
  };
  /** A click on lane `lane` at guest `offset` (no drag). */
  readonly onPick?: (lane: number, offset: number) => void;
}

export function Lanes({ source, view: viewKey, lookOf, testId, maxLabel, marks, onPick }: LanesProps) {
  const { store, client } = useServices();
  const view = useApp((s) => s.view);
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const brushRef = useRef<SVGGElement>(null);
  const axisRef = useRef<SVGGElement>(null);
  const [box, setBox] = useState(0);
  const [lanes, setLanes] = useState<LanesResult & { key: string }>();
  useEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setBox(el.clientWidth));
    ro.observe(el);
    setBox(el.clientWidth);
    return () => ro.disconnect();
  }, []);
  const lw = labelWidth(box, maxLabel);
  const px = Math.max(0, Math.floor(box - lw - AXIS_PAD));
  const names = source.lanes;
  const height = lanesHeight(names.length);
  const key = `${pacedSourceKey(source)}|${viewKey}|${view.start}|${view.end}|${px}`;

  useEffect(() => {
    if (px <= 0) return;
    client
      .call(
        'lanes',
        { source: source.id, view: viewKey, start: view.start, end: view.end, px },
        { channel: `lanes:${testId}` },
      )
      .then(
        (l) => setLanes({ ...l, key }),
        () => {},
      );
  }, [client, source.id, viewKey, view.start, view.end, px, key, testId]);

  useEffect(() => {
    const c = canvasRef.current;
    if (!c || !lanes || lanes.key !== key) return;
    paintLanes(c, lanes.fractions, lanes.lanes, lanes.px, lanes.classes, lookOf);
  }, [lanes, key, lookOf]);

  const onClick = useCallback(
    (offset: number, y: number) => {
      const lane = Math.floor(y / (LANE_H + LANE_GAP));
      if (onPick && lane >= 0 && lane < names.length) onPick(lane, offset);
    },
    [onPick, names.length],
  );
  useLaneAxis(brushRef, axisRef, view, px, height, store, onPick && onClick);
  const len = view.end - view.start;
  const xOf = (o: number) =>
    len > 0 ? ((Math.min(Math.max(o, view.start), view.end) - view.start) / len) * px : 0;
  const band =
    marks?.range && marks.range.end > view.start && marks.range.start < view.end ? marks.range : undefined;
  const line =
    marks?.at !== undefined && marks.at >= view.start && marks.at < view.end ? marks.at : undefined;

  return (
    <div className="tracks-body" ref={boxRef}>
      <ul className="track-labels" style={{ width: lw }}>
        {names.map((n) => (
          <li
            key={n.name}
            title={n.note ? `${n.name}: ${n.note}` : n.name}
            style={{ height: LANE_H, marginBottom: LANE_GAP }}
          >
            {n.name}
            {n.note && <span className="lane-note"> ({n.noteTag ?? 'not in the map'})</span>}
          </li>
        ))}
      </ul>
      <div
        className="track-plot"
        style={{ width: px, height: height + AXIS_H }}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the plot zooms and pans from the keyboard as by dragging, like the heatmap's canvas
        tabIndex={0}
        role="img"
        data-testid={`${testId}-plot`}
        aria-label={`Lanes on the guest axis: ${names.map((n) => n.name).join(', ')}. Plus and minus zoom, arrow keys pan, 0 shows the whole image; drag to zoom to a range${onPick ? ', click to highlight the stretch under the pointer' : ''}.`}
        onKeyDown={(e) => {
          if (e.ctrlKey || e.metaKey || e.altKey) return;
          const s = store.getState();
          const len = s.view.end - s.view.start;
          const mid = (s.view.start + s.view.end) / 2;
          switch (e.key) {
            case '+':
            case '=':
              s.zoom(LANE_KEY_ZOOM, mid);
              break;
            case '-':
              s.zoom(1 / LANE_KEY_ZOOM, mid);
              break;
            case 'ArrowLeft':
              s.pan(-len * LANE_KEY_PAN);
              break;
            case 'ArrowRight':
              s.pan(len * LANE_KEY_PAN);
              break;
            case 'Home':
              s.pan(-s.view.start);
              break;
            case '0':
              s.resetView();
              break;
            default:
              return;
          }
          e.preventDefault();
          e.stopPropagation();
        }}
      >
        <canvas
          ref={canvasRef}
          data-testid={testId}
          data-ready={lanes?.key === key ? 'true' : 'false'}
          style={{ width: px, height }}
        />
        <svg width={px} height={height + AXIS_H} aria-hidden="true">
          {band && (
            <rect
              className="lane-band"
              data-testid={`${testId}-band`}
              x={xOf(band.start)}
              y={0.5}
              width={Math.max(2, xOf(band.end) - xOf(band.start))}
              height={height - 1}
            />
          )}
          {line !== undefined && (
            <line className="lane-at" x1={xOf(line) + 0.5} x2={xOf(line) + 0.5} y1={0} y2={height} />
          )}
          <g ref={brushRef} />
          <g ref={axisRef} className="axis" transform={`translate(0,${height})`} />
        </svg>
      </div>
    </div>
  );
}
