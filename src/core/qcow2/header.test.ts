/**
 * Header validation as qcow2_do_open() does it, on a real qemu-img 7.2 header with one field
 * patched per case. The wording follows QEMU's error messages so users can match them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../testing/fixtures.ts';
import { CorruptError, FormatError, LimitError, UnsupportedError } from '../errors.ts';
import { MemorySource } from '../io/byteSource.ts';
import { parseHeader } from './header.ts';
import { openQcow2 } from './image.ts';

const good = readFileSync(`${FIXTURES}/images/nbd-hole-example/top.qcow2`);

function patched(edit: (dv: DataView) => void): Uint8Array {
  const b = new Uint8Array(good);
  edit(new DataView(b.buffer));
  return b;
}
const open = (b: Uint8Array) => openQcow2(new MemorySource('top.qcow2', b));
const setU64 = (dv: DataView, at: number, v: bigint) => dv.setBigUint64(at, v);

describe('qcow2 header validation', () => {
  it('reads the fields qemu-img 7.2 wrote (reference §7.1)', () => {
    const h = parseHeader('top.qcow2', good.subarray(0, 4096));
    expect(h).toMatchObject({
      version: 3,
      clusterBits: 16,
      size: 262144,
      l1Size: 1,
      headerLength: 112,
      refcountOrder: 4,
    });
    expect(h.l1TableOffset).toBe(0x30000);
    expect(h.refcountTableOffset).toBe(0x10000);
  });

  it.each([
    [
      'bad magic',
      (dv: DataView) => dv.setUint32(0, 0x12345678),
      FormatError,
      /header magic at 0x0: Image is not in qcow2 format/,
    ],
    ['version 4', (dv: DataView) => dv.setUint32(4, 4), FormatError, /Unsupported qcow2 version 4/],
    [
      'cluster_bits 8',
      (dv: DataView) => dv.setUint32(20, 8),
      UnsupportedError,
      /Unsupported cluster size: 2\^8/,
    ],
    [
      'cluster_bits 22',
      (dv: DataView) => dv.setUint32(20, 22),
      UnsupportedError,
      /Unsupported cluster size: 2\^22/,
    ],
    ['refcount_order 7', (dv: DataView) => dv.setUint32(96, 7), UnsupportedError, /may not exceed 64 bits/],
    ['header_length 100', (dv: DataView) => dv.setUint32(100, 100), CorruptError, /qcow2 header too short/],
    [
      'unknown incompatible bit 20',
      (dv: DataView) => setU64(dv, 72, 1n << 20n),
      UnsupportedError,
      /Unknown incompatible feature: 100000/,
    ],
    ['compression bit without type', (dv: DataView) => setU64(dv, 72, 8n), CorruptError, /must not be set/],
    [
      'zero refcount table clusters',
      (dv: DataView) => dv.setUint32(56, 0),
      CorruptError,
      /does not contain a reference count table/,
    ],
    ['huge L1', (dv: DataView) => dv.setUint32(36, 5_000_000), LimitError, /Active L1 table too large/],
    ['L1 too small', (dv: DataView) => dv.setBigUint64(24, 1n << 40n), CorruptError, /L1 table is too small/],
    [
      'unaligned L1 offset',
      (dv: DataView) => setU64(dv, 40, 0x30200n),
      CorruptError,
      /Active L1 table offset invalid/,
    ],
    [
      'unaligned snapshot table',
      (dv: DataView) => setU64(dv, 64, 0x200n),
      CorruptError,
      /Snapshot table offset invalid/,
    ],
    [
      'backing name offset past the cluster',
      (dv: DataView) => setU64(dv, 8, 0x20000n),
      CorruptError,
      /Invalid backing file offset/,
    ],
    // QEMU 7.2's refusals of the virtual size (qcow2_do_open(), checked by hand with qemu-img on
    // patched images): "L1 table is too small" for a size its L1 does not cover, "Image is too
    // big" past INT_MAX L1 entries, "File too large" where size_to_l1() wraps near 2^64.
    [
      'size 2^40 beyond the L1 table',
      (dv: DataView) => setU64(dv, 24, 1n << 40n),
      CorruptError,
      /L1 table is too small/,
    ],
    // 64 KiB clusters: an L2 table maps 512 MiB, so 2^61 bytes need 2^32 L1 entries (> INT_MAX);
    // qemu-img says the same of 2^47 bytes at 512-byte clusters.
    ['size 2^61', (dv: DataView) => setU64(dv, 24, 1n << 61n), UnsupportedError, /Image is too big/],
    [
      'size 2^64 - 512 (size_to_l1() wraps)',
      (dv: DataView) => setU64(dv, 24, 2n ** 64n - 512n),
      UnsupportedError,
      /Could not refresh total sector count: File too large/,
    ],
  ] as const)('%s is refused', async (_name, edit, cls, message) => {
    const err = await open(patched(edit)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/^top\.qcow2: header/);
  });

  it('an extension whose length runs past the extension area is "Header extension too large"', async () => {
    // The first extension (backing format) starts at header_length 112; give it 1 MiB.
    const err = await open(patched((dv) => dv.setUint32(116, 1 << 20))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptError);
    expect((err as Error).message).toMatch(
      /^top\.qcow2: header extension 0xe2792aca at 0x70: Header extension too large/,
    );
  });

  it('a truncated file is an error naming the header, not a crash', async () => {
    const err = await open(good.subarray(0, 50)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptError);
    expect((err as Error).message).toMatch(/shorter than a qcow2 header/);
  });

  it('reports compatible and autoclear bits and keeps going', async () => {
    const img = await open(
      patched((dv) => {
        setU64(dv, 80, 0x1n | (1n << 40n));
        setU64(dv, 88, 1n << 33n);
      }),
    );
    expect(img.header.compatibleFeatures).toBe(0x1n | (1n << 40n));
    expect(img.header.autoclearFeatures).toBe(1n << 33n);
  });
});
