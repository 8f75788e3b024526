/**
 * Refcount block decoding for every width (spec "Host cluster management": widths below 8
 * bits are packed from the least significant bit, wider ones are big-endian) and the bounded,
 * coalesced reader. Images are built in memory so the test reads no files.
 */
import { describe, expect, it } from 'vitest';
import { CountingSource, MemorySource } from '../io/byteSource.ts';
import { openQcow2 } from './image.ts';
import {
  decodeRefcountBlock,
  RefcountReader,
  readRefcountTable,
  refblockEntries,
  refcountAt,
  refcountMax,
} from './refcount.ts';
import { RefcountArray } from './refcountArray.ts';

describe('refcountAt', () => {
  it('reads 1-bit entries from the least significant bit of each byte', () => {
    const b = Uint8Array.of(0b0000_0101, 0b1000_0000);
    expect([0, 1, 2, 3, 15].map((i) => refcountAt(b, 0, i))).toEqual([1, 0, 1, 0, 1]);
  });
  it('reads 2-bit entries LSB-first: byte 0xE4 holds 0,1,2,3', () => {
    expect([0, 1, 2, 3].map((i) => refcountAt(Uint8Array.of(0xe4), 1, i))).toEqual([0, 1, 2, 3]);
  });
  it('reads 4-bit entries low nibble first', () => {
    expect([0, 1].map((i) => refcountAt(Uint8Array.of(0x3a), 2, i))).toEqual([0xa, 0x3]);
  });
  it('reads 8-, 16-, 32- and 64-bit entries big-endian', () => {
    const b = Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 2);
    expect(refcountAt(b, 3, 3)).toBe(1);
    expect(refcountAt(b, 4, 1)).toBe(1);
    expect(refcountAt(b, 5, 1)).toBe(2);
    expect(refcountAt(b, 6, 0)).toBe(0x100000002);
  });
  it('refuses a width above 64 bits', () => {
    expect(() => refcountAt(new Uint8Array(8), 7, 0)).toThrow(RangeError);
  });
  it('decodeRefcountBlock decodes a slice the same way as refcountAt', () => {
    const b = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 255);
    for (let order = 0; order <= 6; order++) {
      const n = (b.length * 8) >>> order;
      const out = new Float64Array(n);
      decodeRefcountBlock(b, order, out);
      for (let i = 0; i < n; i++) expect(out[i]).toBe(refcountAt(b, order, i));
    }
  });
});

/** A minimal v3 image: header, reftable at 1 cluster, refblocks after it, empty L1. */
function image(order: number, refblocks: Uint8Array[], reftable: bigint[], clusterBits = 9): Uint8Array {
  const cs = 2 ** clusterBits;
  const bytes = new Uint8Array(cs * (4 + refblocks.length));
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 0x514649fb);
  dv.setUint32(4, 3);
  dv.setUint32(20, clusterBits);
  dv.setBigUint64(24, 512n); // size
  dv.setUint32(36, 1); // l1_size
  dv.setBigUint64(40, BigInt(3 * cs)); // l1_table_offset
  dv.setBigUint64(48, BigInt(cs)); // refcount_table_offset
  dv.setUint32(56, 1); // refcount_table_clusters
  dv.setUint32(96, order);
  dv.setUint32(100, 104);
  for (const [i, e] of reftable.entries()) dv.setBigUint64(cs + i * 8, e);
  for (const [i, rb] of refblocks.entries()) bytes.set(rb, (4 + i) * cs);
  return bytes;
}

