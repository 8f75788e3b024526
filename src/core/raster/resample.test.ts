import { describe, expect, it } from 'vitest';
import { binRuns } from './bins.ts';
import { type BinSet, resampleBins } from './resample.ts';

/** One class per run, runs of 4 KiB alternating class 0 and 1 over [0, 1 MiB); a 64 KiB hole of nothing. */
const K = 1024;
const runs = (() => {
  const start: number[] = [];
  const length: number[] = [];
  for (let s = 0; s < 1024 * K; s += 4 * K) {
    if (s >= 512 * K && s < 576 * K) continue;
    start.push(s);
    length.push(4 * K);
  }
  return { count: start.length, start: Float64Array.from(start), length: Float64Array.from(length) };
})();
const exact = (start: number, end: number, n: number): BinSet => ({
  start,
  end,
  n,
  classes: 2,
  fractions: binRuns(
    runs,
    2,
    (i, cls) => {
      cls[0] = (runs.start[i]! / (4 * K)) % 2;
      return 1;
    },
    start,
    end,
    n,
  ),
});
const close = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 5);
};

describe('bins estimated from bins already computed', () => {
  it('zooming out over sets that cover the new range equals the exact bins', () => {
    const whole = exact(0, 1024 * K, 256);
    close(resampleBins([whole], 0, 1024 * K, 64, 2), exact(0, 1024 * K, 64).fractions);
  });

  it('zooming in takes each new bin from the finest set that covers it', () => {
    const coarse = exact(0, 1024 * K, 16);
    const fine = exact(256 * K, 512 * K, 64);
    const est = resampleBins([coarse, fine], 256 * K, 512 * K, 64, 2);
    close(est, fine.fractions);
    // Past the fine set, the coarse one fills in: a smeared picture, not a gap.
    const wider = resampleBins([coarse, fine], 0, 512 * K, 128, 2);
    expect(wider[0]! + wider[1]!).toBeCloseTo(1, 5);
  });

  it('a new bin half in a finer set takes the rest from a coarser one, and sums to its coverage', () => {
    const coarse = exact(0, 1024 * K, 4);
    const fine = exact(0, 128 * K, 32);
    const est = resampleBins([fine, coarse], 64 * K, 320 * K, 1, 2);
    expect(est[0]! + est[1]!).toBeCloseTo(1, 5);
  });

  it('what no set covers stays empty, and a set of other classes is not used', () => {
    const part = exact(0, 256 * K, 64);
    const est = resampleBins([part, { ...exact(0, 1024 * K, 4), classes: 3 } as BinSet], 0, 1024 * K, 4, 2);
    expect(est[0]! + est[1]!).toBeCloseTo(1, 5);
    expect(est.slice(2)).toEqual(new Float32Array(6));
  });

  it('the hole in the runs (no class) stays no class, as in the exact bins', () => {
    const whole = exact(0, 1024 * K, 1024);
    close(resampleBins([whole], 512 * K, 640 * K, 8, 2), exact(512 * K, 640 * K, 8).fractions);
  });
});
