/**
 * The evidence: the June 2021 qemu-devel thread example (reference §5.2, §5.3),
 * fixtures nbd-hole-2021-thread (raw base) and nbd-hole-2021-qcow2base, with the backing chain
 * and with backing: null; and zero writes with unmap (`write -z -u`, fixtures zero-unmap*).
 * The 6.0+ column is recorded qemu-nbd 7.2 + nbdinfo 1.14 output; the 5.2 column is the
 * output Nir Soffer posted (§5.2); the diff of the two must be exactly cluster 2.
 */
import { describe, expect, it } from 'vitest';
import { golden } from '../../testing/fixtures.ts';
import { fixtureStatus } from '../../testing/openFixture.ts';
import { catalogueEntry } from '../interpret/catalogue.ts';
import { formatNative } from '../interpret/native.ts';
import type { ChainStatus } from '../status/resolve.ts';
import { type DiffSide, diffSides, explainDifference } from './reason.ts';

const side = (id: string, status: ChainStatus): DiffSide => ({
  interpretation: catalogueEntry(id)!.interpretation,
  status,
});
const runs = (d: ReturnType<typeof diffSides>) =>
  Array.from({ length: d.count }, (_, i) => [d.start[i], d.length[i], d.kinds[d.kind[i]!]!.label]);
const nbdinfo = (id: string, st: ChainStatus) => formatNative(catalogueEntry(id)!, st, 'nbdinfo').text;

describe.each([
  ['nbd-hole-2021-thread', 'raw base'],
  ['nbd-hole-2021-qcow2base', 'qcow2 base'],
])('%s (%s)', (name) => {
  for (const noBacking of [false, true]) {
    const view = noBacking ? 'backing: null' : 'with backing chain';
    it(`${view}: the 6.0+ column equals recorded qemu-nbd 7.2 + nbdinfo`, async () => {
      const st = await fixtureStatus(name, 'top.qcow2', noBacking);
      expect(nbdinfo('nbd-base-allocation-6.0', st)).toBe(
        golden(name, noBacking ? 'nbd-base-nobacking.txt' : 'nbd-base.txt'),
      );
    });

    it(`${view}: 5.2 vs 6.0 differ in exactly cluster 2, "A zero / B hole,zero"`, async () => {
      const st = await fixtureStatus(name, 'top.qcow2', noBacking);
      const a = side('nbd-base-allocation-5.2', st);
      const b = side('nbd-base-allocation-6.0', st);
      const d = diffSides(a, b);
      expect(runs(d)).toEqual([[131072, 65536, 'A zero / B hole,zero']]);
      expect(d.kinds).toEqual([
        expect.objectContaining({
          id: 'a2-b3',
          labelA: 'zero',
          labelB: 'hole,zero',
          bytes: 65536,
          extents: 1,
        }),
      ]);
      expect(d.bytesAgreeing).toBe(196608);
      const why = explainDifference(d, 0, a, b);
      expect(why).toMatch(
        /^cluster 2 \[0x20000, 0x30000\): ZERO_PLAIN in \S*top\.qcow2 \(layer 0, the top\): block status ZERO\|ALLOCATED/,
      );
      expect(why).toContain(
        'A (NBD base:allocation (qemu-nbd 5.2 and older)) reports zero: base:allocation 2 (zero): no HOLE because block status has ALLOCATED: a layer owns this range',
      );
      expect(why).toContain(
        'B (NBD base:allocation (qemu-nbd 6.0 and newer)) reports hole,zero: base:allocation 3 (hole,zero): HOLE because block status has no DATA: no host storage backs this range',
      );
    });
  }

  it('backing: null, 5.2 column: 0 65536 3 / 65536 65536 0 / 131072 65536 2 / 196608 65536 3 (the thread, §5.2)', async () => {
    const st = await fixtureStatus(name, 'top.qcow2', true);
    expect(nbdinfo('nbd-base-allocation-5.2', st)).toBe(
      [
        '         0       65536    3  hole,zero',
        '     65536       65536    0  data',
        '    131072       65536    2  zero',
        '    196608       65536    3  hole,zero',
        '',
      ].join('\n'),
    );
  });
});

