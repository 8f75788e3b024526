/**
 * The streaming walk gives the whole-image status: for every QEMU-made fixture (with and
 * without backing), every streamable interpretation of the streamed extents equals that of
 * chainStatus(), and a failing image fails at the same place with the same error, with windows
 * from the smallest a layer may have (STREAM_MIN_LAYER_EXTENTS, many cuts inside L2 tables,
 * the table cache holding one table) to the default.
 */
import { describe, expect, it } from 'vitest';
import { openChainFromPath } from '../../cli/openChain.ts';
import { allCases, INTENDED_REFUSALS, imagePath } from '../../testing/fixtures.ts';
import { buildImage, type ImageSpec, type L2EntrySpec } from '../../testing/fuzz/generate.ts';
import { unbounded } from '../budget.ts';
import { closeChain, openChain } from '../chain/chain.ts';
import { ClusterscopeError } from '../errors.ts';
import { collapseBy } from '../interpret/interpretation.ts';
import { allocationDepth, baseAllocation } from '../interpret/nbd.ts';
import { qemuImgMap } from '../interpret/qemuImgMap.ts';
import { QEMU_5_2, QEMU_7_2 } from '../interpret/releases.ts';
import { MemorySource } from '../io/byteSource.ts';
import { EXTENT_BYTES, STREAM_MIN_LAYER_EXTENTS } from '../limits.ts';
import { ExtentBuilder } from './extents.ts';
import { chainStatus } from './resolve.ts';
import { streamChainStatus } from './stream.ts';

const INTERPRETATIONS = [
  qemuImgMap(QEMU_7_2),
  qemuImgMap(),
  baseAllocation(QEMU_5_2),
  baseAllocation(),
  allocationDepth,
];
const WINDOWS = [
  { label: 'smallest windows', windowBytes: 1, tableCacheBytes: 1 },
  { label: 'default windows', windowBytes: undefined, tableCacheBytes: undefined },
];

const cases = allCases().filter((c) => !(c.name in INTENDED_REFUSALS) && c.name !== 'backing-loop');

describe.each(cases)('$name', (c) => {
  for (const noBacking of [false, true]) {
    it(`streamed${noBacking ? ' --no-backing' : ''} equals the whole-image status`, async () => {
      let chain: Awaited<ReturnType<typeof openChainFromPath>>;
      try {
        chain = await openChainFromPath(imagePath(c), { format: 'qcow2', noBacking });
      } catch (e) {
        expect(e).toBeInstanceOf(ClusterscopeError); // refused on open: nothing to stream
        return;
      }
      try {
        const whole = await chainStatus(chain);
        for (const w of WINDOWS) {
          const out = new ExtentBuilder('streamed', unbounded('test'));
          const r = await streamChainStatus(chain, out, {
            ...(w.windowBytes !== undefined && { windowBytes: w.windowBytes }),
            ...(w.tableCacheBytes !== undefined && { tableCacheBytes: w.tableCacheBytes }),
          });
          expect(r.error?.message, w.label).toBe(whole.error?.message);
          expect(r.length).toBe(whole.length);
          for (const interp of INTERPRETATIONS) {
            const a = collapseBy(out, interp.extentValue!, interp.keepsHost === true);
            expect(a, `${w.label}, ${interp.id}`).toEqual(interp.compute(whole));
          }
        }
      } finally {
        await closeChain(chain);
      }
    });
  }
});

/** One L2 table of many short runs, then a long run, then an entry QEMU refuses. */
function longTable(ext: boolean, bad: L2EntrySpec): ImageSpec {
  const entries: L2EntrySpec[] = [];
  for (let j = 0; j < 300; j++) {
    entries.push(
      j % 3 === 0
        ? { t: 'normal', copied: true, sub: [0x0f0f0f0f, 0] }
        : j % 3 === 1
          ? { t: 'unallocated' }
          : { t: 'zero-plain' },
    );
  }
  for (let j = 0; j < 40; j++) entries.push({ t: 'zero-plain' });
  entries.push(bad);
  return {
    version: 3,
    clusterBits: ext ? 14 : 12,
    extendedL2: ext,
    refcountOrder: 4,
    sectors: (2 ** (ext ? 14 : 12) / 512) * 1024,
    l1: [entries],
    l1Slack: 0,
    refcounts: 'exact',
    snapshots: [],
    bitmaps: [],
    unknownExtensions: [],
    backing: 'none',
    dirty: false,
    seed: 7,
  };
}

describe('errors deep in an L2 table cut into many windows', () => {
  const shapes: [string, ImageSpec][] = [
    // Unaligned data cluster offset: an error of its own entry.
    ['unaligned data cluster', longTable(false, { t: 'raw', hi: 0x80000000, lo: 0x12200 })],
    // Extended L2, allocated and zero at once: a look-ahead error reaching back over the zero run.
    ['invalid subcluster bitmap', longTable(true, { t: 'normal', copied: true, sub: [1, 1] })],
  ];
  it.each(shapes)('%s: same extents and error streamed as whole', async (_, spec) => {
    const bytes = buildImage(spec);
    if (spec.extendedL2) {
      // buildImage keeps allocation and zero bits apart; set both on the last entry by hand.
      const dv = new DataView(bytes.buffer);
      const l1 = dv.getUint32(44);
      const l2 = dv.getUint32(l1 + 4);
      dv.setUint32(l2 + 340 * 16 + 8, 1);
      dv.setUint32(l2 + 340 * 16 + 12, 1);
    }
    const chain = await openChain(new MemorySource('long.qcow2', bytes), { resolve: async () => undefined });
    const whole = await chainStatus(chain);
    expect(whole.error).toBeInstanceOf(ClusterscopeError);
    const out = new ExtentBuilder('streamed', unbounded('test'));
    const r = await streamChainStatus(chain, out, { windowBytes: 1, tableCacheBytes: 1 });
    expect(r.windows).toBeGreaterThan(3);
    expect(r.error?.message).toBe(whole.error!.message);
    const map = qemuImgMap(QEMU_7_2);
    expect(collapseBy(out, map.extentValue!, true)).toEqual(map.compute(whole));
  });
});

describe('windows', () => {
  it('the smallest windows hold STREAM_MIN_LAYER_EXTENTS per layer', async () => {
    const chain = await openChainFromPath(imagePath(allCases().find((c) => c.name === 'chain-4')!));
    try {
      const r = await streamChainStatus(chain, { push() {} }, { windowBytes: 1 });
      expect(r.peakBytes).toBeLessThanOrEqual(
        chain.layers.length * (STREAM_MIN_LAYER_EXTENTS + 64) * EXTENT_BYTES + 4 * 65536,
      );
    } finally {
      await closeChain(chain);
    }
  });
});
