import { describe, expect, it } from 'vitest';
import { openChainFromPath } from '../cli/openChain.ts';
import { closeChain } from '../core/chain/chain.ts';
import { chainStatus } from '../core/status/resolve.ts';
import { FIXTURES } from '../testing/fixtures.ts';
import { PARTIAL_INTERVAL_MS, partialPoster } from './partial.ts';

/** Opens a fixture with many L2 tables and counts partial calls, resolves and posts under a fake clock. */
async function run(clockStep: number) {
  const chain = await openChainFromPath(`${FIXTURES}/images/cluster-512/top.qcow2`, {});
  try {
    let t = 0;
    const posted: number[] = [];
    const poster = partialPoster(
      (s, end) => {
        expect(s.status.extents.count).toBeGreaterThan(0);
        posted.push(end);
      },
      { chain, rejected: [], unused: [] },
      () => (t += clockStep),
    );
    let calls = 0;
    let resolves = 0;
    const st = await chainStatus(chain, {
      onPartial: (status, end) => {
        calls++;
        poster(() => {
          resolves++;
          return status();
        }, end);
      },
    });
    return { calls, resolves, posted, length: st.length };
  } finally {
    await closeChain(chain);
  }
}

describe('partialPoster', () => {
  it('resolves the chain only for the parts it posts (not once per L2 table)', async () => {
    const r = await run(0);
    expect(r.calls).toBeGreaterThan(2); // 128 KiB at 512-byte clusters: 3 L2 tables
    expect(r.resolves).toBe(1);
    expect(r.posted).toHaveLength(1);
    expect(r.posted[0]).toBeLessThan(r.length);
  });

  it('posts again once PARTIAL_INTERVAL_MS has passed, never the final part', async () => {
    const r = await run(PARTIAL_INTERVAL_MS);
    expect(r.resolves).toBe(r.posted.length);
    expect(r.posted.length).toBe(r.calls - 1);
    expect(r.posted.every((end) => end < r.length)).toBe(true);
  });
});
