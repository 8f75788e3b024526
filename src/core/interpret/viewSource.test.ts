/**
 * Views are inputs, not interpretations: one chain opened once gives the status "with backing
 * chain", "backing: null" and "snapshot s1's L1", each equal to what QEMU 7.2 printed when
 * opened that way (fixtures/golden: map.json, map-nobacking.json, nbd-snapshot-s1.txt).
 */
import { describe, expect, it } from 'vitest';
import { openFixtureChain } from '../../testing/fixtureChain.ts';
import { golden } from '../../testing/fixtures.ts';
import { catalogueEntry } from './catalogue.ts';
import { formatNative } from './native.ts';
import { isZeroScanned } from './readsAsZero.ts';
import { DEFAULT_VIEW, describeView, formatView, parseView, viewStatus } from './viewSource.ts';

describe('view text form', () => {
  it('round-trips, the default view being the empty string', () => {
    expect(parseView('')).toEqual(DEFAULT_VIEW);
    expect(formatView(DEFAULT_VIEW)).toBe('');
    for (const s of ['backing-null', 'snapshot:s1', 'backing-null,snapshot:s1,zero-scan', 'zero-scan']) {
      expect(formatView(parseView(s))).toBe(s);
    }
    expect(parseView('chain,snapshot:my snap')).toEqual({ backing: 'chain', snapshot: 'my snap' });
    expect(describeView(parseView('backing-null,snapshot:s1'))).toBe("backing: null, snapshot s1's L1");
  });

  it('refuses unknown tokens', () => {
    expect(() => parseView('nobacking')).toThrow(/unknown view 'nobacking'/);
    expect(() => parseView('snapshot:')).toThrow(/unknown view/);
  });
});

describe('viewStatus on one opened chain', () => {
  it('with chain and with backing: null equal qemu-img map 7.2 of top.qcow2 and of json:{backing: null}', async () => {
    const chain = await openFixtureChain('nbd-hole-2021-thread');
    const map = catalogueEntry('qemu-img-map-7.2')!;
    const withChain = await viewStatus(chain, parseView(''));
    const alone = await viewStatus(chain, parseView('backing-null'));
    expect(formatNative(map, withChain, 'qemu-img-map-json').text).toBe(
      golden('nbd-hole-2021-thread', 'map.json'),
    );
    expect(formatNative(map, alone, 'qemu-img-map-json').text).toBe(
      golden('nbd-hole-2021-thread', 'map-nobacking.json'),
    );
    expect(alone.chain.noBacking).toBe(true);
    expect(alone.chain.layers).toHaveLength(1);
    expect(chain.layers).toHaveLength(2);
  });

  it('snapshot:s1 equals qemu-nbd -l s1 + nbdinfo --map; the active L1 differs', async () => {
    const chain = await openFixtureChain('snapshots');
    const nbd = catalogueEntry('nbd-base-allocation-6.0')!;
    const s1 = await viewStatus(chain, parseView('snapshot:s1'));
    const active = await viewStatus(chain, DEFAULT_VIEW);
    expect(formatNative(nbd, s1, 'nbdinfo').text).toBe(golden('snapshots', 'nbd-snapshot-s1.txt'));
    expect(formatNative(nbd, active, 'nbdinfo').text).toBe(golden('snapshots', 'nbd-base.txt'));
  });

  it('an unknown snapshot is an error naming the snapshots', async () => {
    const chain = await openFixtureChain('snapshots');
    await expect(viewStatus(chain, parseView('snapshot:nope'))).rejects.toThrow(
      "top.qcow2: snapshot table: no snapshot 'nope' (snapshots: s1, s2)",
    );
  });

  it('zero-scan marks the result as scanned', async () => {
    const chain = await openFixtureChain('nbd-hole-example');
    expect(isZeroScanned(await viewStatus(chain, parseView('zero-scan')))).toBe(true);
    expect(isZeroScanned(await viewStatus(chain, DEFAULT_VIEW))).toBe(false);
  });
});
