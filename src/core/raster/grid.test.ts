import { describe, expect, it } from 'vitest';
import { cellAt, cellStart, layoutGrid, offsetAt } from './grid.ts';

const K = 65536;

describe('heatmap grid', () => {
  it('gives one large cell per cluster for a small image', () => {
    const g = layoutGrid({
      width: 1000,
      maxHeight: 400,
      start: 0,
      end: 4 * K,
      clusterSize: K,
      subclusters: false,
    });
    expect(g).toMatchObject({ bytesPerCell: K, cells: 4, cols: 4, rows: 1, cellPx: 128 });
    expect(cellStart(g, cellAt(g, 128 + 10, 10))).toBe(K);
  });

  it('bins whole clusters when there are more clusters than cells, never more cells than pixels', () => {
    const g = layoutGrid({
      width: 800,
      maxHeight: 400,
      start: 0,
      end: 2 ** 40,
      clusterSize: K,
      subclusters: false,
    });
    expect(g.cells).toBeLessThanOrEqual((800 / 4) * (400 / 4));
    expect(g.bytesPerCell % K).toBe(0);
    expect(g.cells * g.bytesPerCell).toBeGreaterThanOrEqual(2 ** 40);
    expect(g.height).toBeLessThanOrEqual(400);
  });

  it('fits one cell per cluster into the height', () => {
    const g = layoutGrid({
      width: 390,
      maxHeight: 300,
      start: 0,
      end: 2000 * K,
      clusterSize: K,
      subclusters: false,
    });
    expect(g.bytesPerCell).toBe(K);
    expect(g.height).toBeLessThanOrEqual(300);
  });

  it('shows 32 subclusters per cell only at full zoom on extended L2 images', () => {
    const g = layoutGrid({
      width: 1000,
      maxHeight: 400,
      start: 0,
      end: 8 * K,
      clusterSize: K,
      subclusters: true,
    });
    expect(g.subPerCell).toBe(32);
  });

  it('finds the subcluster under a point as drawn (8 columns x 4 rows, gap excluded)', () => {
    const g = layoutGrid({
      width: 1000,
      maxHeight: 400,
      start: 0,
      end: 8 * K,
      clusterSize: K,
      subclusters: true,
    });
    const sub = K / 32;
    const s = g.cellPx - 1;
    // Cell 1, subcluster 8 (row 1, column 0) and 31 (row 3, column 7); the gap pixel counts as the last column/row.
    expect(offsetAt(g, g.cellPx + 1, (s * 1.5) / 4)).toBe(K + 8 * sub);
    expect(offsetAt(g, g.cellPx + s - 1, s - 1)).toBe(K + 31 * sub);
    expect(offsetAt(g, 2 * g.cellPx - 1, g.cellPx - 1)).toBe(K + 31 * sub);
    expect(offsetAt(g, (s * 4.5) / 8, 0)).toBe(4 * sub);
    expect(offsetAt(g, -1, 0)).toBe(-1);
    const plain = layoutGrid({
      width: 1000,
      maxHeight: 400,
      start: 0,
      end: 4 * K,
      clusterSize: K,
      subclusters: false,
    });
    expect(offsetAt(plain, 128 + 100, 100)).toBe(K);
  });
});
