/**
 * The palette keeps its promises: colours that can appear together in one heatmap, lane or
 * legend are told apart (CIE76 ΔE ≥ MIN_DELTA_E) in both themes, with normal colour vision and
 * simulated deuteranopia, protanopia and tritanopia (Machado, Oliveira & Fernandes 2009, severity
 * 1.0); the content colours are reserved for content; the families never share a colour.
 */
import { describe, expect, it } from 'vitest';
import {
  C_ABSENT,
  C_COMPRESSED,
  C_DATA,
  C_ERROR,
  C_HOLE,
  C_ZERO,
  chainClassKeys,
} from '../core/raster/classes.ts';
import {
  BITMAP,
  colourOf,
  DEPTH,
  HOST_METADATA,
  KINDS,
  PALETTES,
  type Palette,
  type ResolvedTheme,
  SIDE_EXTRA,
  sideColours,
  valueMeaning,
} from './palette.ts';

/**
 * Below about 10 two flat colours side by side start to need a second look; colour-blind-safe
 * sets (Okabe-Ito, Tol) keep their nearest pairs above it under simulation.
 */
const MIN_DELTA_E = 10;

type Vision = 'normal' | 'deutan' | 'protan' | 'tritan';
const MACHADO: Record<Exclude<Vision, 'normal'>, number[][]> = {
  deutan: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
  protan: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
  tritan: [
    [1.255528, -0.076749, -0.178779],
    [-0.078411, 0.930809, 0.147602],
    [0.004733, 0.691367, 0.3039],
  ],
};
const lin = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const delin = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);
const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255);
function seen(hex: string, v: Vision): number[] {
  const c = rgb(hex);
  if (v === 'normal') return c;
  const l = c.map(lin);
  return MACHADO[v].map((r) =>
    delin(Math.min(1, Math.max(0, r[0]! * l[0]! + r[1]! * l[1]! + r[2]! * l[2]!))),
  );
}
function lab(c: number[]): number[] {
  const [r, g, b] = c.map(lin) as [number, number, number];
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const x = f((r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047);
  const y = f(r * 0.2126 + g * 0.7152 + b * 0.0722);
  const z = f((r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883);
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)];
}
const deltaE = (a: string, b: string, v: Vision) => {
  const [p, q] = [lab(seen(a, v)), lab(seen(b, v))];
  return Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!);
};

/** The nearest pair of a group, over every kind of vision: [ΔE, names, vision]. */
function nearest(group: Record<string, string>): [number, string, Vision] {
  let worst: [number, string, Vision] = [Number.POSITIVE_INFINITY, '', 'normal'];
  const entries = Object.entries(group);
  for (const v of ['normal', 'deutan', 'protan', 'tritan'] as const)
    for (let i = 0; i < entries.length; i++)
      for (let j = i + 1; j < entries.length; j++) {
        const d = deltaE(entries[i]![1], entries[j]![1], v);
        if (d < worst[0]) worst = [d, `${entries[i]![0]} / ${entries[j]![0]}`, v];
      }
  return worst;
}

const keyed = (p: Palette, keys: readonly string[]) =>
  Object.fromEntries(keys.map((k) => [k, colourOf(p, k)]));
const CONTENT = ['data', 'zero', 'absent', 'error', 'hole', 'compressed'];
const depthKeys = (n: number) => Array.from({ length: n }, (_, i) => `depth-${i + 1}`);

/** What can be on screen at once, per view. */
function groups(p: Palette): Record<string, Record<string, string>> {
  return {
    'map heatmap, content fill': { ...keyed(p, CONTENT), empty: p.empty },
    'map heatmap, depth fill': {
      ...keyed(p, ['absent', 'error', ...depthKeys(DEPTH.length)]),
      empty: p.empty,
    },
    'map heatmap, content fill, dirty bars': { ...keyed(p, [...CONTENT, 'top', 'dirty']), empty: p.empty },
    'map heatmap, depth fill, dirty bars': {
      ...keyed(p, ['absent', 'error', 'top', 'dirty', ...depthKeys(DEPTH.length)]),
      empty: p.empty,
    },
    // Clean is the empty colour (nothing to read), so it stands for both here.
    'map heatmap, incremental backup fill': keyed(p, [
      'backup-data',
      'backup-zero',
      'backup-absent',
      'error',
      'clean',
      'dirty',
      'top',
    ]),
    'map lanes (with bitmap lanes: dirty, clean)': {
      ...keyed(p, [...CONTENT, 'dirty', ...depthKeys(DEPTH.length)]),
      empty: p.empty,
    },
    'diff heatmap': { ...keyed(p, ['agree', ...KINDS.map((_, i) => `kind-${i}`)]), empty: p.empty },
    'diff side lane': {
      ...keyed(p, [...CONTENT, 'dirty', ...depthKeys(DEPTH.length)]),
      // No "other": a side's legend lists every value it holds (core presentLegend).
      ...Object.fromEntries(SIDE_EXTRA.map((c, i) => [`extra-${i}`, c])),
      empty: p.empty,
    },
    'host map': {
      ...keyed(p, [
        'host-header',
        'host-data',
        'host-compressed',
        'host-twice',
        ...Object.keys(HOST_METADATA),
      ]),
      free: p.empty,
    },
  };
}

