/**
 * The one codec of L1 and L2 entries (spec "Cluster mapping", "Extended L2 Entries",
 * "Compressed Clusters Descriptor"; QEMU block/qcow2.h). Every reader of the tables goes
 * through it: block status, check, the lookup behind the inspector, guest reads and the writer.
 *
 * Three shapes of the same rules:
 * - 64-bit masks with QEMU's names (L2E_OFFSET_MASK, QCOW_OFLAG_*), as BigInts, for code that
 *   builds entries (the writer) or explains one;
 * - functions on an entry's two big-endian 32-bit halves (hi, lo) and its bitmap halves, and a
 *   bulk decoder of a whole L2 table into typed arrays: numbers only, for the scans;
 * - a discriminated union (qcow2-lib's sum type) for code that explains one entry.
 *
 * Cluster and subcluster types are QEMU's QCow2ClusterType and QCow2SubclusterType, with the
 * rules of qcow2_get_cluster_type() and qcow2_get_subcluster_type().
 */
import { INCOMPAT_DATA_FILE, type Qcow2Header } from './header.ts';

// ---- masks, as QEMU names them (block/qcow2.h) -----------------------------------------------

export const L1E_OFFSET_MASK = 0x00fffffffffffe00n;
export const L2E_OFFSET_MASK = 0x00fffffffffffe00n;
/** Reserved bits of an L1 entry (L1E_RESERVED_MASK). */
export const L1E_RESERVED_MASK = 0x7f000000000001ffn;
/** Reserved bits of a standard L2 entry (L2E_STD_RESERVED_MASK). */
export const L2E_STD_RESERVED_MASK = 0x3f000000000001fen;
export const QCOW_OFLAG_COPIED = 1n << 63n;
export const QCOW_OFLAG_COMPRESSED = 1n << 62n;
export const QCOW_OFLAG_ZERO = 1n;
/** QCOW_OFLAG_SUB_ALLOC_RANGE(a, b): allocation bits of subclusters [a, b) of an extended L2 bitmap. */
export const qcowOflagSubAllocRange = (a: number, b: number): bigint => (1n << BigInt(b)) - (1n << BigInt(a));
/** QCOW_OFLAG_SUB_ZERO_RANGE(a, b): zero bits of subclusters [a, b). */
export const qcowOflagSubZeroRange = (a: number, b: number): bigint => qcowOflagSubAllocRange(a, b) << 32n;
/** QCOW_L2_BITMAP_ALL_ZEROES: every subcluster reads as zero. */
export const QCOW_L2_BITMAP_ALL_ZEROES = qcowOflagSubZeroRange(0, 32);

// ---- the same masks on the (hi, lo) halves of an entry ----------------------------------------

export const QCOW_OFLAG_COPIED_HI = 0x80000000;
export const QCOW_OFLAG_COMPRESSED_HI = 0x40000000;
export const QCOW_OFLAG_ZERO_LO = 0x00000001;
export const OFFSET_MASK_HI = 0x00ffffff;
export const OFFSET_MASK_LO = 0xfffffe00;
export const L1E_RESERVED_HI = 0x7f000000;
export const L1E_RESERVED_LO = 0x000001ff;
export const L2E_STD_RESERVED_HI = 0x3f000000;
export const L2E_STD_RESERVED_LO = 0x000001fe;

/** Kept for callers of the earlier names. */
export const L2E_COPIED_HI = QCOW_OFLAG_COPIED_HI;
export const L2E_COMPRESSED_HI = QCOW_OFLAG_COMPRESSED_HI;

// ---- cluster and subcluster types ------------------------------------------------------------

/** QCow2ClusterType: the type of a whole entry (qcow2_get_cluster_type()). */
export const QCOW2_CLUSTER_UNALLOCATED = 0;
export const QCOW2_CLUSTER_ZERO_PLAIN = 1;
export const QCOW2_CLUSTER_ZERO_ALLOC = 2;
export const QCOW2_CLUSTER_NORMAL = 3;
export const QCOW2_CLUSTER_COMPRESSED = 4;
export const CLUSTER_TYPE_NAMES = [
  'UNALLOCATED',
  'ZERO_PLAIN',
  'ZERO_ALLOC',
  'NORMAL',
  'COMPRESSED',
] as const;
export type ClusterTypeName = (typeof CLUSTER_TYPE_NAMES)[number];

