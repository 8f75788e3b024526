/**
 * The two June 2021 proposals no QEMU ever served. Their expected values come from the postings
 * as the reference quotes them (§5.2, §5.3) and, where the proposal reuses released bits, from
 * recorded qemu-nbd 7.2 + nbdinfo 1.14 output (fixtures/golden).
 */
import { describe, expect, it } from 'vitest';
import { allCases, golden, parseNbdinfo } from '../../testing/fixtures.ts';
import { fixtureStatus } from '../../testing/openFixture.ts';
import type { Interpreted } from './interpretation.ts';
import { formatNbdinfo } from './nbd.ts';
import { holeFromOffsetValid, jointAllocation, jointAllocationLabel } from './proposals.ts';

const tuples = (m: Interpreted) =>
  Array.from({ length: m.count }, (_, i) => [m.start[i], m.length[i], m.value[i]]);

/** Combines two (offset, length, value) run lists, split at both lists' boundaries, merging equal neighbours. */
function overlay(
  x: [number, number, number][],
  y: [number, number, number][],
  f: (a: number, b: number) => number,
) {
  const cuts = [...new Set([...x, ...y].flatMap(([o, l]) => [o, o + l]))].sort((p, q) => p - q);
  const at = (r: [number, number, number][], p: number) => r.find(([o, l]) => p >= o && p < o + l)![2];
  const out: number[][] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const p = cuts[k]!;
    const v = f(at(x, p), at(y, p));
    const last = out.at(-1);
    if (last && last[2] === v) last[1]! += cuts[k + 1]! - p;
    else out.push([p, cuts[k + 1]! - p, v]);
  }
  return out;
}

describe('qemu:joint-allocation (proposed, never merged; reference §5.3)', () => {
  it("reproduces the posting's example: top.qcow2 with backing: null reads 3, 4, 7, 3", async () => {
    // §5.3: "Example from the posting (top.qcow2 with "backing": null): values 3, 4, 7, 3 for
    // unallocated / data / zero-cluster / unallocated."
    const st = await fixtureStatus('nbd-hole-2021-thread', 'top.qcow2', true);
    expect(tuples(jointAllocation.compute(st))).toEqual([
      [0, 65536, 3],
      [65536, 65536, 4],
      [131072, 65536, 7],
      [196608, 65536, 3],
    ]);
    expect(formatNbdinfo(jointAllocation.compute(st), jointAllocation.label)).toBe(
      [
        '         0       65536    3  hole,zero',
        '     65536       65536    4  data,local',
        '    131072       65536    7  hole,zero,local',
        '    196608       65536    3  hole,zero',
        '',
      ].join('\n'),
    );
  });

  it('with the backing chain, the raw base owns clusters 0 and 3: BACKING (8), depth not conveyed', async () => {
    const st = await fixtureStatus('nbd-hole-2021-thread');
    expect(tuples(jointAllocation.compute(st))).toEqual([
      [0, 65536, 8],
      [65536, 65536, 4],
      [131072, 65536, 7],
      [196608, 65536, 8],
    ]);
    expect(jointAllocation.explain(st, 0)).toMatch(
      /^proposed qemu:joint-allocation 8 \(data,backing; June 2021 proposal, never merged\): .*BACKING because qemu:allocation-depth is 2/,
    );
  });

  // §5.3: bits 0-1 "exactly as in base:allocation", bit 2 depth 1, bit 3 depth >= 2. So on every
  // fixture the value is the recorded 6.0+ base:allocation value combined with the recorded depth.
  const both = allCases().flatMap((c) =>
    ['', '-nobacking'].flatMap((v) => {
      const base = golden(c, `nbd-base${v}.txt`);
      const depth = golden(c, `nbd-depth${v}.txt`);
      return base && depth && c.error === null && !c.covers.includes('limit')
        ? [{ name: c.name, top: c.top, noBacking: v !== '', base, depth }]
        : [];
    }),
  );
  it.each(both)(
    '$name (noBacking $noBacking): recorded base:allocation + recorded allocation-depth',
    async (c) => {
      const st = await fixtureStatus(c.name, c.top, c.noBacking);
      const runs = (t: string) => parseNbdinfo(t).map(([o, l, v]) => [o, l, v] as [number, number, number]);
      const expected = overlay(runs(c.base), runs(c.depth), (b, d) => b | (d === 1 ? 4 : d >= 2 ? 8 : 0));
      expect(tuples(jointAllocation.compute(st))).toEqual(expected);
    },
  );

  it('labels join the bit names as the RFC libnbd decoder did', () => {
    expect([0, 3, 4, 6, 7, 8, 11].map(jointAllocationLabel)).toEqual([
      'data',
      'hole,zero',
      'data,local',
      'zero,local',
      'hole,zero,local',
      'data,backing',
      'hole,zero,backing',
    ]);
  });
});

describe('HOLE derived from OFFSET_VALID (June 2021 proposal, not merged; reference §5.2)', () => {
  const run = async (name: string, noBacking = false) =>
    tuples(holeFromOffsetValid.compute(await fixtureStatus(name, 'top.qcow2', noBacking)));

  it("the thread example with backing: null reads as 5.2 did: 3 / 0 / 2 / 3 (§5.2, Nir's output)", async () => {
    expect(await run('nbd-hole-2021-thread', true)).toEqual([
      [0, 65536, 3],
      [65536, 65536, 0],
      [131072, 65536, 2],
      [196608, 65536, 3],
    ]);
  });

  it('with the chain, the ZERO_PLAIN cluster is 2 zero (no offset, owned) and the raw base data is 0', async () => {
    expect(await run('nbd-hole-2021-thread')).toEqual([
      [0, 131072, 0],
      [131072, 65536, 2],
      [196608, 65536, 0],
    ]);
  });

  it('write -z -u (ZERO_PLAIN, no offset) is 2 zero; write -z on data (ZERO_ALLOC, offset kept) stays 3 hole,zero', async () => {
    // fixtures zero-unmap: c0 data, c1 `write -z -u` (ZERO_PLAIN), c2 `write -z` (ZERO_ALLOC), c3 unallocated.
    // 6.0+ (recorded): 0 / 3 3 3; 5.2 (§5.2 table): 0 / 2 / 2 / 3; the proposal sits between them.
    expect(await run('zero-unmap')).toEqual([
      [0, 65536, 0],
      [65536, 65536, 2],
      [131072, 131072, 3],
    ]);
    const st = await fixtureStatus('zero-unmap');
    expect(holeFromOffsetValid.explain(st, 65536)).toMatch(
      /no OFFSET_VALID, so HOLE follows ALLOCATED \(as 5\.2\).*as 5\.2, unlike 6\.0/,
    );
    expect(holeFromOffsetValid.explain(st, 131072)).toMatch(
      /has OFFSET_VALID, so HOLE follows DATA \(as 6\.0\+\).*as 6\.0, unlike 5\.2/,
    );
  });

  it('past the end of a short backing file the synthesized ZERO|ALLOCATED has no offset: 2 zero (§3.7, §5.2 table)', async () => {
    const st = await fixtureStatus('short-base');
    // fixtures/golden/short-base: base.raw is 128 KiB under a 256 KiB top that wrote only its last cluster.
    const m = holeFromOffsetValid.compute(st);
    expect(tuples(m)).toContainEqual([131072, 65536, 2]);
  });
});
