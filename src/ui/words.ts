/** Words for what a cell holds, from its bin's class fractions: the tooltip's line, and screen readers'. */
import { MIN_FRACTION } from '../core/raster/mix.ts';
import type { DiffInfo, LayerInfo } from '../protocol/source.ts';

const pct = (f: number) => `${Math.round(f * 100)}%`;

const MAP_WORDS: Readonly<Record<string, string>> = {
  data: 'data',
  zero: 'zero',
  absent: 'absent',
  error: 'unreadable',
  compressed: 'compressed',
  top: 'allocated in top',
  hole: 'NBD hole',
  dirty: 'dirty',
  'backup-data': 'backup reads data',
  'backup-zero': 'backup writes zeroes',
  'backup-absent': 'dirty, in no layer',
};

/** A map class in words: "zero", "owned by base.raw", "in no layer (absent)". */
export function classWords(key: string, layers: readonly LayerInfo[]): string {
  if (key === 'depth-0') return 'in no layer (absent)';
  if (key.startsWith('depth-')) {
    const d = Number(key.slice(6));
    return `owned by ${layers[d - 1]?.name ?? `layer ${d}`}`;
  }
  return MAP_WORDS[key] ?? key;
}

/** The map's cells: "data 50%, zero 50% · owned by top.qcow2 50%, base.raw 50%". */
export const mapMixWords =
  (keys: readonly string[], layers: readonly LayerInfo[]) =>
  (fr: Float32Array, classes: number, bin: number): string => {
    const parts: string[] = [];
    const owners: string[] = [];
    keys.forEach((k, c) => {
      const f = fr[bin * classes + c] ?? 0;
      if (f <= MIN_FRACTION) return;
      const words = MAP_WORDS[k];
      if (words) parts.push(`${words} ${pct(f)}`);
      else if (k.startsWith('depth-') && k !== 'depth-0') {
        const d = Number(k.slice(6));
        owners.push(`${layers[d - 1]?.name ?? `layer ${d}`} ${pct(f)}`);
      }
    });
    return parts.join(', ') + (owners.length ? ` · owned by ${owners.join(', ')}` : '');
  };

/** The diff's cells: "A and B agree 75%, A zero / B hole,zero 25%". */
export const diffMixWords =
  (d: DiffInfo) =>
  (fr: Float32Array, classes: number, bin: number): string => {
    const parts: string[] = [];
    const agree = fr[bin * classes] ?? 0;
    if (agree > MIN_FRACTION) parts.push(`A and B agree ${pct(agree)}`);
    d.kinds.forEach((k, i) => {
      const f = fr[bin * classes + 1 + i] ?? 0;
      if (f > MIN_FRACTION) parts.push(`${k.label} ${pct(f)}`);
    });
    return parts.join(', ');
  };
