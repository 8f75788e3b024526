import { describe, expect, it } from 'vitest';
import { type LaneRuns, laneSpansAt, MAX_SPAN_RUNS, rasterLanes } from './lanes.ts';

const lane = (runs: [number, number, number][]): LaneRuns => ({
  runs: {
    count: runs.length,
    start: Float64Array.from(runs, (r) => r[0]),
    length: Float64Array.from(runs, (r) => r[1]),
  },
  classOf: (i) => runs[i]![2],
});

describe('lane spans', () => {
  it('grow a run over touching runs of its class, and stop at a gap or another class', () => {
    const l = lane([
      [0, 10, 1],
      [10, 10, 1],
      [20, 5, 2],
      [25, 5, 1],
      [40, 10, 1],
    ]);
    expect(laneSpansAt([l], 12)).toEqual([{ start: 0, end: 20, cls: 1, cut: false }]);
    expect(laneSpansAt([l], 27)).toEqual([{ start: 25, end: 30, cls: 1, cut: false }]);
    expect(laneSpansAt([l], 22)).toEqual([{ start: 20, end: 25, cls: 2, cut: false }]);
  });

  it('are null in a gap, past the end, in a lane with nothing, or a run of no class', () => {
    const l = lane([
      [0, 10, 1],
      [20, 10, -1],
    ]);
    expect(laneSpansAt([l, undefined], 15)).toEqual([null, null]);
    expect(laneSpansAt([l], 25)).toEqual([null]);
    expect(laneSpansAt([l], 99)).toEqual([null]);
  });

  it('say when a run of many pieces was cut short, and still hold the offset', () => {
    const n = 3 * MAX_SPAN_RUNS;
    const l = lane(Array.from({ length: n }, (_, i) => [i * 512, 512, 0] as [number, number, number]));
    const [s] = laneSpansAt([l], (n / 2) * 512);
    expect(s!.cut).toBe(true);
    expect(s!.start).toBeLessThanOrEqual((n / 2) * 512);
    expect(s!.end).toBeGreaterThan((n / 2) * 512);
    expect(s!.end - s!.start).toBe((2 * MAX_SPAN_RUNS + 1) * 512);
  });

  it('match the raster: the span is exactly the pixels of its class', async () => {
    const l = lane([
      [0, 256, 1],
      [256, 256, 1],
      [512, 512, 0],
    ]);
    const f = await rasterLanes([l], 2, 0, 1024, 4);
    const [s] = laneSpansAt([l], 100);
    const px = [0, 1, 2, 3].filter((p) => f[p * 2 + 1]! > 0);
    expect([s!.start / 256, s!.end / 256]).toEqual([px[0], px.at(-1)! + 1]);
  });
});
