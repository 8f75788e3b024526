/**
 * The content scan against QEMU run on sparse files whose holes are exactly their all-zero
 * 4 KiB blocks (fixtures host-hole-* and prealloc-metadata: make-fixtures.sh recorded
 * map.sparse.json / nbd-base.sparse.txt / nbd-depth.sparse.txt on the sparse files, then
 * densified them). clusterscope reads the dense copy plus the scan and must give QEMU's
 * sparse-file answers: a raw layer's hole is "zero": true, "data": false; a qcow2 data cluster
 * over a hole is "zero": true, "data": true only when the metadata-preallocation heuristic fires.
 */
import { describe, expect, it } from 'vitest';
import { FileSource, fixtureImageDir, openFixtureChain } from '../../testing/fixtureChain.ts';
import { golden } from '../../testing/fixtures.ts';
import { openChain } from '../chain/chain.ts';
import { allocationDepth, baseAllocation, formatNbdinfo } from '../interpret/nbd.ts';
import { formatMapJson, qemuImgMap } from '../interpret/qemuImgMap.ts';
import { QEMU_7_2 } from '../interpret/releases.ts';
import { CountingSource, MemorySource } from '../io/byteSource.ts';
import { MAX_READ_BYTES } from '../limits.ts';
import { BDRV_BLOCK_ZERO } from './flags.ts';
import { chainStatus } from './resolve.ts';
import { isZeroScanned, planZeroScan, SCAN_READS_AHEAD, zeroScan, zeroScanReport } from './zeroScan.ts';

const scan = async (name: string, top = 'top.qcow2') => {
  const st = await chainStatus(await openFixtureChain(name, top));
  return { before: st, after: await zeroScan(st) };
};

const SPARSE = [
  'host-hole-raw-base',
  'host-hole-small',
  'host-hole-mostly-data',
  'host-hole-past-eof',
  'prealloc-metadata',
];

describe.each(SPARSE)('%s: dense copy + scan = QEMU on the sparse file', (name) => {
  it('qemu-img map 7.2, nbdinfo base:allocation and allocation-depth', async () => {
    const { before, after } = await scan(name);
    expect(isZeroScanned(after)).toBe(true);
    expect(isZeroScanned(before)).toBe(false);
    // The dense copy without a scan is QEMU on the dense copy.
    expect(JSON.parse(formatMapJson(qemuImgMap(QEMU_7_2).compute(before), QEMU_7_2))).toEqual(
      JSON.parse(golden(name, 'map.json')!),
    );
    expect(JSON.parse(formatMapJson(qemuImgMap(QEMU_7_2).compute(after), QEMU_7_2))).toEqual(
      JSON.parse(golden(name, 'map.sparse.json')!),
    );
    const nbd = baseAllocation();
    expect(formatNbdinfo(nbd.compute(after), nbd.label)).toBe(golden(name, 'nbd-base.sparse.txt'));
    const depth = golden(name, 'nbd-depth.sparse.txt');
    if (depth) expect(formatNbdinfo(allocationDepth.compute(after), allocationDepth.label)).toBe(depth);
  });
});

describe('the two rules', () => {
  it('raw base: the hole is ZERO without DATA, at the raw offset (file-posix, reference §3.8)', async () => {
    const { after } = await scan('host-hole-raw-base');
    // The base alone, as qemu-img map -f raw base.raw printed it on the sparse file.
    const dir = fixtureImageDir('host-hole-raw-base');
    const base = await openChain(
      new FileSource('base.raw', `${dir}/base.raw`),
      { resolve: async () => undefined },
      {
        format: 'raw',
      },
    );
    const bst = await zeroScan(await chainStatus(base));
    expect(JSON.parse(formatMapJson(qemuImgMap(QEMU_7_2).compute(bst), QEMU_7_2))).toEqual(
      JSON.parse(golden('host-hole-raw-base', 'map-base.sparse.json')!),
    );
    expect(zeroScanReport(after)!.heuristics).toEqual([]);
  });

  it('small qcow2: the heuristic fires on the sparse copy', async () => {
    const { after } = await scan('host-hole-small');
    expect(zeroScanReport(after)!.heuristics).toEqual([
      expect.objectContaining({ name: 'top.qcow2', fires: true }),
    ]);
  });

  it('mostly data: the heuristic does not fire; zero blocks stay DATA, but the content is known zero', async () => {
    const { after } = await scan('host-hole-mostly-data');
    const h = zeroScanReport(after)!.heuristics[0]!;
    // Read: 192 data blocks + 1 block of c97 = 96 clusters of 8 KiB, threshold 106; the 10 unread
    // blocks (metadata) could raise that to 101 and 112: 103 refcounted clusters stay below both,
    // so the rest of the file is not read. QEMU counted 99 (5 metadata blocks more) and 110.
    expect(h).toMatchObject({ realClusters: 96, realClustersExact: false, threshold: 106, fires: false });
    expect(h.refcounted).toBe(103);
    expect(zeroScanReport(after)!.bytesRead).toBe(98 * 8192);
    let zeroFlagged = 0;
    for (let i = 0; i < after.extents.count; i++)
      if (after.extents.flags[i]! & BDRV_BLOCK_ZERO) zeroFlagged++;
    expect(zeroFlagged).toBe(1); // the unallocated tail only
  });

  it('past EOF: no read, ZERO with DATA once the heuristic fires (reference §6.9)', async () => {
    const { before, after } = await scan('host-hole-past-eof');
    const plan = planZeroScan(before);
    // c1 at host 0x60000 in a 0x64000-byte file: 16K in the file, 48K past it.
    expect(plan.pastEofBytes).toBe(49152);
    expect(zeroScanReport(after)!.bytesRead).toBeLessThanOrEqual(0x64000);
  });
});

