import { describe, expect, it } from 'vitest';
import type { Interpreted } from '../interpret/interpretation.ts';
import { decodeLinkMap, encodeLinkMap, fromBase64Url, LinkMapError, toBase64Url } from './mapCodec.ts';

const K = 65536;
const extents = (runs: [number, number][]): Interpreted => {
  const n = runs.length;
  const start = new Float64Array(n);
  let pos = 0;
  runs.forEach(([l], i) => {
    start[i] = pos;
    pos += l;
  });
  return {
    count: n,
    start,
    length: Float64Array.from(runs.map((r) => r[0])),
    value: Uint32Array.from(runs.map((r) => r[1])),
    host: new Float64Array(n).fill(-1),
    layer: new Uint16Array(n),
  };
};

describe('link map codec', () => {
  it('round-trips extents of several interpretations, without host offsets', () => {
    const map = {
      length: 8 * K + 512,
      layerCount: 3,
      maps: [
        {
          id: 'qemu-img-map@10.2',
          extents: extents([
            [K, 6],
            [3 * K, 0x105],
            [4 * K + 512, 2],
          ]),
        },
        { id: 'nbd-allocation-depth', extents: extents([[8 * K + 512, 1]]) },
      ],
    };
    const text = encodeLinkMap(map);
    expect(text).toMatch(/^[\w-]+$/);
    const back = decodeLinkMap(text);
    expect(back.length).toBe(map.length);
    expect(back.layerCount).toBe(3);
    expect(back.maps.map((m) => m.id)).toEqual(['qemu-img-map@10.2', 'nbd-allocation-depth']);
    expect([...back.maps[0]!.extents.start]).toEqual([0, K, 4 * K]);
    expect([...back.maps[0]!.extents.value]).toEqual([6, 0x105, 2]);
    expect([...back.maps[0]!.extents.length]).toEqual([K, 3 * K, 4 * K + 512]);
  });
  it('a 1 TiB map of 100 000 alternating extents stays small', () => {
    const runs: [number, number][] = [];
    for (let i = 0; i < 100_000; i++) runs.push([K, i % 2 ? 5 : 6]);
    const text = encodeLinkMap({
      length: 100_000 * K,
      layerCount: 1,
      maps: [{ id: 'x', extents: extents(runs) }],
    });
    expect(text.length).toBeLessThan(2000);
  });
  it('refuses truncated, foreign and oversized payloads with a LinkMapError', () => {
    const good = encodeLinkMap({ length: K, layerCount: 1, maps: [{ id: 'x', extents: extents([[K, 1]]) }] });
    expect(() => decodeLinkMap(good.slice(0, good.length - 3))).toThrow(LinkMapError);
    expect(() => decodeLinkMap('!!!')).toThrow(LinkMapError);
    expect(() => decodeLinkMap(toBase64Url(new Uint8Array([1, 2, 3])))).toThrow(LinkMapError);
    expect(() => decodeLinkMap('A'.repeat(40000))).toThrow(/longer than/);
  });
  it('base64url round-trips every tail length', () => {
    for (let n = 0; n < 7; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 200) & 255);
      expect([...fromBase64Url(toBase64Url(b))]).toEqual([...b]);
    }
  });
});
