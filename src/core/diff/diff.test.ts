/**
 * diffInterpreted on synthetic inputs: correctness at the edges of the sweep, and memory that
 * grows with extents, not virtual size (two 1 TiB images of one extent each; a million-extent
 * ChainStatus through real interpretations). These assert results, not timing.
 */
import { describe, expect, it } from 'vitest';
import type { Chain } from '../chain/chain.ts';
import type { Layer } from '../chain/layer.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import { baseAllocation } from '../interpret/nbd.ts';
import { qemuImgMap } from '../interpret/qemuImgMap.ts';
import { ExtentBuilder, NO_HOST } from '../status/extents.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_OFFSET_VALID,
  BDRV_BLOCK_ZERO,
} from '../status/flags.ts';
import { KIND_NORMAL, KIND_ZERO_PLAIN } from '../status/kinds.ts';
import type { ChainStatus } from '../status/resolve.ts';
import { diffIndexAt, diffInterpreted, NO_VALUE, nextDifference, previousDifference } from './diff.ts';
import { diffSides, explainDifference } from './reason.ts';

/** Interpreted from (start, length, value) runs. */
function runs(rs: [number, number, number][]): Interpreted {
  const n = rs.length;
  return {
    count: n,
    start: Float64Array.from(rs, (r) => r[0]),
    length: Float64Array.from(rs, (r) => r[1]),
    value: Uint32Array.from(rs, (r) => r[2]),
    host: new Float64Array(n).fill(-1),
    layer: new Uint16Array(n),
  };
}
const out = (d: ReturnType<typeof diffInterpreted>) =>
  Array.from({ length: d.count }, (_, i) => [d.start[i], d.length[i], d.kinds[d.kind[i]!]!.id]);

const TiB = 2 ** 40;

describe('diffInterpreted', { timeout: 120_000 }, () => {
  it("splits at both inputs' boundaries and merges adjacent extents of one kind", () => {
    const a = runs([
      [0, 100, 1],
      [100, 50, 2],
      [150, 50, 2],
      [200, 100, 3],
    ]);
    const b = runs([
      [0, 120, 1],
      [120, 180, 3],
    ]);
    const d = diffInterpreted(a, b);
    expect(out(d)).toEqual([
      [100, 20, 'a2-b1'],
      [120, 80, 'a2-b3'],
    ]);
    expect(d.kinds.map((k) => [k.id, k.bytes, k.extents])).toEqual([
      ['a2-b1', 20, 1],
      ['a2-b3', 80, 1],
    ]);
    expect(d.bytesDiffering).toBe(100);
    expect(d.bytesAgreeing).toBe(200);
  });

  it("labels kinds with both sides' words", () => {
    const d = diffInterpreted(runs([[0, 10, 2]]), runs([[0, 10, 3]]), {
      labelA: (v) => ['data', 'hole', 'zero', 'hole,zero'][v]!,
      labelB: (v) => ['data', 'hole', 'zero', 'hole,zero'][v]!,
    });
    expect(d.kinds[0]).toMatchObject({ label: 'A zero / B hole,zero', labelA: 'zero', labelB: 'hole,zero' });
  });

  it('a side that stops early (error) has "no answer" up to its length; a shorter side leaves a tail', () => {
    const d = diffInterpreted(runs([[0, 50, 1]]), runs([[0, 200, 1]]), { lengthA: 100, lengthB: 200 });
    expect(out(d)).toEqual([
      [50, 50, `none-ax-b1`],
      [100, 100, 'b-only'],
    ]);
    expect(d.kinds[0]).toMatchObject({ valueA: NO_VALUE, labelA: 'no answer' });
    expect(d.overlap).toBe(100);
    expect(d.bytesAgreeing).toBe(50);
  });

  it('two 1 TiB preallocated images of one extent each: no difference, nothing allocated per cluster', () => {
    const a = runs([[0, TiB, 0]]);
    const d = diffInterpreted(a, runs([[0, TiB, 0]]));
    expect(d.count).toBe(0);
    expect(d.bytesAgreeing).toBe(TiB);
    expect(d.start.length).toBe(0);
  });

  it('two 1 TiB images that differ everywhere: one extent of 2^40 bytes', () => {
    const d = diffInterpreted(runs([[0, TiB, 0]]), runs([[0, TiB, 2]]));
    expect(out(d)).toEqual([[0, TiB, 'a0-b2']]);
    expect(d.start.length).toBe(1);
  });

  it('a million extents against one: every other extent differs, arrays sized to the result', () => {
    const n = 1_000_000;
    const rs: [number, number, number][] = [];
    for (let i = 0; i < n; i++) rs.push([i * 65536, 65536, i % 2]);
    const a = runs(rs);
    const b = runs([[0, n * 65536, 0]]);
    const d = diffInterpreted(a, b);
    expect(d.count).toBe(n / 2);
    expect(d.start.length).toBe(n / 2);
    expect(d.start[0]).toBe(65536);
    expect(d.start[d.count - 1]).toBe((n - 1) * 65536);
    expect(d.kinds).toEqual([
      expect.objectContaining({ id: 'a1-b0', bytes: (n / 2) * 65536, extents: n / 2 }),
    ]);
    expect(diffIndexAt(d, 3 * 65536 + 5)).toBe(1);
    expect(diffIndexAt(d, 2 * 65536)).toBe(-1);
    expect(nextDifference(d, 65536)).toBe(1);
    expect(previousDifference(d, 3 * 65536)).toBe(0);
    expect(previousDifference(d, 65536)).toBe(-1);
    expect(nextDifference(d, (n - 1) * 65536)).toBe(-1);
  });
});

