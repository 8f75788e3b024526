import { describe, expect, it } from 'vitest';
import type { RowsPage } from '../protocol/results.ts';
import { keepNear, PAGES_KEPT } from './RowsTable.tsx';

const page = (from: number): RowsPage => ({
  total: 1e7,
  from,
  columns: [],
  start: new Float64Array(0),
  length: new Float64Array(0),
  klass: new Int32Array(0),
  cells: [],
  truncated: false,
});

describe('RowsTable pages kept (PAGES_KEPT)', () => {
  it('keeps the pages within PAGES_KEPT / 2 of the one just loaded, drops those beyond', () => {
    let pages = new Map<number, RowsPage>();
    // Scrolling down through 1000 pages, one at a time: never more than PAGES_KEPT + 1 kept.
    for (let pg = 0; pg < 1000; pg++) {
      pages = keepNear(pages, pg, page(pg * 100));
      expect(pages.size).toBeLessThanOrEqual(PAGES_KEPT / 2 + 1);
    }
    const at = 500;
    const around = new Map(
      [...Array(PAGES_KEPT + 3).keys()].map((k) => [at - PAGES_KEPT / 2 - 1 + k, page(0)]),
    );
    const kept = keepNear(around, at, page(at * 100));
    // Just under: PAGES_KEPT / 2 away on either side stays; just over: one more away goes.
    expect(kept.has(at - PAGES_KEPT / 2)).toBe(true);
    expect(kept.has(at + PAGES_KEPT / 2)).toBe(true);
    expect(kept.has(at - PAGES_KEPT / 2 - 1)).toBe(false);
    expect(kept.has(at + PAGES_KEPT / 2 + 1)).toBe(false);
    expect(kept.size).toBe(PAGES_KEPT + 1);
  });
});