/**
 * QCow2SubclusterType (qcow2_get_subcluster_type()). The values are status/kinds.ts's KIND_*
 * 0..6, so a subcluster type is a block-status kind as it stands.
 */
export const QCOW2_SUBCLUSTER_UNALLOCATED_PLAIN = 0;
export const QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC = 1;
export const QCOW2_SUBCLUSTER_ZERO_PLAIN = 2;
export const QCOW2_SUBCLUSTER_ZERO_ALLOC = 3;
export const QCOW2_SUBCLUSTER_NORMAL = 4;
export const QCOW2_SUBCLUSTER_COMPRESSED = 5;
export const QCOW2_SUBCLUSTER_INVALID = 6;
export const SUBCLUSTER_TYPE_NAMES = [
  'UNALLOCATED_PLAIN',
  'UNALLOCATED_ALLOC',
  'ZERO_PLAIN',
  'ZERO_ALLOC',
  'NORMAL',
  'COMPRESSED',
  'INVALID',
] as const;
export type SubclusterTypeName = (typeof SUBCLUSTER_TYPE_NAMES)[number];

/** What decoding an entry depends on besides its bits. */
export interface EntryFormat {
  readonly clusterBits: number;
  /** 128-bit entries with a subcluster bitmap (incompatible bit 4): bit 0 is then ignored. */
  readonly extendedL2: boolean;
  /** External data file (incompatible bit 2): offset 0 with the copied flag is host cluster 0. */
  readonly dataFile: boolean;
}

