import { describe, expect, it } from 'vitest';
import type { Interpreted } from './interpretation.ts';
import { presentLegend } from './interpretation.ts';
import { allocationDepth } from './nbd.ts';

const held = (values: number[]): Interpreted => ({
  count: values.length,
  start: Float64Array.from(values, (_, i) => i * 512),
  length: new Float64Array(values.length).fill(512),
  value: Uint32Array.from(values),
  host: new Float64Array(values.length).fill(-1),
  layer: new Uint16Array(values.length),
});

describe('presentLegend', () => {
  it('adds every value a side holds past its legend, labelled, in order', () => {
    const l = presentLegend(allocationDepth, held([0, 5, 1, 3, 5]));
    expect(l.map((e) => e.value)).toEqual([...allocationDepth.legend.map((e) => e.value), 3, 5]);
    expect(l.at(-1)!.label).toBe('backing depth 5');
  });
  it('is the legend itself when nothing is missing', () => {
    expect(presentLegend(allocationDepth, held([0, 1]))).toEqual(allocationDepth.legend);
  });
});
