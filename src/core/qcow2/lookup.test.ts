/**
 * The one-offset lookup the inspector shows, on QEMU-made fixtures. Host offsets and types are
 * those `qemu-img map --output=json` reports for the same bytes (fixtures/golden/<case>/map.json);
 * refcounts are the number of references to the host cluster, which is what the on-disk
 * refcount holds on images `qemu-img check` finds clean (check.json without corruptions or
 * leaks).
 */
import { describe, expect, it } from 'vitest';
import { fixtureBytes } from '../../testing/fixtureChain.ts';
import { golden } from '../../testing/fixtures.ts';
import { MemorySource } from '../io/byteSource.ts';
import { openQcow2 } from './image.ts';
import { entryDetail, lookupEntry, refcountReaderOf } from './lookup.ts';

const open = (c: string) => openQcow2(new MemorySource('top.qcow2', fixtureBytes(c, 'top.qcow2')));
const mapAt = (c: string, g: number) =>
  (
    JSON.parse(golden(c, 'map.json')!) as { start: number; length: number; offset?: number; data: boolean }[]
  ).find((m) => m.start <= g && g < m.start + m.length)!;
const clean = (c: string) => {
  const j = JSON.parse(golden(c, 'check.json')!) as Record<string, number>;
  return !j.corruptions && !j.leaks && !j['check-errors'];
};

describe('entryDetail', () => {
  it('extl2 cluster 0: both halves of the 128-bit entry, the words, and each subcluster type (reference §2.6)', async () => {
    const img = await open('extl2');
    const d0 = (await entryDetail(img, 0))!;
    expect(d0.raw).toBe('0x8000000000050000 0x0000030000000013');
    expect(d0.type).toBe('standard (alloc 0x00000013, zero 0x00000300)');
    expect(d0.clusterType).toBe('NORMAL');
    expect(d0.subclusterType).toBe('NORMAL');
    expect(d0.hostOffset).toBe(mapAt('extl2', 0).offset);
    expect(clean('extl2')).toBe(true);
    expect(d0.refcount).toBe(1);
    // Subcluster 2 (4 KiB): allocated cluster, neither bit: map says not present, with an offset.
    const d2 = (await entryDetail(img, 4096))!;
    expect([d2.subclusterIndex, d2.subclusterType]).toEqual([2, 'UNALLOCATED_ALLOC']);
    expect(mapAt('extl2', 4096)).toMatchObject({ present: false, offset: 331776 });
    const d8 = (await entryDetail(img, 16384))!;
    expect(d8.subclusterType).toBe('ZERO_ALLOC');
    const c1 = (await entryDetail(img, 65536))!;
    expect([c1.type, c1.subclusterType, c1.hostOffset]).toEqual([
      'unallocated (alloc 0x00000000, zero 0x0000000f)',
      'ZERO_PLAIN',
      undefined,
    ]);
  });

  it('snapshots: a ZERO_ALLOC cluster shared by s1, s2 and the active table has refcount 3', async () => {
    const img = await open('snapshots');
    expect(clean('snapshots')).toBe(true);
    const d = (await entryDetail(img, 0))!;
    expect([d.raw, d.clusterType, d.hostOffset, d.refcount]).toEqual([
      '0x0000000000050001',
      'ZERO_ALLOC',
      mapAt('snapshots', 0).offset,
      3,
    ]);
    const c2 = (await entryDetail(img, 131072))!;
    expect([
      c2.clusterType,
      c2.hostOffset,
      c2.refcount,
      c2.entry?.type === 'standard' && c2.entry.copied,
    ]).toEqual(['NORMAL', mapAt('snapshots', 131072).offset, 1, true]);
  });

  it('compressed-zlib: the stream offset, and the refcount of its cluster (three streams share it)', async () => {
    const img = await open('compressed-zlib');
    const d = (await entryDetail(img, 0))!;
    expect(d.entry).toMatchObject({
      type: 'compressed',
      hostOffset: 0x50000,
      sectors: 1,
      compressedSize: 512,
    });
    expect(mapAt('compressed-zlib', 0)).toMatchObject({ data: true });
    expect(mapAt('compressed-zlib', 0).offset).toBeUndefined();
    expect(d.refcount).toBe(3);
  });

  it('an external data file has no refcounts; host offset 0 with the copied flag is NORMAL (datafile-raw)', async () => {
    const d = (await entryDetail(await open('datafile-raw'), 0))!;
    expect([d.raw, d.clusterType, d.hostOffset, d.refcount]).toEqual([
      '0x8000000000000000',
      'NORMAL',
      0,
      undefined,
    ]);
  });

  it('the L1 entry decides when there is no L2 table or it is unaligned; nothing past the virtual size', async () => {
    const sparse = await open('huge-sparse');
    expect((await entryDetail(sparse, 2 ** 40))!).toMatchObject({
      type: 'unallocated (no L2 table)',
      clusterType: 'UNALLOCATED',
      l2TableOffset: 0,
    });
    expect(mapAt('huge-sparse', 2 ** 40)).toMatchObject({ data: false, zero: true });
    const bad = await open('l2-unaligned');
    expect((await entryDetail(bad, 0))!.type).toBe('L2 table offset 0x40200 unaligned');
    const img = await open('snapshots');
    expect(await entryDetail(img, img.length)).toBeUndefined();
    const none = await lookupEntry(img, 0, new Uint32Array(0));
    expect([none.l1Entry, none.l2TableOffset, none.l2EntryOffset]).toEqual([0n, 0, undefined]);
  });

  it('makes one RefcountReader per image', async () => {
    const img = await open('snapshots');
    expect(await refcountReaderOf(img)).toBe(await refcountReaderOf(img));
  });
});
