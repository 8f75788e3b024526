/**
 * compare reads guest data only where block status says it must (img_compare()): the pair
 * a.qcow2 / a-realloc.qcow2 of fixtures/images/compare, which qemu-img 7.2 calls identical
 * (golden/compare/a.qcow2--a-realloc.qcow2.txt).
 */
import { describe, expect, it } from 'vitest';
import { openFixtureChain } from '../../testing/fixtureChain.ts';
import { golden } from '../../testing/fixtures.ts';
import { chainStatus } from '../status/resolve.ts';
import { compareImages, compareReport, differingRanges } from './compare.ts';

describe('compareImages', () => {
  it('reads neither side where both are ZERO, and only the allocated side where one is', async () => {
    const a = await chainStatus(await openFixtureChain('compare', 'a.qcow2'));
    const b = await chainStatus(await openFixtureChain('compare', 'a-realloc.qcow2'));
    const r = await compareImages(a, b);
    expect(
      compareReport(r)
        .lines.map((l) => `${l}\n`)
        .join(''),
    ).toBe(golden('compare', 'a.qcow2--a-realloc.qcow2.txt'));
    // a: data [0,32K) and [128K,144K), zero [192K,208K); a-realloc: data [0,32K), [128K,144K),
    // zeros as data [160K,176K), zero [32K,48K). Read: [0,32K) and [128K,144K) on both sides,
    // [160K,176K) on a-realloc only; the rest of the 256K is ZERO on both.
    expect(r.bytesRead).toEqual([48 * 1024, 64 * 1024]);
    expect((await differingRanges(a, b)).count).toBe(0);
  });
});
