/**
 * hostHoleReport: where QEMU on the original (sparse) host could answer differently. Checked
 * against QEMU itself: wherever QEMU's answer on the sparse file (map.sparse.json) differs from
 * its answer on the dense copy (map.json), the report names the range, under the rule QEMU
 * applied there.
 */
import { describe, expect, it } from 'vitest';
import { openFixtureChain } from '../../testing/fixtureChain.ts';
import { allCases, golden } from '../../testing/fixtures.ts';
import { chainStatus } from '../status/resolve.ts';
import { type HostHoleExposure, hostHoleReport } from './hostHoles.ts';

interface MapEntry {
  start: number;
  length: number;
  zero: boolean;
  data: boolean;
}

const report = async (name: string) => hostHoleReport(await chainStatus(await openFixtureChain(name)));
const ranges = (x: HostHoleExposure) => Array.from({ length: x.count }, (_, i) => [x.start[i], x.length[i]]);

/** Guest bytes where two qemu-img map outputs differ in zero or data. */
function differing(a: MapEntry[], b: MapEntry[]): [number, number][] {
  const at = (m: MapEntry[], p: number) => m.find((e) => e.start <= p && p < e.start + e.length)!;
  const cuts = [...new Set([...a, ...b].flatMap((e) => [e.start, e.start + e.length]))].sort((x, y) => x - y);
  const out: [number, number][] = [];
  for (let k = 0; k + 1 < cuts.length; k++) {
    const x = at(a, cuts[k]!);
    const y = at(b, cuts[k]!);
    if (x && y && (x.zero !== y.zero || x.data !== y.data)) out.push([cuts[k]!, cuts[k + 1]! - cuts[k]!]);
  }
  return out;
}

describe('host hole report', () => {
  const sparse = allCases().filter((c) => c.hostSparse);
  it.each(sparse)('$name: every range where QEMU on the sparse file differs is reported', async (c) => {
    const r = await report(c.name);
    const diff = differing(JSON.parse(golden(c, 'map.json')!), JSON.parse(golden(c, 'map.sparse.json')!));
    for (const [s, len] of diff) {
      const covered = r.exposures.some((x) => ranges(x).some(([a, l]) => a! <= s && s + len <= a! + l!));
      expect(covered, `${c.name} [${s}, ${s + len})`).toBe(true);
    }
    expect(r.summary).toMatch(/^QEMU on the original host (likely|may) answer/);
  });

  it('the thread with a raw base: base.raw clusters 0 and 3 (raw rule, likely), top.qcow2 cluster 1', async () => {
    const r = await report('host-hole-raw-base');
    expect(r.exposures.map((x) => [x.rule, x.layerName, ranges(x), x.likely])).toEqual([
      ['qcow2-data', 'top.qcow2', [[65536, 65536]], false],
      [
        'raw-hole',
        'base.raw',
        [
          [0, 65536],
          [196608, 65536],
        ],
        true,
      ],
    ]);
    expect(r.exposures[1]!.qemuWould).toContain('"zero": true, "data": false');
    // The scan reads base.raw where the chain uses it (4 KiB-aligned, coalesced) and top's data.
    expect(r.scan.bytes).toBe(262144 + 65536);
  });

  it('preallocation=metadata is likely; an image of mostly data is not', async () => {
    const pre = await report('prealloc-metadata');
    expect(pre.exposures).toEqual([
      expect.objectContaining({ rule: 'qcow2-data', likely: true, bytes: 262144 }),
    ]);
    expect(pre.exposures[0]!.qemuWould).toContain('"zero": true, "data": true');
    const mostly = await report('host-hole-mostly-data');
    expect(mostly.exposures).toEqual([expect.objectContaining({ rule: 'qcow2-data', likely: false })]);
  });

  it('data past the end of the file is its own rule, read by no scan', async () => {
    const r = await report('host-hole-past-eof');
    const eof = r.exposures.find((x) => x.rule === 'past-eof')!;
    expect(ranges(eof)).toEqual([[81920, 49152]]);
    expect(r.scan.pastEofBytes).toBe(49152);
  });

  it('compressed clusters are not exposed (QEMU never looks under them)', async () => {
    const r = await report('compressed-zlib');
    const st = await chainStatus(await openFixtureChain('compressed-zlib'));
    let normal = 0;
    for (let i = 0; i < st.extents.count; i++) if (st.extents.kind[i] === 4) normal += st.extents.length[i]!;
    expect(r.bytes).toBe(normal);
  });
});
