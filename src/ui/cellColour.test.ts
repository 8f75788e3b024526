import { describe, expect, it } from 'vitest';
import { DEFAULT_LAYERS } from '../state/layers.ts';
import { BIN_ABSENT, BIN_DATA, BIN_DEPTH, BIN_ERROR, BIN_ZERO, binClassCount } from '../worker/protocol.ts';
import {
  blendSegments,
  type CellInput,
  cellSegments,
  rgbOf,
  SegmentBuffer,
  VISIBLE_SHARE,
} from './cellColour.ts';
import { PALETTES } from './palette.ts';

const p = PALETTES.light;
const classes = binClassCount(2);

/** One bin with the given class fractions. */
function input(f: Record<number, number>, layers = DEFAULT_LAYERS): CellInput {
  const fractions = new Float32Array(classes);
  for (const [c, v] of Object.entries(f)) fractions[Number(c)] = v;
  return { fractions, classes, layers, palette: p, layerCount: 2 };
}

const segments = (d: CellInput) => cellSegments(d, 0, new SegmentBuffer()).toArray();

describe('cell colour', () => {
  it('raises a tiny class to VISIBLE_SHARE and shrinks absent to the rest', () => {
    const s = segments(input({ [BIN_DATA]: 0.01, [BIN_ABSENT]: 0.99 }));
    expect(s).toEqual([
      [p.data, VISIBLE_SHARE],
      [p.absent, expect.closeTo(1 - VISIBLE_SHARE, 6)],
    ]);
  });

  it('counts zero without the absent part (absent bytes read as zero too)', () => {
    const s = segments(input({ [BIN_ZERO]: 1, [BIN_ABSENT]: 0.5 }));
    expect(s).toEqual([
      [p.zero, 0.5],
      [p.absent, 0.5],
    ]);
  });

  it('drops absent and renormalises when the visible classes need more than the cell', () => {
    const s = segments(input({ [BIN_DATA]: 0.5, [BIN_ZERO]: 0.5, [BIN_ERROR]: 0.01, [BIN_ABSENT]: 0.2 }));
    const total = 0.5 + 0.3 + 0.3; // zero 0.5 - absent 0.2 = 0.3; error raised to 0.3
    expect(s.map(([c]) => c)).toEqual([p.data, p.zero, p.error]);
    expect(s.map(([, v]) => v)).toEqual(
      [0.5 / total, 0.3 / total, 0.3 / total].map((v) => expect.closeTo(v, 6)),
    );
  });

  it('shows allocation depth per layer when the depth layer is on', () => {
    const s = segments(
      input({ [BIN_DEPTH + 1]: 0.5, [BIN_DEPTH + 2]: 0.5 }, { ...DEFAULT_LAYERS, depth: true }),
    );
    expect(s).toEqual([
      [p.depth[0], 0.5],
      [p.depth[1], 0.5],
    ]);
  });

  it('blends over the empty colour for the share nothing covers', () => {
    const full = blendSegments(cellSegments(input({ [BIN_DATA]: 1 }), 0, new SegmentBuffer()), p.empty);
    expect(full).toBe(rgbOf(p.data));
    const none = blendSegments(cellSegments(input({}), 0, new SegmentBuffer()), p.empty);
    expect(none).toBe(rgbOf(p.empty));
    const half = blendSegments(cellSegments(input({ [BIN_DATA]: 0.5 }), 0, new SegmentBuffer()), p.empty);
    const mid = (sh: number) =>
      Math.round((((rgbOf(p.data) >> sh) & 255) + ((rgbOf(p.empty) >> sh) & 255)) / 2);
    expect([(half >> 16) & 255, (half >> 8) & 255, half & 255]).toEqual([mid(16), mid(8), mid(0)]);
  });

  it('reuses one buffer across cells without carrying segments over', () => {
    const buf = new SegmentBuffer();
    cellSegments(input({ [BIN_DATA]: 0.4, [BIN_ZERO]: 0.4, [BIN_ERROR]: 0.2 }), 0, buf);
    expect(cellSegments(input({ [BIN_ABSENT]: 1 }), 0, buf).toArray()).toEqual([[p.absent, 1]]);
  });
});