describe('RefcountReader', () => {
  it('knows refblock geometry and refcount_max for each width', async () => {
    for (let order = 0; order <= 6; order++) {
      const img = await openQcow2(new MemorySource('t', image(order, [], [])));
      expect(refblockEntries(img.header)).toBe((512 * 8) >> order);
      expect(refcountMax(img.header)).toBe(order === 6 ? Infinity : 2 ** (1 << order) - 1);
    }
  });

  it('reads neighbouring refcount blocks in one request and zero for missing blocks', async () => {
    const rb = (v: number) => new Uint8Array(512).fill(v);
    const bytes = image(3, [rb(1), rb(2), rb(3)], [0x800n, 0xa00n, 0xc00n, 0n]);
    const src = new CountingSource(new MemorySource('t', bytes));
    const img = await openQcow2(src);
    const reader = new RefcountReader(img, await readRefcountTable(img));
    src.reads = 0;
    const { values, problems } = await reader.readRange(0, 4 * 512);
    expect(problems).toEqual([]);
    expect(src.reads).toBe(1);
    expect([0, 511, 512, 1535, 1536, 2047].map((i) => values.get(i))).toEqual([1, 1, 2, 3, 0, 0]);
    expect(await reader.get(600)).toBe(2);
    expect(await reader.get(10 ** 9)).toBe(0);
  });

  it('reports an unaligned refcount block as a CorruptError, as qcow2_get_refcount() fails with EIO', async () => {
    const img = await openQcow2(new MemorySource('t', image(4, [new Uint8Array(4096)], [0x4200n], 12)));
    const reader = new RefcountReader(img, await readRefcountTable(img));
    await expect(reader.get(0)).rejects.toMatchObject({ kind: 'corrupt' });
    const { problems } = await reader.readRange(0, 4);
    expect(problems).toEqual([{ reftableIndex: 0, error: expect.objectContaining({ kind: 'corrupt' }) }]);
  });
});

describe('RefcountArray', () => {
  it('decodes a refcount block of every width as refcountAt reads it, in a typed array of that width', () => {
    const b = Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 255);
    for (let order = 0; order <= 6; order++) {
      const n = (b.length * 8) >>> order;
      const a = new RefcountArray(order, n, order === 6 ? Infinity : 2 ** (1 << order) - 1);
      a.setBlock(b, 0, 0, n);
      for (let i = 0; i < n; i++) expect(a.get(i)).toBe(refcountAt(b, order, i));
    }
  });

  it('saturates at refcount_max (qcow2_inc_refcounts_imrt(): "ERROR: overflow cluster")', () => {
    const one = new RefcountArray(0, 2, 1);
    expect([one.inc(0), one.inc(0), one.get(0)]).toEqual([true, false, 1]);
    const sixteen = new RefcountArray(4, 1, 0xffff);
    sixteen.set(0, 0xfffe);
    expect([sixteen.inc(0), sixteen.inc(0), sixteen.get(0)]).toEqual([true, false, 0xffff]);
  });

  it('keeps 64-bit refcounts of 2^32 - 1 and more exactly (overflow path)', () => {
    const a = new RefcountArray(6, 4, Infinity);
    const block = new Uint8Array(32);
    new DataView(block.buffer).setBigUint64(8, 0x1_0000_0005n);
    new DataView(block.buffer).setBigUint64(16, 0xffff_ffffn);
    a.setBlock(block, 0, 0, 4);
    expect([a.get(0), a.get(1), a.get(2), a.get(3)]).toEqual([0, 0x1_0000_0005, 0xffff_ffff, 0]);
    expect(a.inc(2)).toBe(true);
    expect(a.get(2)).toBe(0x1_0000_0000);
    a.grow(10);
    expect([a.size, a.get(9), a.get(1)]).toEqual([10, 0, 0x1_0000_0005]);
  });
});

describe('refcount blocks QEMU cannot read', () => {
  it('a table entry with bit 63 set fails with EIO and no corruption signal (bdrv_check_request(): negative offset)', async () => {
    const img = await openQcow2(new MemorySource('t', image(4, [], [0x8000000000040000n], 12)));
    const reader = new RefcountReader(img, await readRefcountTable(img));
    await expect(reader.get(0)).rejects.toMatchObject({ kind: 'io' });
    const { problems } = await reader.readRange(0, 4);
    expect(problems[0]?.error.kind).toBe('io');
  });
  it('an entry past 2^53 but below 2^63 reads zeros, as a read past EOF', async () => {
    const img = await openQcow2(new MemorySource('t', image(4, [], [0x0040000000000000n], 12)));
    const reader = new RefcountReader(img, await readRefcountTable(img));
    expect(await reader.get(0)).toBe(0);
  });
});
