import { describe, expect, it } from 'vitest';
import { AsciiWriter } from './asciiWriter.ts';

const text = (n: number) => new TextDecoder().decode(new AsciiWriter(4).uint(n).result());

describe('AsciiWriter.uint', () => {
  it('prints every digit count and the 10^8 boundaries exactly', () => {
    const edges = [0, 1, 9, 10, 99, 100, 101, 999, 1000, 65536, 99_999_999, 1e8, 1e8 + 1, 1e8 + 10];
    for (let p = 1; p <= 15; p++) edges.push(10 ** p - 1, 10 ** p, 10 ** p + 7);
    edges.push(2 ** 31, 2 ** 32, 2 ** 40 - 512, 2 ** 53 - 1, 2 ** 53, 2 ** 56 - 512, 2 ** 63);
    for (const n of edges) expect(text(n), String(n)).toBe(BigInt(n).toString());
  });

  it('prints multiples of 512 up to 2^53 and integers just below multiples of 10^8 exactly', () => {
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const w = new AsciiWriter(16);
    const want: string[] = [];
    for (let i = 0; i < 20000; i++) {
      const n =
        i % 2
          ? Math.floor(rand() * 2 ** 44) * 512
          : Math.floor(rand() * Math.floor(Number.MAX_SAFE_INTEGER / 1e8)) * 1e8 - 1 - (i % 3);
      const m = Math.max(0, n);
      w.uint(m).bytes(new Uint8Array([44]));
      want.push(BigInt(m).toString());
    }
    expect(new TextDecoder().decode(w.result())).toBe(`${want.join(',')},`);
  });
});
