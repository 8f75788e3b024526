/**
 * The L1/L2 entry codec against QEMU: every subcluster of QEMU-made single-layer fixtures,
 * classified by the codec alone (no status code), must report what `qemu-img map
 * --output=json` (QEMU 7.2.22, fixtures/golden/<case>/map.json) reports for its bytes. The
 * three shapes of the codec (bulk decoder, functions on halves, one-entry union) must agree
 * on every entry.
 */
import { describe, expect, it } from 'vitest';
import { fixtureBytes } from '../../testing/fixtureChain.ts';
import { golden } from '../../testing/fixtures.ts';
import { MemorySource } from '../io/byteSource.ts';
import { openQcow2 } from './image.ts';
import {
  clusterType,
  compressedBytes,
  compressedOffset,
  decodeL2Entry,
  decodeL2Table,
  entryFormat,
  entryHex,
  entryOffset,
  L2Slice,
  QCOW2_SUBCLUSTER_COMPRESSED,
  QCOW2_SUBCLUSTER_NORMAL,
  QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC,
  QCOW2_SUBCLUSTER_UNALLOCATED_PLAIN,
  QCOW2_SUBCLUSTER_ZERO_ALLOC,
  QCOW2_SUBCLUSTER_ZERO_PLAIN,
  SUBCLUSTER_TYPE_NAMES,
  subclusterRun,
  subclusterType,
  subclusterTypeOf,
} from './l2entry.ts';

