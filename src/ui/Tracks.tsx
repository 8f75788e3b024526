/**
 * Extent tracks: lanes on one linear guest axis (the heatmap's view range), one per chain layer
 * and one per interpretation, like a genome browser. Brushing a range zooms the views to it.
 */
import { useEffect, useRef, useState } from 'react';
import type { TracksResult } from '../worker/client.ts';
import {
  TRACK_ABSENT,
  TRACK_COMPRESSED,
  TRACK_DATA,
  TRACK_DEPTH,
  TRACK_ERROR,
  TRACK_HOLE,
  TRACK_NONE,
  TRACK_ZERO,
} from '../worker/protocol.ts';
import { useApp, useServices } from './appContext.ts';
import { useLaneAxis } from './laneAxis.ts';
import { depthColour, OKABE_ITO, type Palette } from './palette.ts';

const LANE_H = 14;
const LANE_GAP = 6;
const MAX_LABEL_W = 170;
const AXIS_H = 22;
/** Room on the right for the last tick label. */
const AXIS_PAD = 24;

function colourOf(p: Palette, c: number): string | undefined {
  if (c === TRACK_NONE) return undefined;
  if (c >= TRACK_DEPTH) return depthColour(p, c - TRACK_DEPTH);
  return c === TRACK_DATA
    ? p.data
    : c === TRACK_ZERO
      ? p.zero
      : c === TRACK_COMPRESSED
        ? OKABE_ITO.skyBlue
        : c === TRACK_ERROR
          ? p.error
          : c === TRACK_HOLE
            ? p.hole
            : c === TRACK_ABSENT
              ? p.absent
              : undefined;
}

/** Lane labels take at most a third of narrow screens. */
const labelWidth = (w: number) => Math.min(MAX_LABEL_W, Math.floor(w / 3));

export function Tracks({ palette }: { palette: Palette }) {
  const { store, client } = useServices();
  const chain = useApp((s) => s.chain);
  const openId = useApp((s) => s.openId);
  const view = useApp((s) => s.view);
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const brushRef = useRef<SVGGElement>(null);
  const axisRef = useRef<SVGGElement>(null);
  const [width, setWidth] = useState(0);
  const [tracks, setTracks] = useState<TracksResult>();

  const hasChain = chain !== undefined;
  // biome-ignore lint/correctness/useExhaustiveDependencies: observe once the lanes mount
  useEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() =>
      setWidth(Math.max(0, el.clientWidth - labelWidth(el.clientWidth) - AXIS_PAD)),
    );
    ro.observe(el);
    return () => ro.disconnect();
  }, [hasChain]);

  const px = Math.floor(width);
  useEffect(() => {
    if (!chain || px <= 0) return;
    let live = true;
    client.tracks(openId, view.start, view.end, px).then(
      (t) => {
        if (live) setTracks(t);
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [client, chain, openId, view.start, view.end, px]);

  const names = chain
    ? [...chain.layers.map((l) => l.name), 'qemu-img map', 'NBD base:allocation', 'allocation depth']
    : [];
  const height = names.length * (LANE_H + LANE_GAP);

  useEffect(() => {
    const c = canvasRef.current;
    if (!c || !tracks || tracks.px !== px) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = px * dpr;
    c.height = height * dpr;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, px, height);
    for (let l = 0; l < tracks.lanes; l++) {
      const y = l * (LANE_H + LANE_GAP);
      for (let x = 0; x < px; ) {
        const cat = tracks.values[l * px + x]!;
        let e = x + 1;
        while (e < px && tracks.values[l * px + e] === cat) e++;
        const col = colourOf(palette, cat);
        if (col) {
          ctx.fillStyle = col;
          ctx.fillRect(x, y, e - x, LANE_H);
        }
        x = e;
      }
    }
  }, [tracks, px, height, palette]);

  useLaneAxis(brushRef, axisRef, view, px, height, store);

  if (!chain) return null;
  return (
    <section className="tracks" aria-label="Extent tracks">
      <h2>Tracks</h2>
      <div className="tracks-body" ref={boxRef}>
        <ul className="track-labels" style={{ width: labelWidth((px + AXIS_PAD) * 1.5) }}>
          {names.map((n) => (
            <li key={n} style={{ height: LANE_H, marginBottom: LANE_GAP }}>
              {n}
            </li>
          ))}
        </ul>
        <div className="track-plot" style={{ width: px, height: height + AXIS_H }}>
          <canvas ref={canvasRef} data-testid="tracks-canvas" style={{ width: px, height }} />
          <svg width={px} height={height + AXIS_H} aria-hidden="true">
            <g ref={brushRef} />
            <g ref={axisRef} className="axis" transform={`translate(0,${height})`} />
          </svg>
        </div>
      </div>
      <p className="muted">Drag across the lanes to zoom to a range.</p>
    </section>
  );
}