describe('with backing chain vs backing: null, same interpretation (qemu-img map 7.2)', () => {
  it('differs where the raw base supplies clusters 0 and 3; one kind, two extents', async () => {
    const a = side('qemu-img-map-7.2', await fixtureStatus('nbd-hole-2021-thread'));
    const b = side('qemu-img-map-7.2', await fixtureStatus('nbd-hole-2021-thread', 'top.qcow2', true));
    const d = diffSides(a, b);
    expect(runs(d)).toEqual([
      [0, 65536, 'A depth 1, present, data / B depth 0, absent, zero'],
      [196608, 65536, 'A depth 1, present, data / B depth 0, absent, zero'],
    ]);
    expect(d.kinds[0]).toMatchObject({ bytes: 131072, extents: 2 });
    const why = explainDifference(d, 0, a, b);
    expect(why).toMatch(/^cluster 0 \[0x0, 0x10000\): A: RAW_DATA in .*base\.raw \(layer 1\)/);
    expect(why).toContain('B: UNALLOCATED_PLAIN in');
    expect(why).toContain('opened with backing: null');
  });
});

describe('zero writes with unmap (write -z -u) and without (write -z), reference §6.1', () => {
  // zero-unmap: c0 data; c1 write -z -u (ZERO_PLAIN); c2 write -z on data (ZERO_ALLOC); c3 unallocated.
  it('5.2 vs 6.0: both zero clusters differ (2 vs 3), one merged extent', async () => {
    const st = await fixtureStatus('zero-unmap');
    expect(nbdinfo('nbd-base-allocation-6.0', st)).toBe(golden('zero-unmap', 'nbd-base.txt'));
    const d = diffSides(side('nbd-base-allocation-5.2', st), side('nbd-base-allocation-6.0', st));
    expect(runs(d)).toEqual([[65536, 131072, 'A zero / B hole,zero']]);
  });

  it('the OFFSET_VALID proposal sides with 5.2 on write -z -u and with 6.0 on write -z', async () => {
    const st = await fixtureStatus('zero-unmap');
    const p = side('nbd-base-allocation-proposed-2021-06', st);
    const v60 = diffSides(p, side('nbd-base-allocation-6.0', st));
    const v52 = diffSides(p, side('nbd-base-allocation-5.2', st));
    expect(runs(v60)).toEqual([[65536, 65536, 'A zero / B hole,zero']]);
    expect(runs(v52)).toEqual([[131072, 65536, 'A hole,zero / B zero']]);
    expect(explainDifference(v52, 0, p, side('nbd-base-allocation-5.2', st))).toMatch(
      /^cluster 2 .*ZERO_ALLOC in/,
    );
  });

  it('zero-unmap-backing, with chain and backing: null: 5.2 vs 6.0 differ in clusters 1-2 only', async () => {
    for (const noBacking of [false, true]) {
      const st = await fixtureStatus('zero-unmap-backing', 'top.qcow2', noBacking);
      const d = diffSides(side('nbd-base-allocation-5.2', st), side('nbd-base-allocation-6.0', st));
      expect(runs(d)).toEqual([[65536, 131072, 'A zero / B hole,zero']]);
    }
  });
});

describe('the same interpretation of two images', () => {
  it('raw-base and qcow2-base thread variants differ only in cluster 3 (data in base.raw, unallocated in base.qcow2)', async () => {
    const a = side('qemu-img-map-7.2', await fixtureStatus('nbd-hole-2021-thread'));
    const b = side('qemu-img-map-7.2', await fixtureStatus('nbd-hole-2021-qcow2base'));
    const d = diffSides(a, b);
    // Cluster 0 agrees: both depth 1, present, data (offsets are not compared).
    expect(runs(d)).toEqual([[196608, 65536, 'A depth 1, present, data / B depth 1, absent, zero']]);
  });

  it('a longer image: the tail beyond the shorter one is its own kind', async () => {
    const top = await fixtureStatus('short-base');
    const base = await fixtureStatus('short-base', 'base.raw');
    const a = side('nbd-allocation-depth', top);
    const b = side('nbd-allocation-depth', base);
    const d = diffSides(a, b);
    expect(d.lengthA).toBe(262144);
    expect(d.lengthB).toBe(131072);
    // [0,128K): top says backing depth 2, base alone says local; [128K,256K) only in A.
    expect(runs(d)).toEqual([
      [0, 131072, 'A backing depth 2 / B local'],
      [131072, 131072, 'only in A (B ends at 131072)'],
    ]);
    expect(d.kinds[1]).toMatchObject({ id: 'a-only', valueA: null, valueB: null, bytes: 131072 });
    expect(explainDifference(d, 1, a, b)).toMatch(
      /^clusters 2-3 \[0x20000, 0x40000\): only A \(.*top\.qcow2\) reaches here; B ends at 0x20000/,
    );
  });
});
