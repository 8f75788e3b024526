/**
 * "Reads as zero" over a zero-scanned status. QEMU prints no such view; where it can be checked,
 * it is against QEMU's answer on a host-sparse file, whose holes are exactly the zero blocks
 * (reference §3.5: `"zero": true, "data": true`, fixtures/golden/prealloc-metadata/map.sparse.json).
 */
import { describe, expect, it } from 'vitest';
import { openFixtureChain } from '../../testing/fixtureChain.ts';
import { allCases, golden } from '../../testing/fixtures.ts';
import { fixtureStatus } from '../../testing/openFixture.ts';
import type { Interpreted } from './interpretation.ts';
import {
  CONTENT_NONZERO,
  CONTENT_NOT_READ,
  CONTENT_ZERO,
  CONTENT_ZERO_SCANNED,
  readsAsZero,
} from './readsAsZero.ts';
import { viewStatus } from './viewSource.ts';

/** fixtureStatus() closes its files; the scan reads data, so open through FileSource (reads on demand). */
const scanned = async (name: string, top = 'top.qcow2') =>
  viewStatus(await openFixtureChain(name, top), { backing: 'chain', zeroScan: true });

const tuples = (m: Interpreted) =>
  Array.from({ length: m.count }, (_, i) => [m.start[i], m.length[i], m.value[i]]);

describe('reads as zero', () => {
  it('without a scan, data is "not read" and only metadata zeroes are zero', async () => {
    const st = await fixtureStatus('nbd-hole-example');
    expect(tuples(readsAsZero.compute(st))).toEqual([
      [0, 131072, CONTENT_NOT_READ],
      [131072, 131072, CONTENT_ZERO],
    ]);
    expect(readsAsZero.explain(st, 0)).toContain('not zero-scanned');
  });

  it('with a scan, the 0xbb base and the 0x11 cluster are non-zero (reference §7.1)', async () => {
    const st = await scanned('nbd-hole-example');
    expect(tuples(readsAsZero.compute(st))).toEqual([
      [0, 131072, CONTENT_NONZERO],
      [131072, 131072, CONTENT_ZERO],
    ]);
  });

  it('preallocation=metadata data clusters read all zero, where QEMU on the sparse file says "zero": true (§3.5, §6.7)', async () => {
    const st = await scanned('prealloc-metadata');
    expect(JSON.parse(golden('prealloc-metadata', 'map.sparse.json')!)).toEqual([
      { start: 0, length: 262144, depth: 0, present: true, zero: true, data: true, offset: 327680 },
    ]);
    expect(tuples(readsAsZero.compute(st))).toEqual([[0, 262144, CONTENT_ZERO_SCANNED]]);
    expect(readsAsZero.explain(st, 0)).toContain('found only zero bytes');
  });

  it('compressed clusters are not read by the scan', async () => {
    const st = await scanned('compressed-zlib');
    const m = readsAsZero.compute(st);
    expect(m.value[0]).toBe(CONTENT_NOT_READ);
    expect(readsAsZero.explain(st, 0)).toContain('does not read compressed clusters');
  });

  // Wherever QEMU 7.2 says "zero": true, the content is zero: a one-way check over every fixture.
  const cases = allCases().filter(
    (c) =>
      c.error === null &&
      !c.covers.includes('limit') &&
      golden(c, 'map.json')?.trim() &&
      !golden(c, 'map.json.exit'),
  );
  it.each(cases)('$name: every range qemu-img map 7.2 calls zero reads as zero', async (c) => {
    const st = await scanned(c.name, c.top);
    const m = readsAsZero.compute(st);
    const entries = JSON.parse(golden(c, 'map.json')!) as { start: number; length: number; zero: boolean }[];
    for (const e of entries.filter((x) => x.zero)) {
      for (let i = 0; i < m.count; i++) {
        if (m.start[i]! < e.start + e.length && m.start[i]! + m.length[i]! > e.start) {
          expect([CONTENT_ZERO, CONTENT_ZERO_SCANNED]).toContain(m.value[i]);
        }
      }
    }
  });
});
