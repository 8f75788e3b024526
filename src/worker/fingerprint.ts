/**
 * The image's identity for permalinks: fnv1a64 over the top layer's header (the first
 * header_length bytes) and its L1 table; for a raw top, over its first RAW_PROBE_BYTES. Two
 * reads, whatever the image size. The fingerprint changes when the L1 table does (an L2 table
 * allocated or moved), which is when a shared view may no longer show the same thing.
 */
import type { Layer } from '../core/chain/layer.ts';
import { fnv1a64 } from '../core/share/fingerprint.ts';

/** L1 bytes hashed at most (an L1 table for 2^53 bytes of 64 KiB clusters is 16 MiB). */
export const MAX_FINGERPRINT_L1_BYTES = 16 * 1024 * 1024;
export const RAW_PROBE_BYTES = 64 * 1024;

export async function fingerprintLayer(l: Layer): Promise<string> {
  const size = new Uint8Array(8);
  new DataView(size.buffer).setFloat64(0, l.length);
  if (l.format !== 'qcow2') {
    const n = Math.min(l.fileSize, RAW_PROBE_BYTES);
    return fnv1a64([size, n > 0 ? await l.source.read(0, n) : new Uint8Array()]);
  }
  const h = l.header;
  const header = await l.source.read(0, Math.min(h.headerLength, l.source.size));
  const l1Bytes = Math.min(
    h.l1Size * 8,
    MAX_FINGERPRINT_L1_BYTES,
    Math.max(0, l.source.size - h.l1TableOffset),
  );
  const l1 = l1Bytes > 0 ? await l.source.read(h.l1TableOffset, l1Bytes) : new Uint8Array();
  return fnv1a64([size, header, l1]);
}
