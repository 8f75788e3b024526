import { describe, expect, it } from 'vitest';
import { layoutGrid } from '../state/grid.ts';
import { paintCells } from './draw.ts';

const K = 65536;

describe('paintCells', () => {
  for (const dpr of [1, 2, 1.5]) {
    it(`gives every device pixel its cell's colour and leaves the rest clear (devicePixelRatio ${dpr})`, () => {
      // 1 TiB in a 400 x 200 px box: small binned cells, the last row partly filled.
      const g = layoutGrid({
        width: 400,
        maxHeight: 200,
        start: 0,
        end: 2 ** 40 - 7 * K,
        clusterSize: K,
        subclusters: false,
      });
      expect(g.cellPx).toBe(4);
      const W = Math.round(g.width * dpr);
      const H = Math.round(g.height * dpr);
      const px = new Uint32Array(W * H).fill(0xdeadbeef);
      const asked: number[] = [];
      paintCells(px, W, H, g, (i) => {
        asked.push(i);
        return i + 1;
      });
      expect(asked).toEqual(Array.from({ length: g.cells }, (_, i) => i));
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          // The cell whose device-pixel box (rounded as drawn) holds this pixel.
          const col = Math.floor((x + 0.5) / (g.cellPx * dpr));
          const row = Math.floor((y + 0.5) / (g.cellPx * dpr));
          const i = row * g.cols + col;
          const want = col < g.cols && i < g.cells ? i + 1 : 0;
          if (px[y * W + x] !== want) throw new Error(`pixel ${x},${y}: ${px[y * W + x]} != ${want}`);
        }
      }
    });
  }
});
