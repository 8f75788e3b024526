/**
 * The host-file map: one row of cells over the top file's host clusters, each cell coloured by
 * what its clusters hold (header, L1, L2, refcounts, snapshots, bitmaps, data), leaked and
 * doubly referenced clusters drawn over the rest. Ranges come from the worker (core/hostmap);
 * binned here at the pixel width, a bin showing the rarest metadata class it contains.
 */
import { useEffect, useRef } from 'react';
import { binarySize } from '../core/format.ts';
import type { ImageReport } from '../worker/imageProtocol.ts';
import { OKABE_ITO } from './palette.ts';

/** Colour per HOST_* class (core/hostmap/hostmap.ts order); Okabe-Ito, readable with red-green colour blindness. */
export const HOST_COLOURS: readonly string[] = [
  'transparent',
  '#000000',
  OKABE_ITO.vermillion,
  OKABE_ITO.orange,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.skyBlue,
  OKABE_ITO.yellow,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.blue,
  '#7f7f7f',
  '#e41a1c',
  '#ff00ff',
];
/** Metadata is rare and small: a bin shows it over data whenever it holds any. */
const PRIORITY = [0, 8, 9, 3, 2, 5, 4, 6, 7, 1, 10, 11];

export function binHostMap(host: NonNullable<ImageReport['host']>, px: number): Uint8Array {
  const out = new Uint8Array(px);
  const per = host.clusters / px;
  for (let k = 0; k < host.start.length; k++) {
    const kind = host.kind[k]!;
    if (kind === 0) continue;
    const a = Math.floor(host.start[k]! / per);
    const b = Math.min(px - 1, Math.floor((host.start[k]! + host.length[k]! - 1) / per));
    for (let i = a; i <= b; i++) if (PRIORITY[kind]! > PRIORITY[out[i]!]!) out[i] = kind;
  }
  return out;
}

export function HostMap({ host, dark }: { host: NonNullable<ImageReport['host']>; dark: boolean }) {
  const ref = useRef<HTMLCanvasElement>(null);
  // A file with fewer clusters than pixels fits one row; a bigger one wraps over four.
  const rows = host.clusters * 2 <= 1440 ? 1 : 4;
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const w = Math.max(1, Math.floor(c.getBoundingClientRect().width));
    const cols = rows === 1 ? host.clusters : w;
    c.width = cols;
    c.height = rows === 1 ? 1 : rows * 6;
    const g = c.getContext('2d')!;
    g.clearRect(0, 0, c.width, c.height);
    // Rows wrap the file: clusters in file order, left to right, then the next row.
    const bins = binHostMap(host, cols * rows);
    for (let i = 0; i < bins.length; i++) {
      const k = bins[i]!;
      if (!k) continue;
      g.fillStyle = k === 1 && dark ? '#f0f0f0' : HOST_COLOURS[k]!;
      g.fillRect(i % cols, Math.floor(i / cols) * 6, 1, rows === 1 ? 1 : 5);
    }
  }, [host, dark, rows]);
  const present = new Set(host.kind);
  return (
    <div className="host-map">
      <canvas
        ref={ref}
        data-testid="host-map"
        role="img"
        aria-label={`Host clusters of the top file: ${host.clusters} clusters of ${binarySize(host.clusterSize)}, file order left to right, row after row`}
      />
      <ul className="legend host-legend" aria-label="Host map legend">
        {host.names.map((n, k) =>
          k === 0 || !present.has(k) ? null : (
            <li key={n}>
              <span
                className="swatch"
                style={{ background: k === 1 && dark ? '#f0f0f0' : HOST_COLOURS[k] }}
              />
              {n}: {countOf(host, k)} {countOf(host, k) === 1 ? 'cluster' : 'clusters'}
            </li>
          ),
        )}
      </ul>
    </div>
  );
}

function countOf(host: NonNullable<ImageReport['host']>, k: number): number {
  let n = 0;
  for (let i = 0; i < host.kind.length; i++) if (host.kind[i] === k) n += host.length[i]!;
  return n;
}