/** The entry format of an image's header. */
export const entryFormat = (h: Qcow2Header): EntryFormat => ({
  clusterBits: h.clusterBits,
  extendedL2: h.extendedL2,
  dataFile: (h.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n,
});

// ---- functions on halves ---------------------------------------------------------------------

/**
 * Offset bits 9..55 (L1E_OFFSET_MASK / L2E_OFFSET_MASK) of an entry. Exact for every value: a
 * multiple of 512 below 2^56 fits a double's 53-bit mantissa.
 */
export const entryOffset = (hi: number, lo: number): number =>
  (hi & OFFSET_MASK_HI) * 0x100000000 + ((lo & OFFSET_MASK_LO) >>> 0);

/** qcow2_get_cluster_type(). */
export function clusterType(hi: number, lo: number, f: EntryFormat): number {
  if (hi & QCOW_OFLAG_COMPRESSED_HI) return QCOW2_CLUSTER_COMPRESSED;
  const hasOffset = (hi & OFFSET_MASK_HI) !== 0 || (lo & OFFSET_MASK_LO) !== 0;
  if (lo & QCOW_OFLAG_ZERO_LO && !f.extendedL2) {
    return hasOffset ? QCOW2_CLUSTER_ZERO_ALLOC : QCOW2_CLUSTER_ZERO_PLAIN;
  }
  if (hasOffset) return QCOW2_CLUSTER_NORMAL;
  return f.dataFile && hi & QCOW_OFLAG_COPIED_HI ? QCOW2_CLUSTER_NORMAL : QCOW2_CLUSTER_UNALLOCATED;
}

/**
 * True when an extended L2 bitmap contradicts its entry, which makes every subcluster INVALID:
 * an allocated cluster with a subcluster both allocated and zero, or an unallocated cluster
 * with any allocation bit (qcow2_get_subcluster_type()).
 */
export function bitmapInvalid(ctype: number, alloc: number, zero: number): boolean {
  if (ctype === QCOW2_CLUSTER_NORMAL) return (alloc & zero) !== 0;
  if (ctype === QCOW2_CLUSTER_UNALLOCATED) return alloc !== 0;
  return false;
}

/**
 * qcow2_get_subcluster_type() of subcluster `sc` (0..31). `alloc` and `zero` are the bitmap's
 * low and high halves (0 without extended L2, where each cluster is its only subcluster).
 */
export function subclusterType(ctype: number, alloc: number, zero: number, sc: number, ext: boolean): number {
  switch (ctype) {
    case QCOW2_CLUSTER_COMPRESSED:
      return QCOW2_SUBCLUSTER_COMPRESSED;
    case QCOW2_CLUSTER_ZERO_PLAIN:
      return QCOW2_SUBCLUSTER_ZERO_PLAIN;
    case QCOW2_CLUSTER_ZERO_ALLOC:
      return QCOW2_SUBCLUSTER_ZERO_ALLOC;
    case QCOW2_CLUSTER_NORMAL:
      if (!ext) return QCOW2_SUBCLUSTER_NORMAL;
      if (alloc & zero) return QCOW2_SUBCLUSTER_INVALID;
      if ((zero >>> sc) & 1) return QCOW2_SUBCLUSTER_ZERO_ALLOC;
      return (alloc >>> sc) & 1 ? QCOW2_SUBCLUSTER_NORMAL : QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC;
    default:
      if (!ext) return QCOW2_SUBCLUSTER_UNALLOCATED_PLAIN;
      if (alloc) return QCOW2_SUBCLUSTER_INVALID;
      return (zero >>> sc) & 1 ? QCOW2_SUBCLUSTER_ZERO_PLAIN : QCOW2_SUBCLUSTER_UNALLOCATED_PLAIN;
  }
}

/** Reserved bits of a standard (not compressed) L2 entry are set. */
export const l2ReservedBits = (hi: number, lo: number): boolean =>
  (hi & L2E_STD_RESERVED_HI) !== 0 || (lo & L2E_STD_RESERVED_LO) !== 0;

/** Reserved bits of an L1 entry are set. */
export const l1ReservedBits = (hi: number, lo: number): boolean =>
  (hi & L1E_RESERVED_HI) !== 0 || (lo & L1E_RESERVED_LO) !== 0;

/**
 * Bits of the host byte offset in a compressed descriptor: x = 62 - (cluster_bits - 8)
 * (s->csize_shift); bits 0..x-1 hold the offset, bits x..61 the additional sectors.
 */
export const csizeShift = (clusterBits: number): number => 62 - (clusterBits - 8);

/**
 * Host byte offset of a compressed cluster (entry & s->cluster_offset_mask). Exact below 2^53;
 * above, the offset lies far past any file and only its hex (entryHex) is printed exactly.
 */
export function compressedOffset(hi: number, lo: number, clusterBits: number): number {
  const hiBits = csizeShift(clusterBits) - 32;
  return (hi & ((1 << hiBits) - 1)) * 0x100000000 + (lo >>> 0);
}

/** The compressed offset's high half (for exact hex printing of offsets at or above 2^53). */
export const compressedOffsetHi = (hi: number, clusterBits: number): number =>
  hi & ((1 << (csizeShift(clusterBits) - 32)) - 1);

/** 512-byte sectors QEMU reads for a compressed cluster (the stored count + 1). */
export const compressedSectors = (hi: number, clusterBits: number): number =>
  ((hi >>> (csizeShift(clusterBits) - 32)) & ((1 << (clusterBits - 8)) - 1)) + 1;

/** Bytes QEMU reads for a compressed cluster: nb_csectors * 512 - (coffset & 511) (qcow2_parse_compressed_l2_entry()). */
export const compressedBytes = (hi: number, lo: number, clusterBits: number): number =>
  compressedSectors(hi, clusterBits) * 512 - (lo & 511);

/** An entry's 64 bits in hex without leading zeros, as QEMU's PRIx64 prints them (no BigInt). */
export function entryHex(hi: number, lo: number): string {
  if (hi === 0) return (lo >>> 0).toString(16);
  return (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
}

// ---- bulk: a whole L2 table into typed arrays ------------------------------------------------

/** One L2 table decoded as struct-of-arrays; reuse one per scan (`new L2Slice(h.l2Entries)`). */
export class L2Slice {
  /** Entries decoded by the last decodeL2Table(). */
  count = 0;
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  /** Extended L2: allocation (bits 0..31) and zero (bits 32..63) halves of the bitmap; 0 otherwise. */
  readonly alloc: Uint32Array;
  readonly zero: Uint32Array;
  /** QCOW2_CLUSTER_* of each entry. */
  readonly type: Uint8Array;
  constructor(capacity: number) {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.alloc = new Uint32Array(capacity);
    this.zero = new Uint32Array(capacity);
    this.type = new Uint8Array(capacity);
  }
}

/**
 * Decodes the first `count` entries of an L2 table (big-endian bytes as read) into `out`:
 * halves, bitmap halves and cluster type. No object per entry, no BigInt.
 */
export function decodeL2Table(bytes: Uint8Array, count: number, f: EntryFormat, out: L2Slice): L2Slice {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ext = f.extendedL2;
  const stride = ext ? 16 : 8;
  const n = Math.min(count, Math.floor(bytes.byteLength / stride), out.hi.length);
  for (let j = 0; j < n; j++) {
    const at = j * stride;
    const hi = dv.getUint32(at);
    const lo = dv.getUint32(at + 4);
    out.hi[j] = hi;
    out.lo[j] = lo;
    if (ext) {
      // The bitmap's first (big-endian) word is bits 32..63: the zero bits.
      out.zero[j] = dv.getUint32(at + 8);
      out.alloc[j] = dv.getUint32(at + 12);
    }
    out.type[j] = clusterType(hi, lo, f);
  }
  out.count = n;
  return out;
}

/**
 * The run qcow2_get_host_offset() answers for a query that starts at subcluster `sc` of entry
 * `j` (count_contiguous_subclusters()): the starting subcluster's type, and how many
 * subclusters from it share that type, over at most `nbClusters` entries. A cluster in the
 * middle must be entirely of the type to continue; NORMAL, ZERO_ALLOC and UNALLOCATED_ALLOC
 * need host offsets continuing by one cluster; a COMPRESSED run ends with its cluster
 * (reference §3.3). The caller checks the first entry for errors (INVALID, alignment).
 */
export function subclusterRun(
  s: L2Slice,
  j: number,
  sc: number,
  nbClusters: number,
  f: EntryFormat,
): { readonly type: number; readonly count: number } {
  const ext = f.extendedL2;
  const per = ext ? 32 : 1;
  const cs = 2 ** f.clusterBits;
  const t0 = subclusterType(s.type[j]!, s.alloc[j]!, s.zero[j]!, sc, ext);
  const checkOffset =
    t0 === QCOW2_SUBCLUSTER_NORMAL ||
    t0 === QCOW2_SUBCLUSTER_ZERO_ALLOC ||
    t0 === QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC;
  let expected = entryOffset(s.hi[j]!, s.lo[j]!);
  let count = 0;
  for (let i = 0; i < nbClusters && j + i < s.count; i++) {
    const k = j + i;
    const first = i === 0 ? sc : 0;
    const type = s.type[k]!;
    if (i > 0) {
      if (subclusterType(type, s.alloc[k]!, s.zero[k]!, 0, ext) !== t0) break;
      if (checkOffset) {
        expected += cs;
        if (entryOffset(s.hi[k]!, s.lo[k]!) !== expected) break;
      }
    }
    let n = 1;
    while (first + n < per && subclusterType(type, s.alloc[k]!, s.zero[k]!, first + n, ext) === t0) n++;
    count += n;
    if (t0 === QCOW2_SUBCLUSTER_COMPRESSED || first + n < per) break;
  }
  return { type: t0, count };
}

// ---- one entry, for code that explains it ----------------------------------------------------

/** The subcluster bitmap of an extended L2 entry. */
export interface SubclusterBitmap {
  readonly alloc: number;
  readonly zero: number;
}

/**
 * One L2 entry as a sum type (qcow2-lib's shape): unallocated, zero (with a preallocated host
 * cluster for ZERO_ALLOC), standard, compressed. `clusterType` names QEMU's type.
 */
export type L2Entry =
  | {
      readonly type: 'unallocated';
      readonly clusterType: 'UNALLOCATED';
      readonly raw: bigint;
      readonly reservedBits: bigint;
    }
  | {
      readonly type: 'zero';
      readonly clusterType: 'ZERO_PLAIN' | 'ZERO_ALLOC';
      readonly raw: bigint;
      /** ZERO_ALLOC keeps a preallocated host cluster; ZERO_PLAIN has none. */
      readonly hostOffset?: number;
      readonly copied: boolean;
      readonly reservedBits: bigint;
    }
  | {
      readonly type: 'standard';
      readonly clusterType: 'NORMAL';
      readonly raw: bigint;
      readonly hostOffset: number;
      readonly copied: boolean;
      readonly reservedBits: bigint;
    }
  | {
      readonly type: 'compressed';
      readonly clusterType: 'COMPRESSED';
      readonly raw: bigint;
      /** Host byte offset of the compressed stream (not aligned). */
      readonly hostOffset: number;
      /** Number of 512-byte sectors QEMU reads (the stored count + 1). */
      readonly sectors: number;
      /** Bytes QEMU reads: sectors * 512 - (offset & 511). */
      readonly compressedSize: number;
      /** The copied flag, which must never be set on a compressed entry (check reports it). */
      readonly copied: boolean;
    };

const halves = (raw: bigint): [number, number] => [
  Number((raw >> 32n) & 0xffffffffn),
  Number(raw & 0xffffffffn),
];

/**
 * Decodes one 64-bit L2 entry, with the rules of the scans (clusterType()). `hasDataFile` lets
 * an entry with offset 0 and the copied flag be host cluster 0 (spec "External data file").
 */
export function decodeL2Entry(raw: bigint, h: Qcow2Header, hasDataFile: boolean): L2Entry {
  const [hi, lo] = halves(raw);
  const f: EntryFormat = { clusterBits: h.clusterBits, extendedL2: h.extendedL2, dataFile: hasDataFile };
  const copied = (hi & QCOW_OFLAG_COPIED_HI) !== 0;
  const reservedBits = raw & L2E_STD_RESERVED_MASK;
  switch (clusterType(hi, lo, f)) {
    case QCOW2_CLUSTER_COMPRESSED:
      return {
        type: 'compressed',
        clusterType: 'COMPRESSED',
        raw,
        hostOffset: compressedOffset(hi, lo, h.clusterBits),
        sectors: compressedSectors(hi, h.clusterBits),
        compressedSize: compressedBytes(hi, lo, h.clusterBits),
        copied,
      };
    case QCOW2_CLUSTER_ZERO_PLAIN:
      return { type: 'zero', clusterType: 'ZERO_PLAIN', raw, copied, reservedBits };
    case QCOW2_CLUSTER_ZERO_ALLOC:
      return {
        type: 'zero',
        clusterType: 'ZERO_ALLOC',
        raw,
        hostOffset: entryOffset(hi, lo),
        copied,
        reservedBits,
      };
    case QCOW2_CLUSTER_NORMAL:
      return {
        type: 'standard',
        clusterType: 'NORMAL',
        raw,
        hostOffset: entryOffset(hi, lo),
        copied,
        reservedBits,
      };
    default:
      return { type: 'unallocated', clusterType: 'UNALLOCATED', raw, reservedBits };
  }
}

/** Splits the second half of an extended L2 entry (spec "Extended L2 Entries"). */
export const decodeBitmap = (bitmap: bigint): SubclusterBitmap => ({
  alloc: Number(bitmap & 0xffffffffn),
  zero: Number(bitmap >> 32n),
});

const CLUSTER_TYPE_OF: Readonly<Record<ClusterTypeName, number>> = {
  UNALLOCATED: QCOW2_CLUSTER_UNALLOCATED,
  ZERO_PLAIN: QCOW2_CLUSTER_ZERO_PLAIN,
  ZERO_ALLOC: QCOW2_CLUSTER_ZERO_ALLOC,
  NORMAL: QCOW2_CLUSTER_NORMAL,
  COMPRESSED: QCOW2_CLUSTER_COMPRESSED,
};

/** The subcluster type of subcluster `sc` of a decoded entry (qcow2_get_subcluster_type()). */
export function subclusterTypeOf(
  e: L2Entry,
  bitmap: SubclusterBitmap | undefined,
  sc: number,
): SubclusterTypeName {
  const t = subclusterType(
    CLUSTER_TYPE_OF[e.clusterType],
    bitmap?.alloc ?? 0,
    bitmap?.zero ?? 0,
    sc,
    bitmap !== undefined,
  );
  return SUBCLUSTER_TYPE_NAMES[t]!;
}
