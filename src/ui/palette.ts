/**
 * One palette for every view: a class key (core/raster/classes.ts, the diff's and the host
 * map's keys) has one colour wherever it appears: heatmap, lanes, legend, host map, diff. Four
 * families that never share a colour:
 *  - content (Okabe-Ito): data, zero, absent, unreadable, NBD hole, compressed. Reserved: no
 *    other meaning uses them (a host data cluster is data; a diff side's "zero" is zero).
 *  - allocation depth: one colour per layer, none of them a content colour;
 *  - kinds of disagreement in a diff;
 *  - host-file metadata (header, L1, L2, refcounts, snapshots, bitmaps, leaks);
 *  - persistent bitmaps: dirty. What an incremental backup reads of the dirty bytes is content
 *    (data, zero, absent keep their colours), and clean is the empty colour: a backup reads
 *    nothing there, as nothing is past an image's end (QEMU reads a bitmap as clean past its end).
 * Colours shown together are told apart in both themes with normal vision and with each kind of
 * colour blindness (palette.test.ts measures it). Data and zero keep one colour in both themes
 * so a legend, a screenshot and a pixel test mean the same thing; the neutral colours follow
 * the theme.
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

/**
 * Depth 1 (top), 2, ...: chosen (from Paul Tol's and Okabe-Ito's colour-blind-safe sets) to stay
 * apart from every content colour in both themes, for every kind of colour vision.
 */
export const DEPTH = ['#CC79A7', '#DDCC77', '#332288', '#99DDFF', '#8B4513', '#999933', '#117733'];

/** Persistent bitmaps: a dirty bit, apart from content, depth and the overlays' black and white. */
export const BITMAP = { dirty: '#6600CC' } as const;

/** Kinds of disagreement, in order of first appearance: a family of their own, apart from content and depth. */
export const KINDS = ['#800000', '#EE99AA', '#004488', '#BBCC33', '#EECC66', '#6699CC'];

/** Host-file metadata: a family of its own; the file's data clusters are data, a double reference is unreadable. */
export const HOST_METADATA: Readonly<Record<string, string>> = {
  'host-l1': '#A0522D',
  'host-l2': '#D2B48C',
  'host-reftable': '#4B0082',
  'host-refblock': '#7B68EE',
  'host-snapshot': '#EEDD88',
  'host-bitmap': '#708090',
  'host-leaked': '#FF69B4',
};

/**
 * What a diff side's value means on the map (from its legend label), or undefined: a side's
 * "zero" is the map's zero, its "backing depth 2" the map's depth 2, so a lane reads like the map.
 */
export function valueMeaning(label: string): string | undefined {
  // A bitmap's bit, and the top layer's allocation read as the same fact (written since).
  if (label === 'dirty' || label === 'in top') return 'dirty';
  if (label === 'clean' || label === 'not in top') return 'clean';
  if (/compressed/.test(label)) return 'compressed';
  if (label === 'hole') return 'hole';
  if (label === 'absent' || label === 'hole,zero' || /unallocated/.test(label)) return 'absent';
  const depth = /^local$|^backing depth (\d+)$/.exec(label);
  if (depth) return `depth-${depth[1] ?? 1}`;
  if (/zero/.test(label)) return 'zero';
  if (/data|allocated|dirty/.test(label)) return 'data';
  return undefined;
}

/** For a side's values with no colour of their own on the map, or a second value of one meaning. */
export const SIDE_EXTRA = ['#5B3A29', '#5D3A9B', '#777777'];

/**
 * The colours of one diff side's values, in legend order: each value in its map colour, or (when
 * it has none, or an earlier value took it) the next colour of SIDE_EXTRA, so two values of one
 * side never share a colour. Past SIDE_EXTRA a side with that many values repeats them.
 */
export function sideColours(p: Palette, labels: readonly string[]): string[] {
  const used = new Set<string>();
  let extra = 0;
  return labels.map((label) => {
    const meaning = valueMeaning(label);
    let c = meaning === undefined ? undefined : colourOf(p, meaning);
    if (c === undefined || used.has(c)) c = SIDE_EXTRA[extra++ % SIDE_EXTRA.length]!;
    used.add(c);
    return c;
  });
}

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
  const host = HOST_METADATA[key];
  if (host) return host;
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
    case 'dirty':
      return BITMAP.dirty;
    case 'clean':
      return p.empty;
    case 'backup-data':
      return p.data;
    case 'backup-zero':
      return p.zero;
    case 'backup-absent':
      return p.absent;
    case 'agree':
    case 'value-other':
      return p.agree;
    case 'host-header':
      return p.selection;
    case 'host-data':
      return p.data;
    case 'host-compressed':
      return OKABE_ITO.skyBlue;
    case 'host-twice':
      return p.error;
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