/** A ChainStatus of one qcow2-like layer (only the fields interpretations read) with `n` alternating NORMAL / ZERO_PLAIN clusters. */
function syntheticStatus(n: number, clusterSize: number): ChainStatus {
  const b = new ExtentBuilder('big.qcow2');
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      b.push(
        i * clusterSize,
        clusterSize,
        KIND_NORMAL,
        BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED,
        0,
        (i + 5) * clusterSize * 2,
      );
    } else {
      b.push(
        i * clusterSize,
        clusterSize,
        KIND_ZERO_PLAIN,
        BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED,
        0,
        NO_HOST,
      );
    }
  }
  const chain: Chain = {
    layers: [{ name: 'big.qcow2', format: 'qcow2', header: { clusterSize } } as unknown as Layer],
    noBacking: true,
  };
  return { chain, extents: b.finish(), length: n * clusterSize, findings: [], layerStatus: [] };
}

// Correctness, not speed, is asserted; the timeout only allows for a loaded 2-core CI machine.
describe('diffs of large ChainStatus inputs through real interpretations', { timeout: 120_000 }, () => {
  it('1e6 extents: NBD 5.2 vs 6.0 differ exactly on the 500 000 ZERO_PLAIN clusters', () => {
    const n = 1_000_000;
    const st = syntheticStatus(n, 65536);
    expect(st.extents.count).toBe(n);
    const a = { interpretation: baseAllocation(5002), status: st };
    const b = { interpretation: baseAllocation(6000), status: st };
    const d = diffSides(a, b);
    expect(d.count).toBe(n / 2);
    expect(d.kinds).toEqual([
      expect.objectContaining({ label: 'A zero / B hole,zero', bytes: (n / 2) * 65536 }),
    ]);
    for (const i of [0, 1, d.count - 1]) {
      expect(d.start[i]).toBe((2 * i + 1) * 65536);
      expect(d.length[i]).toBe(65536);
    }
    expect(explainDifference(d, d.count - 1, a, b)).toMatch(
      /^cluster 999999 \[0xf423f0000, 0xf42400000\): ZERO_PLAIN in big\.qcow2/,
    );
  });

  it('1e6 extents: an interpretation diffed with itself has no difference', () => {
    const st = syntheticStatus(1_000_000, 65536);
    const a = { interpretation: qemuImgMap(7002), status: st };
    expect(diffSides(a, a).count).toBe(0);
  });
});
