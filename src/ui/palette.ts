/**
 * One palette for every view: a class key (core/raster/classes.ts, the diff's and the host
 * map's keys) has one colour wherever it appears: heatmap, lanes, legend, host map, diff. From
 * the Okabe-Ito palette (distinguishable with red-green colour blindness); data and zero keep
 * one colour in both themes so a legend, a screenshot and a pixel test mean the same thing; the
 * neutral colours follow the theme.
 */
import { depthOfKey } from '../core/raster/classes.ts';

export type ResolvedTheme = 'light' | 'dark';

export const OKABE_ITO = {
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

export interface Palette {
  readonly data: string;
  readonly zero: string;
  readonly absent: string;
  readonly error: string;
  /** An unfilled cell part: past the end of the image, or a hidden layer. */
  readonly empty: string;
  readonly top: string;
  readonly hole: string;
  readonly hatch: string;
  readonly cursor: string;
  readonly selection: string;
  /** Agreement in a diff: a quiet neutral. */
  readonly agree: string;
  readonly depth: readonly string[];
}

/** Depth 1 (top), 2, ...; bluish green is left for NBD holes so the two never meet in one view. */
const DEPTH = [
  OKABE_ITO.reddishPurple,
  OKABE_ITO.skyBlue,
  OKABE_ITO.yellow,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.orange,
  OKABE_ITO.blue,
  OKABE_ITO.vermillion,
];

/** Kinds of disagreement, in order of first appearance: the first difference is always vermillion. */
const KINDS = [
  OKABE_ITO.vermillion,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.skyBlue,
  OKABE_ITO.yellow,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.orange,
  OKABE_ITO.blue,
];

/** A diff side's values (its legend order): data blue and zero orange as on the map; hole bluish green. */
const VALUES = [
  OKABE_ITO.blue,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.orange,
  OKABE_ITO.skyBlue,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.yellow,
  OKABE_ITO.vermillion,
];

/** Host-file map classes (core/hostmap HOST_* order): metadata in distinct colours, data as on the map. */
const HOST: Readonly<Record<string, (p: Palette) => string>> = {
  'host-free': (p) => p.empty,
  'host-header': (p) => p.selection,
  'host-l1': () => OKABE_ITO.vermillion,
  'host-l2': () => OKABE_ITO.orange,
  'host-reftable': () => OKABE_ITO.reddishPurple,
  'host-refblock': () => OKABE_ITO.skyBlue,
  'host-snapshot': () => OKABE_ITO.yellow,
  'host-bitmap': () => OKABE_ITO.bluishGreen,
  'host-data': (p) => p.data,
  'host-compressed': () => '#7f7f7f',
  'host-leaked': () => '#e41a1c',
  'host-twice': () => '#ff00ff',
};

export const PALETTES: Readonly<Record<ResolvedTheme, Palette>> = {
  light: {
    data: OKABE_ITO.blue,
    zero: OKABE_ITO.orange,
    absent: '#c9c9c9',
    error: OKABE_ITO.vermillion,
    empty: '#f1f1f1',
    top: '#000000',
    hole: OKABE_ITO.bluishGreen,
    hatch: '#000000',
    cursor: '#000000',
    selection: '#000000',
    agree: '#d4d4d4',
    depth: DEPTH,
  },
  dark: {
    data: OKABE_ITO.blue,
    zero: OKABE_ITO.orange,
    absent: '#4a4a4a',
    error: OKABE_ITO.vermillion,
    empty: '#1f1f1f',
    top: '#ffffff',
    hole: OKABE_ITO.bluishGreen,
    hatch: '#ffffff',
    cursor: '#ffffff',
    selection: '#ffffff',
    agree: '#4d4d4d',
    depth: DEPTH,
  },
};

/** Colour of allocation depth d (1 = top); 0 (absent) uses `absent`. */
export const depthColour = (p: Palette, d: number): string =>
  d === 0 ? p.absent : (p.depth[(d - 1) % p.depth.length] ?? p.absent);

/** The colour of a class key, in one theme. */
export function colourOf(p: Palette, key: string): string {
  const d = depthOfKey(key);
  if (d >= 0) return depthColour(p, d);
  const n = (prefix: string) => Number(key.slice(prefix.length));
  if (key.startsWith('kind-')) return KINDS[n('kind-') % KINDS.length]!;
  if (key.startsWith('value-')) return key === 'value-other' ? p.agree : VALUES[n('value-') % VALUES.length]!;
  const host = HOST[key];
  if (host) return host(p);
  switch (key) {
    case 'data':
      return p.data;
    case 'zero':
      return p.zero;
    case 'absent':
      return p.absent;
    case 'error':
      return p.error;
    case 'hole':
    case 'hole-5.2':
      return p.hole;
    case 'top':
      return p.top;
    case 'compressed':
      return OKABE_ITO.skyBlue;
    case 'agree':
      return p.agree;
    default:
      return p.empty;
  }
}

/** '#rrggbb' as 0xRRGGBB. */
export const rgbOf = (hex: string): number => Number.parseInt(hex.slice(1), 16);

/** Colours of a source's classes as 0xRRGGBB, by class index. */
export const classRgb = (p: Palette, keys: readonly string[]): Int32Array =>
  Int32Array.from(keys, (k) => rgbOf(colourOf(p, k)));

export const cssRgb = (c: number): string => `rgb(${(c >> 16) & 255},${(c >> 8) & 255},${c & 255})`;
