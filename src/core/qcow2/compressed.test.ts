/**
 * zstd frames of compressed clusters: every frame's window is bounded by the cluster QEMU decodes
 * into (qcow2_zstd_decompress() writes into one cluster) before anything is decoded. Frames are
 * crafted byte by byte (RFC 8878: magic, frame header, raw blocks) with the window just at the
 * bound and just over it; the QEMU-made compressed-zstd fixture's frames are within it (and its
 * content equals qemu-img convert's, src/cli/content.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { fixtureBytes } from '../../testing/fixtureChain.ts';
import { MemorySource } from '../io/byteSource.ts';
import { zstdCluster, zstdFrameHeader } from './compressed.ts';
import { openQcow2 } from './image.ts';
import { decodeL2Entry } from './l2entry.ts';
import { lookupEntry } from './lookup.ts';

const at = { file: 't.qcow2', structure: 'compressed cluster (L1[0], L2[0])', offset: 0x50000 };
const CS = 65536;

/** One zstd frame of raw blocks holding `content`, its window set by a Window_Descriptor byte. */
function frame(wd: number, content: Uint8Array): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, wd];
  const maxBlock = 128 * 1024;
  for (let off = 0; off < content.length || off === 0; off += maxBlock) {
    const n = Math.min(maxBlock, content.length - off);
    const last = off + n >= content.length ? 1 : 0;
    const bh = last | (0 << 1) | (n << 3);
    parts.push(bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff, ...content.subarray(off, off + n));
    if (last) break;
  }
  return Uint8Array.from(parts);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 255);

describe('zstd frames of a compressed cluster', () => {
  it('decodes a frame whose window is exactly one cluster (Window_Descriptor 0x30: 64 KiB)', () => {
    const f = frame(0x30, pattern(CS));
    expect(zstdFrameHeader(f, 0)?.windowSize).toBe(CS);
    expect(same(zstdCluster(f, CS, at), pattern(CS))).toBe(true);
  });

  it('refuses a frame whose window is one step over the cluster (0x31: 72 KiB) before decoding it', () => {
    const f = frame(0x31, pattern(CS));
    expect(zstdFrameHeader(f, 0)?.windowSize).toBe(CS + CS / 8);
    expect(() => zstdCluster(f, CS, at)).toThrow(
      expect.objectContaining({ kind: 'limit', limit: 'MAX_ZSTD_WINDOW_CLUSTERS' }),
    );
  });

  it('refuses the 70-byte frame that asked fzstd for 1.9 GiB, without allocating it', () => {
    const f = new Uint8Array(70);
    f.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xa7]);
    expect(zstdFrameHeader(f, 0)!.windowSize).toBeGreaterThan(1.8 * 2 ** 30);
    expect(() => zstdCluster(f, CS, at)).toThrow(expect.objectContaining({ kind: 'limit' }));
  });

  it('bounds every frame, not only the first: a second frame over the bound is refused', () => {
    const half = pattern(CS / 2);
    const two = new Uint8Array([...frame(0x30, half), ...frame(0x31, half)]);
    expect(() => zstdCluster(two, CS, at)).toThrow(expect.objectContaining({ kind: 'limit' }));
    const ok = new Uint8Array([...frame(0x30, half), ...frame(0x30, half), 0xde, 0xad]);
    expect(same(zstdCluster(ok, CS, at), new Uint8Array([...half, ...half]))).toBe(true);
  });

  it("QEMU's own zstd frames (compressed-zstd fixture) stay within one cluster", async () => {
    const img = await openQcow2(new MemorySource('top.qcow2', fixtureBytes('compressed-zstd', 'top.qcow2')));
    const bytes = fixtureBytes('compressed-zstd', 'top.qcow2');
    let frames = 0;
    for (let c = 0; c < 8; c++) {
      const e = decodeL2Entry((await lookupEntry(img, c * CS)).l2Entry, img.header, false);
      if (e.type !== 'compressed') continue;
      const h = zstdFrameHeader(bytes, e.hostOffset)!;
      expect(h.windowSize).toBeLessThanOrEqual(CS);
      frames++;
    }
    expect(frames).toBeGreaterThan(2);
  });
});
