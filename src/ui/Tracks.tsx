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
import { AXIS_PAD, LanePlot, labelWidth, lanesHeight, paintLanes } from './LanePlot.tsx';
import { useLaneAxis } from './laneAxis.ts';
import { depthColour, OKABE_ITO, type Palette } from './palette.ts';

const MAX_LABEL_W = 170;

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
      setWidth(Math.max(0, el.clientWidth - labelWidth(el.clientWidth, MAX_LABEL_W) - AXIS_PAD)),
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
  const height = lanesHeight(names.length);

  useEffect(() => {
    const c = canvasRef.current;
    if (!c || !tracks || tracks.px !== px) return;
    paintLanes(c, tracks.values, tracks.lanes, px, (_lane, cat) => colourOf(palette, cat));
  }, [tracks, px, palette]);

  useLaneAxis(brushRef, axisRef, view, px, height, store);

  if (!chain) return null;
  return (
    <section className="tracks" aria-label="Extent tracks">
      <h2>Tracks</h2>
      <LanePlot
        boxRef={boxRef}
        canvasRef={canvasRef}
        brushRef={brushRef}
        axisRef={axisRef}
        names={names}
        labelsWidth={labelWidth((px + AXIS_PAD) * 1.5, MAX_LABEL_W)}
        px={px}
        testId="tracks-canvas"
      />
      <p className="muted">Drag across the lanes to zoom to a range.</p>
    </section>
  );
}