describe('reads', () => {
  it('says before it starts how many bytes it will read, reads them in large batches, reports progress', async () => {
    const dir = fixtureImageDir('host-hole-mostly-data');
    const counting = new CountingSource(new FileSource('top.qcow2', `${dir}/top.qcow2`));
    const chain = await openChain(counting, { resolve: async () => undefined }, { format: 'qcow2' });
    const st = await chainStatus(chain);
    const plan = planZeroScan(st);
    // 98 data clusters of 8 KiB from 0xa000, read as one coalesced range.
    expect(plan.layers[0]).toMatchObject({ rule: 'qcow2', bytes: 98 * 8192 });
    expect(Array.from(plan.layers[0]!.start)).toEqual([40960]);
    expect(plan.bytes).toBe(98 * 8192);
    const readsBefore = counting.reads;
    const seen: [number, number][] = [];
    await zeroScan(st, { plan, onProgress: (d, t) => seen.push([d, t]) });
    // One read of the data, plus the refcount table and block for the heuristic.
    expect(counting.reads - readsBefore).toBeLessThanOrEqual(3);
    expect(seen.at(-1)).toEqual([plan.bytes, plan.bytes]);
  });

  it('is cancellable between batches', async () => {
    const st = await chainStatus(await openFixtureChain('host-hole-mostly-data'));
    await expect(zeroScan(st, { signal: { aborted: true } })).rejects.toThrow('cancelled');
  });

  it('64 TiB of data clusters past the end of a 10 MiB file: nothing past EOF is read', async () => {
    const bytes = pastEofImage();
    const src = new CountingSource(new MemorySource('huge.qcow2', bytes));
    const chain = await openChain(src, { resolve: async () => undefined }, { format: 'qcow2' });
    const st = await chainStatus(chain);
    const plan = planZeroScan(st);
    expect(plan.bytes).toBe(0);
    expect(plan.pastEofBytes).toBe(2 ** 46);
    const before = src.bytesRead;
    const t0 = performance.now();
    const after = await zeroScan(st, { plan });
    // At most the file itself (to decide the heuristic) and its refcount table and block.
    expect(src.bytesRead - before).toBeLessThanOrEqual(bytes.length + 2 * 2 * 1024 * 1024);
    expect(performance.now() - t0).toBeLessThan(5_000);
    const m = qemuImgMap(QEMU_7_2).compute(after);
    expect(m.value[0]! & 3).toBe(3); // "zero": true, "data": true: the sparse copy's heuristic fires
  });
});

/**
 * A qcow2 of 64 TiB with 2 MiB clusters whose 128 L1 entries all name one L2 table, every entry
 * of which points far past the end of the 10 MiB file (QEMU maps it: data past EOF, §6.9). The
 * size only bounds how long block status takes (an L2 entry per 2 MiB); the scan costs the same
 * at any size.
 */
function pastEofImage(): Uint8Array {
  const cs = 2 * 1024 * 1024;
  const size = 2 ** 46;
  const l1Entries = size / (cs * (cs / 8));
  const buf = new Uint8Array(5 * cs);
  const dv = new DataView(buf.buffer);
  const u64 = (at: number, v: number) => {
    dv.setUint32(at, Math.floor(v / 2 ** 32));
    dv.setUint32(at + 4, v >>> 0);
  };
  dv.setUint32(0, 0x514649fb);
  dv.setUint32(4, 3);
  dv.setUint32(20, 21); // cluster_bits
  u64(24, size);
  dv.setUint32(36, l1Entries);
  u64(40, 3 * cs); // L1
  u64(48, cs); // refcount table
  dv.setUint32(56, 1);
  dv.setUint32(96, 4); // refcount_order
  dv.setUint32(100, 104); // header_length
  u64(cs, 2 * cs); // refcount table -> refblock
  for (let c = 0; c < 5; c++) dv.setUint16(2 * cs + 2 * c, 1);
  for (let i = 0; i < l1Entries; i++) u64(3 * cs + 8 * i, 4 * cs + 2 ** 63);
  const far = 2 ** 40;
  for (let j = 0; j < cs / 8; j++) u64(4 * cs + 8 * j, far + j * cs + 2 ** 63);
  return buf;
}

describe('reads ahead', () => {
  it('keeps SCAN_READS_AHEAD batches in flight on a source that reads on other threads', async () => {
    const mem = new MemorySource('disk.raw', new Uint8Array(12 * MAX_READ_BYTES));
    let inFlight = 0;
    let most = 0;
    const src = {
      name: 'disk.raw',
      size: mem.size,
      prefetchGroups: 8,
      async read(offset: number, length: number) {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        return mem.read(offset, length);
      },
    };
    const st = await chainStatus(await openChain(src, { resolve: async () => undefined }));
    const after = await zeroScan(st);
    expect(isZeroScanned(after)).toBe(true);
    expect(most).toBe(SCAN_READS_AHEAD);
  });
});
