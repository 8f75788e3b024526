/**
 * Lanes A, B and the difference on one guest axis (the view range), like the map's tracks:
 * each side's value per pixel column in its own legend's colours, and the difference lane in
 * the heatmap's kind colours. Drag across the lanes to zoom to a range.
 */
import { useEffect, useRef, useState } from 'react';
import { type DiffSummary, LANE_AGREE, LANE_NONE, LANE_OTHER } from '../../worker/diffProtocol.ts';
import { useApp, useServices } from '../appContext.ts';
import { AXIS_PAD, LanePlot, labelWidth, lanesHeight, paintLanes } from '../LanePlot.tsx';
import { useLaneAxis } from '../laneAxis.ts';
import { twoFiles } from './DiffLegend.tsx';
import { type DiffPalette, kindColour, valueColour } from './diffPalette.ts';
import { useDiffClient } from './useDiff.ts';

const MAX_LABEL_W = 190;

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
  const lw = labelWidth(box, MAX_LABEL_W);
  const px = Math.max(0, Math.floor(box - lw - AXIS_PAD));
  const height = lanesHeight(3);

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
    paintLanes(c, lanes.values, 3, px, (lane, v) => {
      if (v === LANE_NONE) return undefined;
      if (lane === 2) return v === LANE_AGREE ? palette.agree : kindColour(palette, v);
      return v === LANE_OTHER ? palette.agree : valueColour(palette, v);
    });
  }, [lanes, px, palette, diffId]);

  useLaneAxis(brushRef, axisRef, view, px, height, store);

  const files = twoFiles(summary);
  const side = (tag: string, s: DiffSummary['a']) =>
    `${tag}${files ? ` (${s.file})` : ''}: ${s.title}${s.view ? ` @ ${s.view}` : ''}`;
  const names = [side('A', summary.a), side('B', summary.b), 'Difference'];
  return (
    <section className="tracks diff-lanes" aria-label="Difference lanes">
      <h2>Lanes</h2>
      <LanePlot
        boxRef={boxRef}
        canvasRef={canvasRef}
        brushRef={brushRef}
        axisRef={axisRef}
        names={names}
        labelsWidth={lw}
        px={px}
        testId="diff-lanes-canvas"
        titles
      />
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