describe('palette', () => {
  for (const theme of ['light', 'dark'] as ResolvedTheme[])
    for (const [name, group] of Object.entries(groups(PALETTES[theme])))
      it(`${theme}: ${name} are told apart with every kind of colour vision`, () => {
        const [d, pair, vision] = nearest(group);
        expect(d, `${pair} under ${vision}: ΔE ${d.toFixed(1)}`).toBeGreaterThanOrEqual(MIN_DELTA_E);
      });

  it('a chain raster key has one colour in every view, and each content key its own', () => {
    const keys = chainClassKeys(3);
    for (const theme of ['light', 'dark'] as ResolvedTheme[]) {
      const p = PALETTES[theme];
      const content = [C_DATA, C_ZERO, C_ABSENT, C_ERROR, C_HOLE, C_COMPRESSED].map((c) =>
        colourOf(p, keys[c]!),
      );
      expect(new Set(content).size).toBe(content.length);
      expect(colourOf(p, 'host-data')).toBe(p.data);
      expect(colourOf(p, 'host-compressed')).toBe(colourOf(p, 'compressed'));
    }
  });

  it("a backup's dirty data, zero and absent are the content colours; clean is the empty colour", () => {
    for (const theme of ['light', 'dark'] as ResolvedTheme[]) {
      const p = PALETTES[theme];
      expect(['backup-data', 'backup-zero', 'backup-absent', 'clean'].map((k) => colourOf(p, k))).toEqual([
        p.data,
        p.zero,
        p.absent,
        p.empty,
      ]);
      expect(colourOf(p, 'dirty')).toBe(BITMAP.dirty);
    }
    // A bitmap diffed against the top layer's allocation: both sides' lanes read alike.
    expect(sideColours(PALETTES.light, ['clean', 'dirty'])).toEqual(
      sideColours(PALETTES.light, ['not in top', 'in top']),
    );
  });

  it('data and zero look the same in both themes (legends, screenshots and pixel tests agree)', () => {
    expect(PALETTES.light.data).toBe(PALETTES.dark.data);
    expect(PALETTES.light.zero).toBe(PALETTES.dark.zero);
  });

  it('content colours are reserved: no depth, kind, host metadata or extra uses one', () => {
    for (const theme of ['light', 'dark'] as ResolvedTheme[]) {
      const p = PALETTES[theme];
      const content = new Set(CONTENT.map((k) => colourOf(p, k).toLowerCase()));
      const others = [
        ...DEPTH,
        ...KINDS,
        ...Object.values(HOST_METADATA),
        ...SIDE_EXTRA,
        ...Object.values(BITMAP),
        p.agree,
        p.empty,
      ];
      for (const c of others) expect(content.has(c.toLowerCase()), c).toBe(false);
    }
  });

  it('the families never share a colour', () => {
    const all = [
      ...DEPTH,
      ...KINDS,
      ...Object.values(HOST_METADATA),
      ...SIDE_EXTRA,
      ...Object.values(BITMAP),
    ].map((c) => c.toLowerCase());
    expect(new Set(all).size).toBe(all.length);
  });

  it("a diff side's values take the map's colour for what they mean, never two alike", () => {
    const p = PALETTES.light;
    expect(valueMeaning('data')).toBe('data');
    expect(valueMeaning('zero')).toBe('zero');
    expect(valueMeaning('hole')).toBe('hole');
    expect(valueMeaning('hole,zero')).toBe('absent');
    expect(valueMeaning('local')).toBe('depth-1');
    expect(valueMeaning('backing depth 3')).toBe('depth-3');
    expect(valueMeaning('compressed')).toBe('compressed');
    expect(sideColours(p, ['data', 'hole', 'zero', 'hole,zero'])).toEqual([p.data, p.hole, p.zero, p.absent]);
    expect(sideColours(p, ['absent', 'local', 'backing depth 2'])).toEqual([p.absent, DEPTH[0], DEPTH[1]]);
    // Two values meaning zero: the second is told apart.
    const two = sideColours(p, ['zero', 'hole,zero,local', 'owner?']);
    expect(new Set(two).size).toBe(3);
    expect(two[0]).toBe(p.zero);
  });
});