interface MapEntry {
  start: number;
  length: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

/** Single-layer images without a backing file: map.json is the layer's own status. */
const CASES = ['extl2', 'zero-discard-v3', 'zero-unmap', 'compressed-zlib', 'compressed-zstd', 'cluster-512'];

async function entries(name: string) {
  const img = await openQcow2(new MemorySource('top.qcow2', fixtureBytes(name, 'top.qcow2')));
  const h = img.header;
  const f = entryFormat(h);
  const out: { guest: number; slice: L2Slice; j: number }[] = [];
  const bytes = fixtureBytes(name, 'top.qcow2');
  for (let i = 0; i < img.l1.length / 2; i++) {
    const off = entryOffset(img.l1[2 * i]!, img.l1[2 * i + 1]!);
    if (!off) continue;
    const s = decodeL2Table(
      bytes.subarray(off, off + h.clusterSize),
      h.l2Entries,
      f,
      new L2Slice(h.l2Entries),
    );
    for (let j = 0; j < s.count; j++) {
      const guest = (i * h.l2Entries + j) * h.clusterSize;
      if (guest < img.length) out.push({ guest, slice: s, j });
    }
  }
  return { img, f, out };
}

describe('the codec classifies every subcluster as qemu-img map reports it', () => {
  for (const name of CASES) {
    it(`${name}: type and host offset of each subcluster equal map.json`, async () => {
      const { img, f, out } = await entries(name);
      const map = JSON.parse(golden(name, 'map.json')!) as MapEntry[];
      const cs = img.header.clusterSize;
      const per = img.header.subclustersPerCluster;
      const sub = cs / per;
      const at = (g: number) => map.find((m) => m.start <= g && g < m.start + m.length)!;
      let checked = 0;
      for (const { guest, slice: s, j } of out) {
        if (guest >= img.length) continue;
        for (let sc = 0; sc < per; sc++) {
          const g = guest + sc * sub;
          if (g >= img.length) break;
          const t = subclusterType(s.type[j]!, s.alloc[j]!, s.zero[j]!, sc, f.extendedL2);
          const m = at(g);
          const host = entryOffset(s.hi[j]!, s.lo[j]!) + sc * sub;
          const want = {
            [QCOW2_SUBCLUSTER_NORMAL]: { present: true, zero: false, data: true, offset: host },
            [QCOW2_SUBCLUSTER_COMPRESSED]: { present: true, zero: false, data: true },
            [QCOW2_SUBCLUSTER_ZERO_PLAIN]: { present: true, zero: true, data: false },
            [QCOW2_SUBCLUSTER_ZERO_ALLOC]: { present: true, zero: true, data: false, offset: host },
            [QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC]: { present: false, zero: true, data: false, offset: host },
            [QCOW2_SUBCLUSTER_UNALLOCATED_PLAIN]: { present: false, zero: true, data: false },
          }[t];
          expect(want, `${name} guest ${g}: type ${SUBCLUSTER_TYPE_NAMES[t]}`).toBeDefined();
          const got: Record<string, unknown> = { present: m.present, zero: m.zero, data: m.data };
          if (m.offset !== undefined) got.offset = m.offset + (g - m.start);
          expect(got, `${name} guest ${g}: ${SUBCLUSTER_TYPE_NAMES[t]}`).toEqual(want);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  }

  it('compressed descriptors give the offsets and lengths qemu-img check counts (compressed-zlib)', async () => {
    // check.json: 5 compressed clusters; the descriptors' streams lie inside the file.
    const { img, out } = await entries('compressed-zlib');
    const check = JSON.parse(golden('compressed-zlib', 'check.json')!) as Record<string, number>;
    const cb = img.header.clusterBits;
    const compressed = out.filter(({ slice: s, j }) => s.type[j] === 4);
    expect(compressed.length).toBe(check['compressed-clusters']);
    for (const { slice: s, j } of compressed) {
      const off = compressedOffset(s.hi[j]!, s.lo[j]!, cb);
      const len = compressedBytes(s.hi[j]!, s.lo[j]!, cb);
      expect(off + len).toBeLessThanOrEqual(img.source.size + 511);
      expect(len).toBeGreaterThan(0);
      expect(len).toBeLessThanOrEqual(img.header.clusterSize + 512);
    }
  });
});

describe('the three shapes of the codec agree', () => {
  for (const name of CASES) {
    it(`${name}: bulk decoder, functions on halves and the one-entry union`, async () => {
      const { img, f, out } = await entries(name);
      for (const { slice: s, j } of out) {
        const hi = s.hi[j]!;
        const lo = s.lo[j]!;
        expect(clusterType(hi, lo, f)).toBe(s.type[j]);
        const raw = (BigInt(hi) << 32n) | BigInt(lo);
        const e = decodeL2Entry(raw, img.header, f.dataFile);
        expect(
          ['UNALLOCATED', 'ZERO_PLAIN', 'ZERO_ALLOC', 'NORMAL', 'COMPRESSED'].indexOf(e.clusterType),
        ).toBe(s.type[j]);
        expect(entryHex(hi, lo)).toBe(raw.toString(16));
        if (e.type === 'standard') expect(e.hostOffset).toBe(entryOffset(hi, lo));
        const bm = f.extendedL2 ? { alloc: s.alloc[j]!, zero: s.zero[j]! } : undefined;
        for (let sc = 0; sc < img.header.subclustersPerCluster; sc++) {
          expect(subclusterTypeOf(e, bm, sc)).toBe(
            SUBCLUSTER_TYPE_NAMES[subclusterType(s.type[j]!, s.alloc[j]!, s.zero[j]!, sc, f.extendedL2)],
          );
        }
      }
    });
  }
});

describe('subclusterRun (count_contiguous_subclusters())', () => {
  it('extl2 cluster 0 (alloc 0x13, zero 0x300, reference §2.6): runs of 2 NORMAL, 2 UNALLOCATED_ALLOC, 1 NORMAL', async () => {
    const { f, out } = await entries('extl2');
    const { slice: s } = out[0]!;
    expect([s.alloc[0], s.zero[0]]).toEqual([0x13, 0x300]);
    expect(subclusterRun(s, 0, 0, 1, f)).toEqual({ type: QCOW2_SUBCLUSTER_NORMAL, count: 2 });
    expect(subclusterRun(s, 0, 2, 1, f)).toEqual({ type: QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC, count: 2 });
    expect(subclusterRun(s, 0, 4, 1, f)).toEqual({ type: QCOW2_SUBCLUSTER_NORMAL, count: 1 });
    expect(subclusterRun(s, 0, 8, 1, f)).toEqual({ type: QCOW2_SUBCLUSTER_ZERO_ALLOC, count: 2 });
  });

  it('a compressed run ends with its cluster even when the next is compressed too (compressed-zlib c0, c1)', async () => {
    const { f, out } = await entries('compressed-zlib');
    const { slice: s } = out[0]!;
    expect([s.type[0], s.type[1]]).toEqual([4, 4]);
    expect(subclusterRun(s, 0, 0, 8, f)).toEqual({ type: QCOW2_SUBCLUSTER_COMPRESSED, count: 1 });
  });
});
