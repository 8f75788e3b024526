/**
 * One test per limit the issue names (src/core/limits.ts): each exceeded input is built in
 * memory and must fail with a LimitError whose message names the constant. Limits that are
 * cheap to reach are tested at their real value; MAX_STATUS_BYTES and MAX_METADATA_BYTES
 * (gigabytes at their real values) and MAX_HEADER_EXTENSIONS (unreachable in a 2 MiB cluster, a
 * backstop) are tested with the constant lowered through vi.mock, which exercises the same check.
 */
import { describe, expect, it, vi } from 'vitest';
import { buildImage, type ImageSpec } from '../testing/fuzz/generate.ts';
import { openChain } from './chain/chain.ts';
import { LimitError } from './errors.ts';
import { MemorySource } from './io/byteSource.ts';
import * as limits from './limits.ts';
import { openQcow2 } from './qcow2/image.ts';
import { ExtentBuilder } from './status/extents.ts';
import { layerStatus } from './status/layerStatus.ts';

vi.mock(import('./limits.ts'), async (importOriginal) => ({
  ...(await importOriginal()),
  MAX_STATUS_BYTES: 64 * 1024,
  MAX_METADATA_BYTES: 4 * 65536,
  MAX_HEADER_EXTENSIONS: 4,
}));

const spec = (over: Partial<ImageSpec> = {}): ImageSpec => ({
  version: 3,
  clusterBits: 16,
  extendedL2: false,
  refcountOrder: 4,
  sectors: 2048,
  l1: [],
  l1Slack: 0,
  refcounts: 'exact',
  snapshots: [],
  bitmaps: [],
  unknownExtensions: [],
  backing: 'none',
  dirty: false,
  seed: 1,
  ...over,
});

const put32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v);

async function limitError(p: Promise<unknown>): Promise<LimitError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(LimitError);
  return e as LimitError;
}

describe('limits', () => {
  it('MAX_L1_ENTRIES: an l1_size above 4 Mi entries (QEMU: "Active L1 table too large")', async () => {
    const b = buildImage(spec());
    put32(b, 36, limits.MAX_L1_ENTRIES + 1);
    const e = await limitError(openQcow2(new MemorySource('big-l1.qcow2', b)));
    expect(e.message).toMatch(/MAX_L1_ENTRIES/);
    expect(e.structure).toBe('header l1_size');
  });

  it('MAX_SNAPSHOTS: nb_snapshots above 65536', async () => {
    const b = buildImage(spec());
    put32(b, 60, limits.MAX_SNAPSHOTS + 1);
    expect((await limitError(openQcow2(new MemorySource('snaps.qcow2', b)))).message).toMatch(
      /MAX_SNAPSHOTS/,
    );
  });

  it('MAX_BITMAPS: a bitmaps extension announcing more than 65535 bitmaps', async () => {
    const b = buildImage(
      spec({ bitmaps: [{ name: 'b', granularityBits: 16, inUse: false, tableDelta: 0, allOnes: false }] }),
    );
    // The bitmaps extension is the first one, at 112: nb_bitmaps follows its 8-byte head.
    expect(new DataView(b.buffer).getUint32(112)).toBe(0x23852875);
    put32(b, 120, limits.MAX_BITMAPS + 1);
    expect((await limitError(openQcow2(new MemorySource('bitmaps.qcow2', b)))).message).toMatch(
      /MAX_BITMAPS/,
    );
  });

  it('MAX_CHAIN_DEPTH: a chain of 257 layers', async () => {
    const files = new Map<string, Uint8Array>();
    for (let i = 0; i <= limits.MAX_CHAIN_DEPTH; i++) {
      files.set(`l${i}.qcow2`, buildImage(spec({ clusterBits: 9, sectors: 8 }), `l${i + 1}.qcow2`));
    }
    const e = await limitError(
      openChain(new MemorySource('l0.qcow2', files.get('l0.qcow2')!), {
        async resolve(name) {
          const bytes = files.get(name);
          return bytes && { source: new MemorySource(name, bytes), key: name };
        },
      }),
    );
    expect(e.message).toMatch(/MAX_CHAIN_DEPTH/);
  });

  it('MAX_HEADER_EXTENSIONS: more extensions than the (lowered) limit', async () => {
    const b = buildImage(
      spec({ unknownExtensions: Array.from({ length: 5 }, () => ({ type: 0x100, length: 8 })) }),
    );
    const e = await limitError(openQcow2(new MemorySource('exts.qcow2', b)));
    expect(e.message).toMatch(/MAX_HEADER_EXTENSIONS/);
    expect(limits.MAX_HEADER_EXTENSIONS).toBe(4);
  });

  it('MAX_STATUS_BYTES: an ExtentBuilder holds what fits its (lowered) budget and refuses one extent more', () => {
    // Growing from c to 2c extents holds both arrays at once: 3c x EXTENT_BYTES must fit. With
    // 64 KiB that allows c = 512 -> 1024 extents and refuses the step to 2048.
    expect(3 * 512 * limits.EXTENT_BYTES).toBeLessThanOrEqual(limits.MAX_STATUS_BYTES);
    expect(3 * 1024 * limits.EXTENT_BYTES).toBeGreaterThan(limits.MAX_STATUS_BYTES);
    const x = new ExtentBuilder('frag.qcow2');
    // Alternating kinds never merge, so every push is a new extent.
    const push = (i: number) => x.push(i * 512, 512, i % 2, 0, 0, -1);
    for (let i = 0; i < 1024; i++) push(i);
    expect(x.count).toBe(1024);
    expect(x.budget.peak).toBeLessThanOrEqual(limits.MAX_STATUS_BYTES);
    expect(() => push(1024)).toThrow(LimitError);
    expect(() => push(1024)).toThrow(/MAX_STATUS_BYTES \(65536 bytes\)/);
    expect(x.count).toBe(1024);
  });

  it('MAX_METADATA_BYTES (tables read): a status walk reading more L2 tables than the (lowered) limit', async () => {
    // Six L2 tables of 64 KiB; the limit is lowered to four.
    const l2 = Array.from({ length: 6 }, () => [{ t: 'normal', copied: true, sub: [0, 0] } as const]);
    const b = buildImage(spec({ sectors: 6 * 8192 * 128, l1: l2 }));
    const img = await openQcow2(new MemorySource('tables.qcow2', b));
    const e = await limitError(layerStatus(img));
    expect(e.message).toMatch(/MAX_METADATA_BYTES/);
  });

  it('every limit has a positive integer value', () => {
    for (const [k, v] of Object.entries(limits))
      expect(Number.isSafeInteger(v) && (v as number) > 0, k).toBe(true);
  });
});
