/**
 * One L2 entry as a sum type, for code that explains or checks entries one at a time
 * (inspector, check). Bulk scans (layerStatus.ts) classify entries inline on typed arrays and
 * use the same rules: qcow2_get_cluster_type() and qcow2_get_subcluster_type() in block/qcow2.h.
 */
import type { Qcow2Header } from './header.ts';

export const L2E_COPIED_HI = 0x80000000;
export const L2E_COMPRESSED_HI = 0x40000000;
/** Reserved bits of a standard entry (0x3F000000000001FE), as halves. */
export const L2E_STD_RESERVED_HI = 0x3f000000;
export const L2E_STD_RESERVED_LO = 0x000001fe;
/** Reserved bits of an L1 entry (0x7F000000000001FF), as halves. */
export const L1E_RESERVED_HI = 0x7f000000;
export const L1E_RESERVED_LO = 0x000001ff;

export type ClusterType = 'unallocated' | 'zero-plain' | 'zero-alloc' | 'normal' | 'compressed';

export type L2Entry =
  | { readonly type: 'unallocated'; readonly raw: bigint; readonly reservedBits: bigint }
  | {
      readonly type: 'zero';
      readonly raw: bigint;
      /** ZERO_ALLOC keeps a preallocated host cluster; ZERO_PLAIN has none. */
      readonly hostOffset?: number;
      readonly copied: boolean;
      readonly reservedBits: bigint;
    }
  | {
      readonly type: 'standard';
      readonly raw: bigint;
      readonly hostOffset: number;
      readonly copied: boolean;
      readonly reservedBits: bigint;
    }
  | {
      readonly type: 'compressed';
      readonly raw: bigint;
      /** Host byte offset of the compressed stream (not aligned). */
      readonly hostOffset: number;
      /** Number of 512-byte sectors QEMU reads (the stored count + 1). */
      readonly sectors: number;
      /** Bytes QEMU reads: sectors * 512 - (offset & 511). */
      readonly compressedSize: number;
    };

export interface SubclusterBitmap {
  readonly alloc: number;
  readonly zero: number;
}

const OFFSET_MASK = 0x00fffffffffffe00n;
const STD_RESERVED = 0x3f000000000001fen;

/**
 * Classifies a 64-bit L2 entry as qcow2_get_cluster_type() does. `hasDataFile` lets an entry
 * with offset 0 and the copied bit be a cluster at host offset 0 (spec "External data file").
 */
export function decodeL2Entry(raw: bigint, h: Qcow2Header, hasDataFile: boolean): L2Entry {
  if (raw & (1n << 62n)) {
    // Compressed cluster descriptor: x = 62 - (cluster_bits - 8) (spec "Compressed Clusters Descriptor").
    const x = BigInt(62 - (h.clusterBits - 8));
    const hostOffset = Number(raw & ((1n << x) - 1n) & OFFSET_MASK_COMPRESSED);
    const sectors = Number((raw >> x) & ((1n << BigInt(h.clusterBits - 8)) - 1n)) + 1;
    return {
      type: 'compressed',
      raw,
      hostOffset,
      sectors,
      compressedSize: sectors * 512 - (hostOffset % 512),
    };
  }
  const offset = Number(raw & OFFSET_MASK);
  const copied = (raw & (1n << 63n)) !== 0n;
  const reservedBits = raw & STD_RESERVED;
  if (raw & 1n && !h.extendedL2) {
    return offset
      ? { type: 'zero', raw, hostOffset: offset, copied, reservedBits }
      : { type: 'zero', raw, copied, reservedBits };
  }
  if (offset === 0 && !(hasDataFile && copied)) return { type: 'unallocated', raw, reservedBits };
  return { type: 'standard', raw, hostOffset: offset, copied, reservedBits };
}

/** Bits 0..55 may hold a compressed offset; bits 56+ of it must be zero (spec). */
const OFFSET_MASK_COMPRESSED = (1n << 56n) - 1n;

/** Splits the second half of an extended L2 entry (spec "Extended L2 Entries"). */
export const decodeBitmap = (bitmap: bigint): SubclusterBitmap => ({
  alloc: Number(bitmap & 0xffffffffn),
  zero: Number(bitmap >> 32n),
});

/** Host clusters an entry references, for refcount checks (compressed data may span two). */
export function referencedHostClusters(e: L2Entry, clusterSize: number): readonly number[] {
  switch (e.type) {
    case 'standard':
      return [e.hostOffset - (e.hostOffset % clusterSize)];
    case 'zero':
      return e.hostOffset === undefined ? [] : [e.hostOffset - (e.hostOffset % clusterSize)];
    case 'compressed': {
      const first = e.hostOffset - (e.hostOffset % clusterSize);
      const lastByte = e.hostOffset + e.compressedSize - 1;
      const last = lastByte - (lastByte % clusterSize);
      const out: number[] = [];
      for (let c = first; c <= last; c += clusterSize) out.push(c);
      return out;
    }
    case 'unallocated':
      return [];
  }
}
