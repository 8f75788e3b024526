/**
 * Colours of the diff view. Agreement is a quiet neutral; each kind of disagreement takes the
 * next Okabe-Ito colour (distinguishable with red-green colour blindness) in order of first
 * appearance, so the first difference is always vermillion. Past seven kinds the colours repeat
 * and the legend's counts tell them apart.
 */
import { OKABE_ITO, type ResolvedTheme } from '../palette.ts';

export interface DiffPalette {
  readonly agree: string;
  readonly empty: string;
  readonly outline: string;
  readonly kinds: readonly string[];
  /** Colours for a side's values (its legend order). */
  readonly values: readonly string[];
}

const KINDS = [
  OKABE_ITO.vermillion,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.skyBlue,
  OKABE_ITO.yellow,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.orange,
  OKABE_ITO.blue,
];

/** A side's values: data blue and zero orange as on the map; hole bluish green, then the rest. */
const VALUES = [
  OKABE_ITO.blue,
  OKABE_ITO.bluishGreen,
  OKABE_ITO.orange,
  OKABE_ITO.skyBlue,
  OKABE_ITO.reddishPurple,
  OKABE_ITO.yellow,
  OKABE_ITO.vermillion,
];

export const DIFF_PALETTES: Readonly<Record<ResolvedTheme, DiffPalette>> = {
  light: { agree: '#d4d4d4', empty: '#f1f1f1', outline: '#000000', kinds: KINDS, values: VALUES },
  dark: { agree: '#4d4d4d', empty: '#1f1f1f', outline: '#ffffff', kinds: KINDS, values: VALUES },
};

export const kindColour = (p: DiffPalette, k: number): string => p.kinds[k % p.kinds.length]!;
export const valueColour = (p: DiffPalette, i: number): string => p.values[i % p.values.length]!;
