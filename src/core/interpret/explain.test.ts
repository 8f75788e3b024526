/** explain(offset) says which flag, which layer, which rule and which release decided a value. */
import { describe, expect, it } from 'vitest';
import { fixtureStatus } from '../../testing/openFixture.ts';
import { allocationDepth, baseAllocation } from './nbd.ts';
import { qemuImgMap } from './qemuImgMap.ts';

describe('explain on the worked example (reference §7.6)', () => {
  it('cluster 2 (ZERO_PLAIN): 5.2 says zero because a layer owns it, 6.0 says hole,zero because no storage', async () => {
    const st = await fixtureStatus('nbd-hole-example');
    const old = baseAllocation(5002).explain(st, 131072);
    const cur = baseAllocation(6000).explain(st, 131072);
    expect(old).toMatch(/^base:allocation 2 \(zero\): no HOLE because block status has ALLOCATED/);
    expect(old).toContain('ZERO_PLAIN in');
    expect(cur).toMatch(/^base:allocation 3 \(hole,zero\): HOLE because block status has no DATA/);
    expect(cur).toContain('0da9856851');
  });

  it('cluster 0 comes from the raw base: map depth 1, allocation-depth 2', async () => {
    const st = await fixtureStatus('nbd-hole-example');
    expect(qemuImgMap(7002).explain(st, 0)).toMatch(
      /^qemu-img map 7\.2: "depth": 1, "present": true, "zero": false, "data": true, "offset": 0 /,
    );
    expect(qemuImgMap(7002).explain(st, 0)).toContain('RAW_DATA in');
    expect(allocationDepth.explain(st, 100)).toMatch(/^qemu:allocation-depth 2 \(backing depth 2\)/);
  });

  it('past the end of a short backing file: map depth 0 absent, allocation-depth names the short layer', async () => {
    const st = await fixtureStatus('short-base');
    // fixtures/golden/short-base: base.raw is 128 KiB, top 256 KiB; [128K,192K) is unallocated in top.
    const off = 131072;
    expect(st.chain.layers[1]!.length).toBe(off);
    expect(allocationDepth.explain(st, off)).toMatch(
      /^qemu:allocation-depth 2 \(backing depth 2\): the range lies past the end of layer 2/,
    );
    expect(qemuImgMap(7002).explain(st, off)).toMatch(
      /^qemu-img map 7\.2: "depth": 0, "present": false, "zero": true/,
    );
    expect(qemuImgMap(7002).explain(st, off)).toContain('past the end of');
  });
});
