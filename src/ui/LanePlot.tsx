/**
 * What the extent tracks (Tracks.tsx) and the diff lanes (diff/DiffLanes.tsx) share: lane
 * geometry, the labelled plot (lane names, a canvas of lanes, the brush and axis of
 * laneAxis.ts) and painting lanes of one value per pixel column as runs.
 */
import type { RefObject } from 'react';

export const LANE_H = 14;
export const LANE_GAP = 6;
export const AXIS_H = 22;
/** Room right of the plot for the axis's last label. */
export const AXIS_PAD = 24;

/** Lane labels take at most a third of narrow screens, and at most `max` px. */
export const labelWidth = (w: number, max: number) => Math.min(max, Math.floor(w / 3));

/** Height of `lanes` lanes. */
export const lanesHeight = (lanes: number) => lanes * (LANE_H + LANE_GAP);

/**
 * Paints `lanes` lanes of `px` columns from `values` (lane after lane), each run of one value
 * one rectangle in `colourOf(lane, value)` (undefined: left clear).
 */
export function paintLanes(
  canvas: HTMLCanvasElement,
  values: Uint8Array,
  lanes: number,
  px: number,
  colourOf: (lane: number, value: number) => string | undefined,
): void {
  const height = lanesHeight(lanes);
  const dpr = window.devicePixelRatio || 1;
  canvas.width = px * dpr;
  canvas.height = height * dpr;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, px, height);
  for (let l = 0; l < lanes; l++) {
    const y = l * (LANE_H + LANE_GAP);
    for (let x = 0; x < px; ) {
      const v = values[l * px + x]!;
      let e = x + 1;
      while (e < px && values[l * px + e] === v) e++;
      const col = colourOf(l, v);
      if (col) {
        ctx.fillStyle = col;
        ctx.fillRect(x, y, e - x, LANE_H);
      }
      x = e;
    }
  }
}

/** Lane names beside a canvas of lanes, with the brush and axis drawn into the SVG groups. */
export function LanePlot(props: {
  readonly boxRef: RefObject<HTMLDivElement | null>;
  readonly canvasRef: RefObject<HTMLCanvasElement | null>;
  readonly brushRef: RefObject<SVGGElement | null>;
  readonly axisRef: RefObject<SVGGElement | null>;
  readonly names: readonly string[];
  readonly labelsWidth: number;
  readonly px: number;
  readonly testId: string;
  /** Show each name as a tooltip too (long names are cut). */
  readonly titles?: boolean;
}) {
  const height = lanesHeight(props.names.length);
  return (
    <div className="tracks-body" ref={props.boxRef}>
      <ul className="track-labels" style={{ width: props.labelsWidth }}>
        {props.names.map((n) => (
          <li key={n} {...(props.titles && { title: n })} style={{ height: LANE_H, marginBottom: LANE_GAP }}>
            {n}
          </li>
        ))}
      </ul>
      <div className="track-plot" style={{ width: props.px, height: height + AXIS_H }}>
        <canvas ref={props.canvasRef} data-testid={props.testId} style={{ width: props.px, height }} />
        <svg width={props.px} height={height + AXIS_H} aria-hidden="true">
          <g ref={props.brushRef} />
          <g ref={props.axisRef} className="axis" transform={`translate(0,${height})`} />
        </svg>
      </div>
    </div>
  );
}
