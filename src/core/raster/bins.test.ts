import { describe, expect, it } from 'vitest';
import { Binner, binRuns } from './bins.ts';

/** A classifier putting every run in the given classes (run i in classesOf(i)). */
const into =
  (classesOf: (i: number) => readonly number[]) =>
  (i: number, cls: Int32Array): number => {
    const c = classesOf(i);
    cls.set(c);
    return c.length;
  };

const runs = (pairs: [number, number][]) => ({
  count: pairs.length,
  start: Float64Array.from(pairs.map((p) => p[0])),
  length: Float64Array.from(pairs.map((p) => p[1])),
});

describe('the one raster', () => {
  it('bins each run as its share of every bin it overlaps, in its classes', () => {
    // [0,10) class 0, [10,30) classes 0 and 1, nothing in [30,40).
    const r = runs([
      [0, 10],
      [10, 20],
    ]);
    const f = binRuns(
      r,
      2,
      into((i) => (i === 0 ? [0] : [0, 1])),
      0,
      40,
      4,
    );
    expect([...f]).toEqual([1, 0, 1, 1, 1, 1, 0, 0]);
  });

  it('a run far smaller than a bin still counts (one cluster in a TiB)', () => {
    const T = 2 ** 40;
    const r = runs([[T / 2, 65536]]);
    const f = binRuns(
      r,
      1,
      into(() => [0]),
      0,
      T,
      7,
    );
    expect(f[3]).toBeCloseTo(65536 / (T / 7), 12);
    expect([...f].filter((x) => x > 0)).toHaveLength(1);
  });

  it('adds ranges that are not runs (the unreadable tail of a map)', () => {
    const b = new Binner(0, 100, 2, 1);
    b.add(75, 200, Int32Array.of(0), 1);
    expect([...b.fractions]).toEqual([0, 0.5]);
  });

  it('asks nothing of runs outside the range', () => {
    const seen: number[] = [];
    const r = runs([
      [0, 10],
      [10, 10],
      [20, 10],
      [30, 10],
    ]);
    binRuns(
      r,
      1,
      into((i) => {
        seen.push(i);
        return [0];
      }),
      12,
      25,
      3,
    );
    expect(seen).toEqual([1, 2]);
  });
});
