/**
 * The host-file map: the top file's host clusters in file order, coloured by what they hold
 * (header, L1, L2, refcounts, snapshots, bitmaps, data), leaked and doubly referenced clusters
 * drawn over the rest. The worker bins them at the canvas's width (the one raster); a pixel
 * shows its clusters by the one rule, so a metadata cluster among data shows.
 */
import { useEffect, useRef, useState } from 'react';
import { binarySize } from '../core/format.ts';
import type { HostMapBins } from '../protocol/results.ts';
import { useServices } from './appContext.ts';
import { hostLook } from './looks.ts';
import { paintLanes } from './paint.ts';
import { colourOf, type Palette } from './palette.ts';

/** Host class names, by key (core/hostmap HOST_NAMES). */
const NAMES: Readonly<Record<string, string>> = {
  'host-header': 'header',
  'host-l1': 'L1 table',
  'host-l2': 'L2 table',
  'host-reftable': 'refcount table',
  'host-refblock': 'refcount block',
  'host-snapshot': 'snapshot table / L1',
  'host-bitmap': 'bitmap directory / table',
  'host-data': 'data',
  'host-compressed': 'compressed data',
  'host-leaked': 'leaked',
  'host-twice': 'referenced twice',
};

function HostFile({ m, palette }: { m: HostMapBins; palette: Palette }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (c) paintLanes(c, m.fractions, 1, m.px, m.classes.length, () => hostLook(m.classes, palette));
  }, [m, palette]);
  return (
    <div className="host-map">
      <canvas
        ref={ref}
        data-testid="host-map"
        role="img"
        style={{ width: '100%', height: 14 }}
        aria-label={`Host clusters of ${m.file}: ${m.clusters} clusters of ${binarySize(m.clusterSize)}, file order left to right`}
      />
      <ul className="legend host-legend" aria-label="Host map legend">
        {m.classes.map((k, i) =>
          k === 'host-free' || !m.counts[i] ? null : (
            <li key={k}>
              <span className="swatch" style={{ background: colourOf(palette, k) }} />
              {NAMES[k] ?? k}: {m.counts[i]} {m.counts[i] === 1 ? 'cluster' : 'clusters'}
            </li>
          ),
        )}
      </ul>
    </div>
  );
}

/** Every host file of the source (the qcow2 file; an external data file too, where there is one). */
export function HostMap({
  source,
  palette,
  refresh,
}: {
  source: number;
  palette: Palette;
  refresh: unknown;
}) {
  const { client } = useServices();
  const box = useRef<HTMLDivElement>(null);
  const [maps, setMaps] = useState<{ source: number; maps: readonly HostMapBins[] }>();
  useEffect(() => {
    const px = Math.max(64, Math.floor(box.current?.clientWidth ?? 600));
    void refresh;
    client.call('hostmap', { source, px }, { channel: 'hostmap' }).then(
      (m) => setMaps({ source, maps: m }),
      () => {},
    );
  }, [client, source, refresh]);
  return (
    <div ref={box}>
      {maps?.source === source && maps.maps.map((m) => <HostFile key={m.file} m={m} palette={palette} />)}
    </div>
  );
}
