/**
 * How each kind of source looks on the one painter (paint.ts): which of its classes a cell or a
 * lane pixel shows, which one gives way, and their colours from the one palette. The map's
 * layer toggles choose between content (data / zero / absent), allocation depth and what an
 * incremental backup reads (the chosen bitmap's dirty bytes as data / zero / absent, clean
 * bytes giving way) as the fill; a bitmap's dirty bytes can also mark any fill as a bar.
 */
import type { LayerToggles } from '../state/layers.ts';
import type { Look } from './paint.ts';
import { BITMAP, classRgb, type Palette, rgbOf, sideColours } from './palette.ts';

const indexer = (keys: readonly string[]) => {
  const at = new Map(keys.map((k, i) => [k, i]));
  return (k: string) => at.get(k) ?? -1;
};
const present = (xs: readonly number[]) => Int32Array.from(xs.filter((x) => x >= 0));

/** The map's heatmap (an image or a map without it): content or depth as the fill, overlays on top. */
export function mapLook(keys: readonly string[], layers: LayerToggles, p: Palette): Look {
  const at = indexer(keys);
  const depths = keys.filter((k) => k.startsWith('depth-') && k !== 'depth-0').map(at);
  // The backup fill: of the dirty bytes, those of each content the toggles show; clean gives way.
  const backup = layers.backup && at('clean') >= 0;
  const fill = backup
    ? [
        layers.data ? at('backup-data') : -1,
        layers.zero ? at('backup-zero') : -1,
        layers.absent ? at('backup-absent') : -1,
      ]
    : layers.depth
      ? [...depths, layers.absent ? at('depth-0') : -1]
      : [layers.data ? at('data') : -1, layers.zero ? at('zero') : -1, layers.absent ? at('absent') : -1];
  return {
    show: present([...fill, at('error'), ...(backup ? [at('clean')] : [])]),
    // A toggled-off class shows nowhere, not even as the neutral one.
    neutral: backup ? at('clean') : !layers.absent ? -1 : layers.depth ? at('depth-0') : at('absent'),
    rgb: classRgb(p, keys),
    empty: p.empty,
    overlays: {
      top: layers.top ? at('top') : -1,
      hole: layers.hole ? at('hole') : -1,
      hatch: layers.compressed ? at('compressed') : -1,
      // Under a depth fill, zero stays visible as dots (under a content fill it is the fill).
      dots: layers.depth && !backup && layers.zero ? at('zero') : -1,
      dirty: layers.dirty ? at('dirty') : -1,
      topColour: p.top,
      holeColour: p.hole,
      hatchColour: p.hatch,
      dotColour: p.zero,
      dotRing: p.top,
      dirtyColour: BITMAP.dirty,
    },
  };
}

/** A lane of an image or a map: each pixel shows what its bytes are in that lane's terms. */
export function laneLook(keys: readonly string[], p: Palette): Look {
  const at = indexer(keys);
  const depths = keys.filter((k) => k.startsWith('depth-') && k !== 'depth-0').map(at);
  return {
    show: present([
      at('data'),
      at('zero'),
      at('compressed'),
      at('error'),
      at('hole'),
      ...depths,
      at('absent'),
    ]),
    neutral: at('absent'),
    rgb: classRgb(p, keys),
    empty: p.empty,
  };
}

/** A persistent bitmap's lane: its dirty bytes over clean ones (qemu:dirty-bitmap:NAME). */
export function bitmapLaneLook(keys: readonly string[], p: Palette): Look {
  const at = indexer(keys);
  return {
    show: present([at('dirty'), at('clean')]),
    neutral: at('clean'),
    rgb: classRgb(p, keys),
    empty: p.empty,
  };
}

/** The diff's heatmap and difference lane: each kind of disagreement over agreement. */
export function diffLook(keys: readonly string[], p: Palette): Look {
  const at = indexer(keys);
  const kinds = keys.map((k, i) => (k.startsWith('kind-') ? i : -1));
  return {
    show: present([...kinds, at('agree')]),
    neutral: at('agree'),
    rgb: classRgb(p, keys),
    empty: p.empty,
  };
}

/**
 * Lane A or B of a diff: the side's values in the map's colours for what they mean
 * (palette.sideColours), values outside its legend in the quiet neutral.
 */
export function diffSideLook(
  keys: readonly string[],
  side: 0 | 1,
  labels: readonly string[],
  p: Palette,
): Look {
  // The diff's classes list A's values, then B's (core/raster/diff.ts): value-* after the kinds, twice.
  const firstValue = keys.findIndex((k) => k.startsWith('value-'));
  const perSide = (keys.length - firstValue) / 2;
  const from = firstValue + side * perSide;
  const rgb = classRgb(p, keys);
  sideColours(p, labels).forEach((c, i) => {
    rgb[from + i] = rgbOf(c);
  });
  return {
    show: Int32Array.from({ length: perSide }, (_, i) => from + i),
    neutral: -1,
    rgb,
    empty: p.empty,
  };
}

/** The host-file map: metadata and what the check found over the data it is rare among. */
export function hostLook(keys: readonly string[], p: Palette): Look {
  const at = indexer(keys);
  return {
    show: present(keys.map((k, i) => (k === 'host-free' ? -1 : i))),
    neutral: at('host-data'),
    rgb: classRgb(p, keys),
    empty: p.empty,
  };
}
