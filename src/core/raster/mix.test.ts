import { describe, expect, it } from 'vitest';
import { blendOf, MIN_FRACTION, Mix, mixOf, VISIBLE_SHARE } from './mix.ts';

const DATA = 0;
const ZERO = 1;
const ABSENT = 2;
const ERROR = 3;
const CLASSES = 4;
const SHOW = [DATA, ZERO, ERROR, ABSENT];
const RGB = [0x0072b2, 0xe69f00, 0xc9c9c9, 0xd55e00];
const EMPTY = 0xf1f1f1;

/** One bin with the given class fractions. */
function bin(f: Record<number, number>): Float32Array {
  const out = new Float32Array(CLASSES);
  for (const [c, v] of Object.entries(f)) out[Number(c)] = v;
  return out;
}

const shares = (m: Mix) => Array.from({ length: m.n }, (_, i) => [m.cls[i]!, m.share[i]!]);
const mix = (f: Record<number, number>) => mixOf(bin(f), CLASSES, 0, SHOW, ABSENT, new Mix());

describe('the pixel rule', () => {
  it('raises a tiny class to VISIBLE_SHARE and shrinks the neutral class to the rest', () => {
    expect(shares(mix({ [DATA]: 0.01, [ABSENT]: 0.99 }))).toEqual([
      [DATA, VISIBLE_SHARE],
      [ABSENT, expect.closeTo(1 - VISIBLE_SHARE, 6)],
    ]);
  });

  it('drops the neutral class and renormalises when the others need more than the pixel', () => {
    const m = mix({ [DATA]: 0.5, [ZERO]: 0.3, [ERROR]: 0.01, [ABSENT]: 0.19 });
    const total = 0.5 + 0.3 + VISIBLE_SHARE;
    expect(shares(m).map(([c]) => c)).toEqual([DATA, ZERO, ERROR]);
    expect(shares(m).map(([, v]) => v)).toEqual(
      [0.5 / total, 0.3 / total, VISIBLE_SHARE / total].map((v) => expect.closeTo(v, 6)),
    );
  });

  it('shows only the classes asked for, in their order', () => {
    const m = mixOf(bin({ [DATA]: 0.5, [ZERO]: 0.5 }), CLASSES, 0, [ZERO], -1, new Mix());
    expect(shares(m)).toEqual([[ZERO, 0.5]]);
  });

  it('leaves float noise out', () => {
    expect(mix({ [DATA]: MIN_FRACTION / 2 }).n).toBe(0);
  });

  it('one colour: the classes present blended, over the empty colour for the share nothing covers', () => {
    const one = (f: Record<number, number>) => blendOf(bin(f), CLASSES, 0, SHOW, ABSENT, RGB, EMPTY);
    expect(one({ [DATA]: 1 })).toBe(RGB[DATA]);
    expect(one({})).toBe(EMPTY);
    const half = one({ [DATA]: 0.5 });
    const mid = (sh: number) => Math.round((((RGB[DATA]! >> sh) & 255) + ((EMPTY >> sh) & 255)) / 2);
    expect([(half >> 16) & 255, (half >> 8) & 255, half & 255]).toEqual([mid(16), mid(8), mid(0)]);
    const dz = one({ [DATA]: 0.5, [ZERO]: 0.5 });
    const avg = (sh: number) => Math.round((((RGB[DATA]! >> sh) & 255) + ((RGB[ZERO]! >> sh) & 255)) / 2);
    expect([(dz >> 16) & 255, (dz >> 8) & 255, dz & 255]).toEqual([avg(16), avg(8), avg(0)]);
  });

  it('one colour: the neutral class gives way to anything else (1% data among absent bytes is data)', () => {
    expect(blendOf(bin({ [DATA]: 0.01, [ABSENT]: 0.99 }), CLASSES, 0, SHOW, ABSENT, RGB, EMPTY)).toBe(
      RGB[DATA],
    );
    expect(blendOf(bin({ [ABSENT]: 1 }), CLASSES, 0, SHOW, ABSENT, RGB, EMPTY)).toBe(RGB[ABSENT]);
  });

  it('one colour: a small share among another class still shows, weighed as in a band', () => {
    // 0.05% data among 99.95% zero (neither neutral): data weighs VISIBLE_SHARE against 0.9995.
    const c = blendOf(bin({ [DATA]: 0.0005, [ZERO]: 0.9995 }), CLASSES, 0, SHOW, ABSENT, RGB, EMPTY);
    const k = VISIBLE_SHARE / (VISIBLE_SHARE + 0.9995);
    const want = (sh: number) =>
      Math.round(((RGB[DATA]! >> sh) & 255) * k + ((RGB[ZERO]! >> sh) & 255) * (1 - k));
    expect([(c >> 16) & 255, (c >> 8) & 255, c & 255]).toEqual([want(16), want(8), want(0)]);
    expect(c).not.toBe(RGB[ZERO]);
  });

  it('reuses one buffer across bins without carrying classes over', () => {
    const buf = new Mix();
    mixOf(bin({ [DATA]: 0.4, [ZERO]: 0.4, [ERROR]: 0.2 }), CLASSES, 0, SHOW, ABSENT, buf);
    expect(shares(mixOf(bin({ [ABSENT]: 1 }), CLASSES, 0, SHOW, ABSENT, buf))).toEqual([[ABSENT, 1]]);
  });
});
