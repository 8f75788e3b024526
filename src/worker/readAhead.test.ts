import { describe, expect, it } from 'vitest';
import { ReadAhead } from './readAhead.ts';

describe('ReadAhead', () => {
  it('keeps the next planned reads in flight and serves them once', async () => {
    const calls: number[] = [];
    const read = async (o: number, n: number) => {
      calls.push(o);
      return new Uint8Array(n).fill(o / 100);
    };
    const ra = new ReadAhead(read, [100, 500, 300, 900], 4, 2);
    expect(ra.take(100, 4)).toBeUndefined(); // not yet in flight: the caller reads it itself
    expect(calls).toEqual([500, 300]);
    expect([...(await ra.take(500, 4))!]).toEqual([5, 5, 5, 5]);
    expect(calls).toEqual([500, 300, 900]);
    expect(ra.take(500, 4)).toBeUndefined(); // served once
    expect(ra.take(300, 8)).toBeUndefined(); // a different length is not the planned read
    expect(ra.take(42, 4)).toBeUndefined();
  });
});
