/**
 * Colours of the heatmap, from the Okabe-Ito palette (distinguishable with red-green colour
 * blindness). Data and zero keep one colour in both themes so a legend, a screenshot and a
 * pixel test mean the same thing; the neutral colours follow the theme.
 */
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
    depth: DEPTH,
  },
};

/** Colour of allocation depth d (1 = top); 0 (absent) uses `absent`. */
export const depthColour = (p: Palette, d: number): string =>
  d === 0 ? p.absent : (p.depth[(d - 1) % p.depth.length] ?? p.absent);

export function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
