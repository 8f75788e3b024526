import { describe, expect, it } from 'vitest';
import { firstEndingAfter, runAt, runsEnd } from './runs.ts';

const runs = (pairs: [number, number][]) => ({
  count: pairs.length,
  start: Float64Array.from(pairs.map((p) => p[0])),
  length: Float64Array.from(pairs.map((p) => p[1])),
});

describe('runs', () => {
  // [0,10) [10,30) gap [40,50)
  const r = runs([
    [0, 10],
    [10, 20],
    [40, 10],
  ]);
  it('finds the first run ending after a position, across gaps', () => {
    expect([0, 9, 10, 29, 30, 35, 49, 50].map((p) => firstEndingAfter(r, p))).toEqual([
      0, 0, 1, 1, 2, 2, 2, 3,
    ]);
  });
  it('hit-tests a position: the run holding it, or -1 in a gap and past the end', () => {
    expect([0, 9, 10, 29, 30, 39, 40, 49, 50].map((p) => runAt(r, p))).toEqual([
      0, 0, 1, 1, -1, -1, 2, 2, -1,
    ]);
    expect(runAt(runs([]), 0)).toBe(-1);
  });
  it('ends where the last run ends', () => {
    expect(runsEnd(r)).toBe(50);
    expect(runsEnd(runs([]))).toBe(0);
  });
});
