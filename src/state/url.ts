/**
 * View state <-> URL hash, versioned (STYLE.md: everything that leaves the app carries a
 * version). Only what a person would share: the sample, the view range, layers, selection.
 * Never file bytes or paths.
 */
import { DEFAULT_LAYERS, LAYER_IDS, type LayerId, type LayerToggles } from './layers.ts';
import { type DiffSpec, readDiffParams, writeDiffParams } from './diff.ts';
import type { ViewRange } from './view.ts';

export const URL_VERSION = 1;

export interface UrlState {
  readonly sample?: string;
  readonly view?: ViewRange;
  readonly layers?: LayerToggles;
  readonly selection?: number;
  /** The diff view's A and B (diff.ts: `a=INTERP@VIEW&b=...`). */
  readonly diff?: DiffSpec;
}

export function toHash(s: UrlState): string {
  const p = new URLSearchParams();
  p.set('v', String(URL_VERSION));
  if (s.sample) p.set('sample', s.sample);
  if (s.view) p.set('view', `${s.view.start.toString(16)}-${s.view.end.toString(16)}`);
  if (s.layers) p.set('layers', LAYER_IDS.filter((id) => s.layers?.[id]).join(','));
  if (s.selection !== undefined) p.set('sel', s.selection.toString(16));
  if (s.diff) writeDiffParams(p, s.diff);
  return `#${p.toString()}`;
}

export function fromHash(hash: string): UrlState {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  if (p.get('v') !== String(URL_VERSION)) return {};
  const out: { -readonly [K in keyof UrlState]: UrlState[K] } = {};
  const sample = p.get('sample');
  if (sample && /^[\w.-]+$/.test(sample)) out.sample = sample;
  const view = /^([0-9a-f]+)-([0-9a-f]+)$/.exec(p.get('view') ?? '');
  if (view) out.view = { start: Number.parseInt(view[1]!, 16), end: Number.parseInt(view[2]!, 16) };
  const layers = p.get('layers');
  if (layers !== null) {
    const on = new Set(layers.split(','));
    out.layers = Object.fromEntries(LAYER_IDS.map((id) => [id, on.has(id)])) as Record<LayerId, boolean>;
  }
  const sel = p.get('sel');
  if (sel && /^[0-9a-f]+$/.test(sel)) out.selection = Number.parseInt(sel, 16);
  const diff = readDiffParams(p, []);
  if (diff) out.diff = diff;
  return out;
}

export { DEFAULT_LAYERS };
