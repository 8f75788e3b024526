/** Words for a cell's mix of classes, for the tooltip and for screen readers. */
import type { LayerInfo } from '../worker/protocol.ts';
import {
  BIN_ABSENT,
  BIN_COMPRESSED,
  BIN_DATA,
  BIN_DEPTH,
  BIN_ERROR,
  BIN_HOLE,
  BIN_TOP,
  BIN_ZERO,
} from '../worker/protocol.ts';

const pct = (f: number) => `${Math.round(f * 100)}%`;

export function cellMix(
  fr: Float32Array,
  classes: number,
  bin: number,
  layers: readonly LayerInfo[],
): string {
  const f = (c: number) => fr[bin * classes + c] ?? 0;
  const parts: string[] = [];
  const add = (label: string, v: number) => {
    if (v > 1e-6) parts.push(`${label} ${pct(v)}`);
  };
  add('data', f(BIN_DATA));
  add('zero', Math.max(0, f(BIN_ZERO) - f(BIN_ABSENT)));
  add('absent', f(BIN_ABSENT));
  add('error', f(BIN_ERROR));
  add('compressed', f(BIN_COMPRESSED));
  add('allocated in top', f(BIN_TOP));
  add('NBD hole', f(BIN_HOLE));
  const owners: string[] = [];
  for (let d = 1; d <= layers.length; d++) {
    const v = f(BIN_DEPTH + d);
    if (v > 1e-6) owners.push(`${layers[d - 1]?.name ?? `layer ${d}`} ${pct(v)}`);
  }
  return parts.join(', ') + (owners.length ? ` · owned by ${owners.join(', ')}` : '');
}
