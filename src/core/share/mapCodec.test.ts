import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { Interpreted } from '../interpret/interpretation.ts';
import {
  decodeLinkMap,
  encodeLinkMap,
  fromBase64Url,
  LinkMapError,
  MAX_LINK_MAP_CHARS,
  MAX_LINK_MAP_INFLATED,
  MAX_MAP_FILE_MAP_CHARS,
  toBase64Url,
} from './mapCodec.ts';

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
  it("round-trips extents of several interpretations, without host offsets; older ids read as today's", () => {
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
    // A link of URL format 2 named qemu-img map 10.2 "qemu-img-map@10.2": its field set is 8.2's.
    expect(back.maps.map((m) => m.id)).toEqual(['qemu-img-map-8.2', 'nbd-allocation-depth']);
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
  it("carries a diff side's INTERP@VIEW id, snapshot names with spaces and non-ASCII included", () => {
    const ids = [
      'nbd-base-allocation-5.2@backing-null,zero-scan',
      'qemu-img-map-7.2@snapshot:vor dem Update ü',
    ];
    const text = encodeLinkMap({
      length: K,
      layerCount: 1,
      maps: ids.map((id) => ({ id, extents: extents([[K, 1]]) })),
    });
    expect(decodeLinkMap(text).maps.map((m) => m.id)).toEqual(ids);
    const control = encodeLinkMap({
      length: K,
      layerCount: 1,
      maps: [{ id: 'a\u0007b', extents: extents([[K, 1]]) }],
    });
    expect(() => decodeLinkMap(control)).toThrow(/malformed/);
  });
  it('a map file may hold a map longer than a link, within its own cap', () => {
    const runs: [number, number][] = [];
    // Irregular runs (xorshift32), so deflate cannot shrink them below a link's limit.
    for (let i = 0, x = 1; i < 100_000; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      runs.push([K * (1 + ((x >>> 0) % 16)), i % 2]);
    }
    const length = runs.reduce((n, r) => n + r[0], 0);
    const text = encodeLinkMap({ length, layerCount: 1, maps: [{ id: 'x', extents: extents(runs) }] });
    expect(text.length).toBeGreaterThan(MAX_LINK_MAP_CHARS);
    expect(() => decodeLinkMap(text)).toThrow(/longer than/);
    expect(decodeLinkMap(text, MAX_MAP_FILE_MAP_CHARS).maps[0]!.extents.count).toBe(100_000);
  });
  it('base64url round-trips every tail length', () => {
    for (let n = 0; n < 7; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 200) & 255);
      expect([...fromBase64Url(toBase64Url(b))]).toEqual([...b]);
    }
  });
});

/** A payload whose inflated bytes are `raw`, as a link carries it. */
const payload = (raw: Uint8Array): string => toBase64Url(deflateSync(raw, { level: 9 }));

/** The bytes of a valid one-map link (its trailing bytes make the decoder refuse it). */
const validRaw = (extra: number): Uint8Array => {
  // "CSM" v1, length 1 (x 512 units: shift 9), 1 layer, 1 map "x", shift 9, 1 extent of 1, value 0.
  const head = [0x43, 0x53, 0x4d, 1, 0x80, 0x04, 1, 1, 1, 0x78, 9, 1, 1, 0];
  const b = new Uint8Array(head.length + extra);
  b.set(head);
  return b;
};

describe('hostile link maps', () => {
  it('a deflate bomb stops at MAX_LINK_MAP_INFLATED at once (it kept fflate busy for 233 s)', () => {
    const bomb = payload(new Uint8Array(256 * 1024 * 1024)); // 256 MiB of zeros: ~250 KiB deflated
    const t0 = performance.now();
    expect(() => decodeLinkMap(bomb, MAX_MAP_FILE_MAP_CHARS)).toThrow(
      /expands past 8388608 bytes \(MAX_LINK_MAP_INFLATED\)/,
    );
    expect(performance.now() - t0).toBeLessThan(3000);
  });
  it('inflated bytes just under MAX_LINK_MAP_INFLATED are read; one byte more is refused', () => {
    const under = payload(validRaw(MAX_LINK_MAP_INFLATED - validRaw(0).length));
    expect(() => decodeLinkMap(under, MAX_MAP_FILE_MAP_CHARS)).toThrow(/trailing bytes/);
    expect(decodeLinkMap(payload(validRaw(0))).length).toBe(512);
    const over = payload(validRaw(MAX_LINK_MAP_INFLATED - validRaw(0).length + 1));
    expect(() => decodeLinkMap(over, MAX_MAP_FILE_MAP_CHARS)).toThrow(/expands past/);
  });
  it('an empty link map is empty (it said "expands too far")', () => {
    expect(() => decodeLinkMap('')).toThrow(/the map in the link is empty/);
    expect(() => decodeLinkMap(payload(new Uint8Array(0)))).toThrow(/the map in the link is empty/);
  });
  it('a count the bytes cannot hold is cut short before arrays of its size are made', () => {
    const raw = validRaw(0);
    raw[11] = 0xff; // count: 0xff 0xff 0x3f = 1 M extents, with 2 bytes left
    const b = new Uint8Array([...raw.subarray(0, 12), 0xff, 0x3f, 1, 0]);
    expect(() => decodeLinkMap(payload(b))).toThrow(/cut short/);
  });
  it('values an interpretation never has: a depth past the chain, a base:allocation value past 3', () => {
    const enc = (id: string, value: number, layerCount = 2) =>
      encodeLinkMap({ length: K, layerCount, maps: [{ id, extents: extents([[K, value]]) }] });
    expect(decodeLinkMap(enc('qemu-img-map-7.2', (1 << 8) | 5)).maps[0]!.extents.value[0]).toBe(0x105);
    expect(() => decodeLinkMap(enc('qemu-img-map-7.2', (65535 << 8) | 5))).toThrow(
      /gives qemu-img-map-7.2 the value 16776965, which it never has in a chain of 2 layers/,
    );
    expect(() => decodeLinkMap(enc('nbd-base-allocation-6.0@backing-null', 7))).toThrow(/never has/);
    expect(() => decodeLinkMap(enc('nbd-allocation-depth', 3))).toThrow(/never has/);
    expect(() => decodeLinkMap(enc('x', 1, 300))).toThrow(/too many layers/);
  });
  it('sizes past 2^53 are exact (a 64 PiB map round-trips); an inexact number is refused', () => {
    const P = 2 ** 50;
    const big = encodeLinkMap({
      length: 64 * P,
      layerCount: 1,
      maps: [
        {
          id: 'qemu-img-map-7.2',
          extents: extents([
            [2 ** 21, 5],
            [64 * P - 2 ** 21, 2],
          ]),
        },
      ],
    });
    const back = decodeLinkMap(big);
    expect(back.length).toBe(64 * P);
    expect([...back.maps[0]!.extents.length]).toEqual([2 ** 21, 64 * P - 2 ** 21]);
    // length 2^53 + 1 (LEB128 of 9007199254740993), inexact in a double.
    const raw = validRaw(0);
    const leb = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10];
    const b = new Uint8Array([...raw.subarray(0, 4), ...leb, ...raw.subarray(6)]);
    expect(() => decodeLinkMap(payload(b))).toThrow(/not exact/);
  });
});
