/**
 * compare reads guest data only where block status says it must (img_compare()): the pair
 * a.qcow2 / a-realloc.qcow2 of fixtures/images/compare, which qemu-img 7.2 calls identical
 * (golden/compare/a.qcow2--a-realloc.qcow2.txt).
 */
import { describe, expect, it } from 'vitest';
import { openFixtureChain } from '../../testing/fixtureChain.ts';
import { golden } from '../../testing/fixtures.ts';
import { CancelledError } from '../cancel.ts';
import { chainStatus } from '../status/resolve.ts';
import { compareImages, compareReport, differingRanges, planCompare } from './compare.ts';

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

describe('planCompare: what listing every difference reads, said before reading', () => {
  const pairs: [string, string][] = [
    ['a.qcow2', 'a-realloc.qcow2'],
    ['a.qcow2', 'a-byte.qcow2'],
    ['a.qcow2', 'long-data.qcow2'],
    ['top.qcow2', 'committed.qcow2'],
    ['compressed.qcow2', 'extl2.qcow2'],
  ];
  it.each(pairs)(
    '%s / %s: the plan equals the bytes differingRanges reads, with progress to the end',
    async (x, y) => {
      const a = await chainStatus(await openFixtureChain('compare', x));
      const b = await chainStatus(await openFixtureChain('compare', y));
      const plan = await planCompare(a, b);
      const seen: number[] = [];
      const r = await differingRanges(a, b, { onRead: (n) => seen.push(n) });
      expect(plan.bytes).toEqual(r.bytesRead);
      expect(seen.at(-1) ?? 0).toBe(r.bytesRead[0] + r.bytesRead[1]);
      for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
      // The first differing range starts in the sector qemu-img compare names.
      const first = compareReport(await compareImages(a, b)).lines.find((l) =>
        l.startsWith('Content mismatch'),
      );
      if (first) expect(first).toBe(`Content mismatch at offset ${r.start[0]! - (r.start[0]! % 512)}!`);
      else expect(r.count).toBe(0);
    },
  );

  it('stops when its signal is aborted', async () => {
    const a = await chainStatus(await openFixtureChain('compare', 'a.qcow2'));
    const b = await chainStatus(await openFixtureChain('compare', 'a-byte.qcow2'));
    await expect(differingRanges(a, b, { signal: { aborted: true } })).rejects.toBeInstanceOf(CancelledError);
  });
});
