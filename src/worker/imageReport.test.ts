import { describe, expect, it } from 'vitest';
import { openChainFromPath } from '../cli/openChain.ts';
import { closeChain } from '../core/chain/chain.ts';
import { HOST_LEAKED } from '../core/hostmap/hostmap.ts';
import type { Qcow2Image } from '../core/qcow2/image.ts';
import { type ChainStatus, chainStatus } from '../core/status/resolve.ts';
import { FIXTURES } from '../testing/fixtures.ts';
import { AUTO_CHECK_BYTES, checkReadBytes, hostMapBins, imageReport } from './imageReport.ts';

/** The report reads the file again: the chain stays open while `f` runs. */
async function withStatus(name: string, f: (st: ChainStatus) => Promise<void>) {
  const chain = await openChainFromPath(`${FIXTURES}/images/${name}/top.qcow2`, {});
  try {
    await f(await chainStatus(chain));
  } finally {
    await closeChain(chain);
  }
}

describe('image report', () => {
  it('estimates the check from the L2 tables and the refcount table', async () => {
    // 128 KiB at 512-byte clusters: 3 L2 tables (64 entries each) and a one-cluster refcount table.
    await withStatus('cluster-512', async (st) => {
      const top = st.chain.layers[0] as Qcow2Image;
      expect(top.header.refcountTableClusters).toBe(1);
      expect(checkReadBytes(top)).toBe((3 + 1) * 512);
    });
  });

  it('checks on its own below the limit, and leaves a larger check for a click', async () => {
    await withStatus('refcount-leak', async (st) => {
      const { report: auto, checked } = await imageReport(st);
      expect(checkReadBytes(st.chain.layers[0] as Qcow2Image)).toBeLessThanOrEqual(AUTO_CHECK_BYTES);
      expect(auto.check?.leaks).toBeGreaterThan(0);
      expect(auto.checkDeferred).toBeUndefined();

      const { report: deferred, checked: none } = await imageReport(st, 'auto', 0);
      expect(deferred.check).toBeUndefined();
      expect(deferred.checkDeferred?.bytes).toBe(checkReadBytes(st.chain.layers[0] as Qcow2Image));
      expect(deferred.header).toEqual(auto.header);
      expect(none).toBeUndefined();
      // The host map marks what the check found leaked; without a check it still maps the file.
      const top = st.chain.layers[0] as Qcow2Image;
      const [withCheck] = await hostMapBins(top, st.layerStatus[0]!.extents, checked, undefined, 64);
      const [without] = await hostMapBins(top, st.layerStatus[0]!.extents, undefined, undefined, 64);
      expect(without!.clusters).toBe(withCheck!.clusters);
      expect(withCheck!.counts[HOST_LEAKED]).toBe(auto.check?.leaks);
      expect(without!.counts[HOST_LEAKED]).toBe(0);

      const { report: clicked } = await imageReport(st, 'always', 0);
      expect(clicked.check).toEqual(auto.check);
      expect(clicked.checkDeferred).toBeUndefined();
    });
  });

  it('a check says what it reads first, reports each table read, and stops when cancelled', async () => {
    await withStatus('chain-3', async (st) => {
      const seen: [number, number][] = [];
      const top = st.chain.layers[0] as Qcow2Image;
      await imageReport(st, 'always', 0, { onProgress: (d, t) => seen.push([d, t]) });
      expect(seen[0]).toEqual([0, checkReadBytes(top)]);
      // chain-3's top has one L2 table.
      expect(seen.at(-1)).toEqual([top.header.clusterSize, checkReadBytes(top)]);
      const ctl = new AbortController();
      ctl.abort();
      await expect(imageReport(st, 'always', 0, { signal: ctl.signal })).rejects.toThrow(/cancel/i);
    });
  });
});
