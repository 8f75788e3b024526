import { describe, expect, it } from 'vitest';
import { layoutGrid } from '../../state/grid.ts';
import { hexToRgb } from '../palette.ts';
import { drawDiff } from './diffDraw.ts';
import { DIFF_PALETTES } from './diffPalette.ts';

/** Just what drawDiff's pixel path touches of a 2D context. */
function fakeContext(width: number, height: number) {
  let put: ImageData | undefined;
  const ctx = {
    canvas: { width, height },
    clearRect() {},
    createImageData: (w: number, h: number) => ({
      width: w,
      height: h,
      data: new Uint8ClampedArray(w * h * 4),
    }),
    putImageData(img: ImageData) {
      put = img;
    },
  };
  return {
    ctx: ctx as unknown as CanvasRenderingContext2D,
    pixel: (x: number, y: number) => [...put!.data.slice((y * width + x) * 4, (y * width + x) * 4 + 3)],
  };
}

describe('drawDiff, zoomed out (one colour per small cell)', () => {
  it('a difference of any share colours its cell; agreement is grey; past both ends is empty', () => {
    const p = DIFF_PALETTES.light;
    // 1 TiB in 4-pixel cells: binned, small.
    const grid = layoutGrid({
      width: 40,
      maxHeight: 8,
      start: 0,
      end: 2 ** 40,
      clusterSize: 65536,
      subclusters: false,
    });
    expect(grid.cellPx).toBe(4);
    const classes = 2;
    const fr = new Float32Array(grid.cells * classes);
    for (let i = 0; i < grid.cells; i++) fr[i * classes] = 1;
    fr[1 * classes] = 1 - 1e-6;
    fr[1 * classes + 1] = 1e-6; // one cluster of a huge cell differs
    fr[2 * classes] = 0; // nothing here
    const { ctx, pixel } = fakeContext(grid.width, grid.height);
    drawDiff(ctx, { grid, fractions: fr, classes, palette: p, current: undefined });
    expect(pixel(1, 1)).toEqual(hexToRgb(p.agree));
    expect(pixel(5, 1)).toEqual(hexToRgb(p.kinds[0]!));
    expect(pixel(9, 1)).toEqual(hexToRgb(p.empty));
  });
});
