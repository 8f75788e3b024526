/**
 * Lanes A, B and the difference on one guest axis (the view range), like the map's tracks:
 * each side's value per pixel column in its own legend's colours, and the difference lane in
 * the heatmap's kind colours. Drag across the lanes to zoom to a range.
 */
import { useEffect, useRef, useState } from 'react';
import { type DiffSummary, LANE_AGREE, LANE_NONE, LANE_OTHER } from '../../worker/diffProtocol.ts';
import { useApp, useServices } from '../appContext.ts';
import { useLaneAxis } from '../laneAxis.ts';
import { twoFiles } from './DiffLegend.tsx';
import { type DiffPalette, kindColour, valueColour } from './diffPalette.ts';
import { useDiffClient } from './useDiff.ts';

const LANE_H = 14;
const LANE_GAP = 6;
const AXIS_H = 22;
const AXIS_PAD = 24;
const labelWidth = (w: number) => Math.min(190, Math.floor(w / 3));

export function DiffLanes({
  diffId,
  summary,
  palette,
}: {
  diffId: number;
  summary: DiffSummary;
  palette: DiffPalette;
}) {
  const dc = useDiffClient();
  const { store } = useServices();
  const view = useApp((s) => s.view);
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const brushRef = useRef<SVGGElement>(null);
  const axisRef = useRef<SVGGElement>(null);
  const [box, setBox] = useState(0);
  const [lanes, setLanes] = useState<{ diffId: number; px: number; values: Uint8Array }>();

  useEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setBox(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const lw = labelWidth(box);
  const px = Math.max(0, Math.floor(box - lw - AXIS_PAD));
  const height = 3 * (LANE_H + LANE_GAP);

  useEffect(() => {
    if (px <= 0) return;
    let live = true;
    dc.lanes(diffId, view.start, view.end, px).then(
      (l) => {
        if (live) setLanes({ diffId, px: l.px, values: l.values });
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [dc, diffId, view.start, view.end, px]);

  useEffect(() => {
    const c = canvasRef.current;
    if (!c || !lanes || lanes.px !== px || lanes.diffId !== diffId) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = px * dpr;
    c.height = height * dpr;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, px, height);
    const colour = (lane: number, v: number): string | undefined => {
      if (v === LANE_NONE) return undefined;
      if (lane === 2) return v === LANE_AGREE ? palette.agree : kindColour(palette, v);
      return v === LANE_OTHER ? palette.agree : valueColour(palette, v);
    };
    for (let l = 0; l < 3; l++) {
      const y = l * (LANE_H + LANE_GAP);
      for (let x = 0; x < px; ) {
        const v = lanes.values[l * px + x]!;
        let e = x + 1;
        while (e < px && lanes.values[l * px + e] === v) e++;
        const col = colour(l, v);
        if (col) {
          ctx.fillStyle = col;
          ctx.fillRect(x, y, e - x, LANE_H);
        }
        x = e;
      }
    }
  }, [lanes, px, height, palette, diffId]);

  useLaneAxis(brushRef, axisRef, view, px, height, store);

  const files = twoFiles(summary);
  const side = (tag: string, s: DiffSummary['a']) =>
    `${tag}${files ? ` (${s.file})` : ''}: ${s.title}${s.view ? ` @ ${s.view}` : ''}`;
  const names = [side('A', summary.a), side('B', summary.b), 'Difference'];
  return (
    <section className="tracks diff-lanes" aria-label="Difference lanes">
      <h2>Lanes</h2>
      <div className="tracks-body" ref={boxRef}>
        <ul className="track-labels" style={{ width: lw }}>
          {names.map((n) => (
            <li key={n} title={n} style={{ height: LANE_H, marginBottom: LANE_GAP }}>
              {n}
            </li>
          ))}
        </ul>
        <div className="track-plot" style={{ width: px, height: height + AXIS_H }}>
          <canvas ref={canvasRef} data-testid="diff-lanes-canvas" style={{ width: px, height }} />
          <svg width={px} height={height + AXIS_H} aria-hidden="true">
            <g ref={brushRef} />
            <g ref={axisRef} className="axis" transform={`translate(0,${height})`} />
          </svg>
        </div>
      </div>
      <ul className="diff-value-legend" aria-label="Lane colours">
        {[summary.a, summary.b].map((s, si) => (
          <li key={si === 0 ? 'a' : 'b'}>
            <strong>{si === 0 ? 'A' : 'B'}:</strong>{' '}
            {s.legend.map((l, i) => (
              <span key={l.value} className="diff-value">
                <span className="swatch" style={{ background: valueColour(palette, i) }} aria-hidden="true" />
                {l.label}
              </span>
            ))}
          </li>
        ))}
      </ul>
    </section>
  );
}
