/**
 * The table reader: coalesced, bounded reads of cluster-sized tables in scan order, with
 * read-ahead and cancellation. Sources are in memory and count their requests.
 */
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../cancel.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { MAX_READ_BYTES } from '../limits.ts';
import { TableReader } from './tableReader.ts';

const T = 64 * 1024;

/** A source whose byte at offset o is (o / T) & 255, recording each request. */
class Recording implements ByteSource {
  readonly name = 'mem.qcow2';
  readonly requests: [number, number][] = [];
  constructor(
    readonly size: number,
    readonly coalesceGap: number,
    readonly prefetchGroups: number,
  ) {}
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.requests.push([offset, length]);
    const end = Math.min(this.size, offset + length);
    const out = new Uint8Array(Math.max(0, end - offset));
    for (let i = 0; i < out.length; i++) out[i] = Math.floor((offset + i) / T) & 255;
    return out;
  }
}

describe('TableReader', () => {
  it('reads neighbouring tables in one request and far ones separately', async () => {
    const src = new Recording(64 * T, 2 * T, 0);
    const offsets = [1 * T, 2 * T, 4 * T, 40 * T];
    const r = new TableReader(src, offsets, T);
    for (const o of offsets) expect((await r.table(o))[0]).toBe(o / T);
    expect(src.requests).toEqual([
      [1 * T, 4 * T],
      [40 * T, T],
    ]);
  });

  it('hands tables out in scan order whatever their file order', async () => {
    const src = new Recording(16 * T, 0, 0);
    const offsets = [9 * T, 3 * T, 9 * T, 5 * T];
    const r = new TableReader(src, offsets, T);
    const got = [];
    for (const o of offsets) got.push((await r.table(o))[7]);
    expect(got).toEqual([9, 3, 9, 5]);
  });

  it('answers a table at or past EOF with the shared zero table and no read; pads one that straddles EOF', async () => {
    const src = new Recording(4 * T + 100, 0, 0);
    const r = new TableReader(src, [4 * T, 8 * T, Number.POSITIVE_INFINITY], T);
    const straddling = await r.table(4 * T);
    expect(straddling.length).toBe(T);
    expect(straddling[99]).toBe(4);
    expect(straddling[100]).toBe(0);
    expect(await r.table(8 * T)).toBe(r.zeroTable);
    expect(await r.table(Number.POSITIVE_INFINITY)).toBe(r.zeroTable);
    expect(src.requests).toEqual([[4 * T, T]]);
  });

  it('never reads more than MAX_READ_BYTES in one request', async () => {
    const n = (2 * MAX_READ_BYTES) / T + 3;
    const src = new Recording(n * T, T, 0);
    const offsets = Array.from({ length: n }, (_, i) => i * T);
    const r = new TableReader(src, offsets, T);
    for (const o of offsets) await r.table(o);
    expect(Math.max(...src.requests.map(([, l]) => l))).toBeLessThanOrEqual(MAX_READ_BYTES);
    expect(src.requests.reduce((a, [, l]) => a + l, 0)).toBe(n * T);
  });

  it('starts the next groups while the scan decodes the first (read-ahead window)', async () => {
    const src = new Recording(64 * T, 0, 8);
    const offsets = Array.from({ length: 20 }, (_, i) => i * 3 * T);
    const r = new TableReader(src, offsets, T);
    await r.table(offsets[0]!);
    await Promise.resolve();
    await Promise.resolve();
    expect(src.requests.length).toBeGreaterThan(1);
    expect(src.requests.length).toBeLessThanOrEqual(1 + 8);
  });

  it('stops with CancelledError once the scan is cancelled', async () => {
    const src = new Recording(8 * T, 0, 0);
    const signal = { aborted: false };
    const r = new TableReader(src, [0, 4 * T], T, { signal });
    await r.table(0);
    signal.aborted = true;
    await expect(r.table(4 * T)).rejects.toBeInstanceOf(CancelledError);
  });
});
