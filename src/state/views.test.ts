import { describe, expect, it } from 'vitest';
import type { ChainInfo } from '../protocol/source.ts';
import { chainInfo } from '../testing/chainInfo.ts';
import { pacedSourceKey, REASK_GROWTH } from './views.ts';

describe('pacedSourceKey: what walks the whole map is asked again as an open grows', () => {
  it('changes a logarithmic number of times over an open, then once more when it completes', () => {
    const length = 16 * 2 ** 40;
    const keys = new Set<string>();
    // A partial map every 1/1000 of the image, as an open posts them.
    for (let k = 1; k <= 1000; k++) {
      const partial: ChainInfo = {
        ...chainInfo(length, { id: 7 }),
        complete: false,
        mappedEnd: (k * length) / 1000,
      };
      keys.add(pacedSourceKey(partial));
    }
    // From 1/1000 of the image to all of it: log(1000) / log(1.5) ~ 17 asks, not 1000.
    expect(keys.size).toBeLessThanOrEqual(Math.ceil(Math.log(1000) / Math.log(REASK_GROWTH)) + 1);
    expect(keys.size).toBeGreaterThan(5);
    const done = pacedSourceKey(chainInfo(length, { id: 7 }));
    expect(keys.has(done)).toBe(false);
  });
});
