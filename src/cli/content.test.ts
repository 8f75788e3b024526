/**
 * Reading guest content through the engine equals `qemu-img convert -O raw` of the same image
 * (fixtures/golden/<case>/read.sha256). This pins the L1/L2 walk, subclusters, zero clusters,
 * backing reads and the compressed-cluster descriptor math (offset and sector-count bits for
 * each cluster size, deflate and zstd) against QEMU's own reading.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readGuest } from '../core/read/guestRead.ts';
import { chainStatus } from '../core/status/resolve.ts';
import { allCases, golden, imagePath } from '../testing/fixtures.ts';
import { NodeFileSource } from './nodeSource.ts';
import { openChainFromPath, pathCombine } from './openChain.ts';

const cases = allCases().filter(
  (c) => c.error === null && golden(c, 'read.sha256') !== undefined && !c.covers.includes('luks'),
);

describe('guest content equals qemu-img convert -O raw', () => {
  it.each(cases)('$name', async (c) => {
    const chain = await openChainFromPath(imagePath(c));
    const st = await chainStatus(chain);
    const dataFiles = new Map<number, NodeFileSource>();
    for (const [i, l] of chain.layers.entries()) {
      if (l.format === 'qcow2' && l.dataFileName !== undefined) {
        dataFiles.set(i, await NodeFileSource.open(pathCombine(imagePath(c), l.dataFileName)));
      }
    }
    const hash = createHash('sha256');
    const step = 8 * 1024 * 1024;
    for (let off = 0; off < st.length; off += step) {
      hash.update(await readGuest(st, off, Math.min(step, st.length - off), { dataFiles }));
    }
    expect(hash.digest('hex')).toBe(golden(c, 'read.sha256')!.trim());
  });
});
