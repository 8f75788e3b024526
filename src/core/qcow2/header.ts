/**
 * The qcow2 header (spec "Header"; QEMU qcow2_do_open()). Every field is validated the way
 * QEMU validates it on open, with QEMU's own wording in the error detail so a user can match
 * clusterscope's refusal to qemu-img's.
 */
import { CorruptError, FormatError, LimitError, UnsupportedError } from '../errors.ts';
import { hex } from '../format.ts';
import { u8, u32, u64Big, u64Safe } from '../io/bigEndian.ts';
import { MAX_L1_ENTRIES, MAX_REFTABLE_BYTES, MAX_SNAPSHOTS } from '../limits.ts';

export const QCOW_MAGIC = 0x514649fb;
export const V2_HEADER_LENGTH = 72;
export const V3_MIN_HEADER_LENGTH = 104;

/** Incompatible feature bits (spec "incompatible_features"). */
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_DATA_FILE = 1n << 2n;
export const INCOMPAT_COMPRESSION = 1n << 3n;
export const INCOMPAT_EXTL2 = 1n << 4n;
export const INCOMPAT_KNOWN =
  INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;
export const COMPAT_LAZY_REFCOUNTS = 1n << 0n;
export const AUTOCLEAR_BITMAPS = 1n << 0n;
export const AUTOCLEAR_DATA_FILE_RAW = 1n << 1n;

export const CRYPT_NONE = 0;
export const CRYPT_AES = 1;
export const CRYPT_LUKS = 2;

export type CompressionType = 'zlib' | 'zstd';

export interface Qcow2Header {
  readonly version: 2 | 3;
  readonly backingFileOffset: number;
  readonly backingFileSize: number;
  readonly clusterBits: number;
  readonly clusterSize: number;
  /** Virtual size as QEMU uses it: the header value rounded down to 512 (reference §1.1). */
  readonly size: number;
  /** The raw header value, before rounding (exact below 2^53 or when a multiple of 512). */
  readonly headerSize: number;
  readonly cryptMethod: number;
  readonly l1Size: number;
  readonly l1TableOffset: number;
  readonly refcountTableOffset: number;
  readonly refcountTableClusters: number;
  readonly nbSnapshots: number;
  readonly snapshotsOffset: number;
  readonly incompatibleFeatures: bigint;
  readonly compatibleFeatures: bigint;
  readonly autoclearFeatures: bigint;
  readonly refcountOrder: number;
  readonly headerLength: number;
  readonly compressionType: CompressionType;
  /** Derived: 128-bit L2 entries with 32 subclusters (incompatible bit 4). */
  readonly extendedL2: boolean;
  readonly l2EntryBytes: 8 | 16;
  readonly l2Bits: number;
  readonly l2Entries: number;
  readonly subclusterBits: number;
  readonly subclustersPerCluster: 1 | 32;
}

/** Bytes to read to see any header: the largest header QEMU accepts is one cluster (2 MiB). */
export const HEADER_PROBE_BYTES = 4096;

/** QEMU's BDRV_MAX_LENGTH: INT64_MAX aligned down to BDRV_MAX_ALIGNMENT (1 GiB). */
const BDRV_MAX_LENGTH = (2n ** 63n - 1n) & ~(2n ** 30n - 1n);

/** The number of L1 entries QEMU requires to cover `size` (size_to_l1()). */
export const l1EntriesFor = (size: number, clusterBits: number, l2Bits: number): number =>
  Math.ceil(size / 2 ** (clusterBits + l2Bits));

export function isQcow2Magic(b: Uint8Array): boolean {
  return b.length >= 4 && u32(b, 0) === QCOW_MAGIC;
}

/**
 * Parses and validates the fixed header. `b` holds at least the first HEADER_PROBE_BYTES of
 * the file (or the whole file if shorter). Offsets past the end of the file are not errors
 * here: QEMU reads them as zeros (reference §3.3, §6.9); the image model reports them as findings.
 */
export interface OpenMode {
  /**
   * Open for `qemu-img check` (BDRV_O_CHECK): QEMU then tolerates a missing refcount table and
   * a bad snapshot table position, which the check itself reports.
   */
  readonly check?: boolean;
}

export function parseHeader(file: string, b: Uint8Array, mode: OpenMode = {}): Qcow2Header {
  const at = (structure: string, offset: number) => ({ file, structure, offset });
  if (b.length < V2_HEADER_LENGTH) {
    if (!isQcow2Magic(b)) throw new FormatError(at('header', 0), 'Image is not in qcow2 format');
    throw new CorruptError(at('header', 0), `file is ${b.length} bytes, shorter than a qcow2 header (72)`);
  }
  if (!isQcow2Magic(b)) throw new FormatError(at('header magic', 0), 'Image is not in qcow2 format');
  const version = u32(b, 4);
  if (version !== 2 && version !== 3) {
    throw new FormatError(at('header version', 4), `Unsupported qcow2 version ${version}`);
  }
  /**
   * A 64-bit offset field. QEMU checks these for cluster alignment (and ends below INT64_MAX),
   * not for size, and reads zeros past the end of the file: offsets past 2^53 are kept, exact
   * when they are multiples of 512 (any aligned one is) and below 2^62. An unaligned value is
   * kept as an unaligned number (its alignment check then refuses it in QEMU's words); an
   * aligned one at or past 2^62 (4 EiB) is the one thing refused for size.
   */
  const offset64 = (offset: number, name: string): number => {
    const exact = u64Safe(b, offset);
    if (exact !== undefined) return exact;
    const big = u64Big(b, offset);
    if (big % 512n !== 0n) return Number.MAX_SAFE_INTEGER; // odd: fails every alignment check
    if (big < 1n << 62n) return Number(big);
    throw new LimitError(at(`header ${name}`, offset), `value ${big} reaches 2^62, past any file`);
  };
  const clusterBits = u32(b, 20);
  // qcow2_do_open(): MIN_CLUSTER_BITS 9 .. MAX_CLUSTER_BITS 21.
  if (clusterBits < 9 || clusterBits > 21) {
    throw new UnsupportedError(at('header cluster_bits', 20), `Unsupported cluster size: 2^${clusterBits}`);
  }
  const clusterSize = 2 ** clusterBits;

  let incompatibleFeatures = 0n;
  let compatibleFeatures = 0n;
  let autoclearFeatures = 0n;
  let refcountOrder = 4;
  let headerLength = V2_HEADER_LENGTH;
  let compressionType: CompressionType = 'zlib';
  if (version === 3) {
    if (b.length < V3_MIN_HEADER_LENGTH) {
      throw new CorruptError(at('header', 0), `file ends at ${hex(b.length)}, inside the version 3 header`);
    }
    incompatibleFeatures = u64Big(b, 72);
    compatibleFeatures = u64Big(b, 80);
    autoclearFeatures = u64Big(b, 88);
    refcountOrder = u32(b, 96);
    headerLength = u32(b, 100);
    if (headerLength < V3_MIN_HEADER_LENGTH) {
      throw new CorruptError(at('header header_length', 100), 'qcow2 header too short');
    }
    if (headerLength > clusterSize) {
      throw new CorruptError(at('header header_length', 100), 'qcow2 header exceeds cluster size');
    }
    if (headerLength > 104) {
      const ct = u8(b, 104);
      // validate_compression_type(): an unknown type is refused first (-ENOTSUP), then the
      // byte and incompatible bit 3 must agree. Fuzzing found the order mattered: type 64
      // without the bit was reported as corrupt where QEMU says "unknown compression type".
      if (ct > 1) {
        throw new UnsupportedError(
          at('header compression_type', 104),
          `qcow2: unknown compression type: ${ct}`,
        );
      }
      if (ct === 0 && incompatibleFeatures & INCOMPAT_COMPRESSION) {
        throw new CorruptError(
          at('header compression_type', 104),
          'qcow2: Compression type incompatible feature bit must not be set',
        );
      }
      if (ct !== 0 && !(incompatibleFeatures & INCOMPAT_COMPRESSION)) {
        throw new CorruptError(
          at('header compression_type', 104),
          'qcow2: Compression type incompatible feature bit must be set',
        );
      }
      if (ct === 1) compressionType = 'zstd';
    } else if (incompatibleFeatures & INCOMPAT_COMPRESSION) {
      throw new CorruptError(
        at('header compression_type', 104),
        'qcow2: Compression type incompatible feature bit must not be set',
      );
    }
    const unknown = incompatibleFeatures & ~INCOMPAT_KNOWN;
    if (unknown) {
      throw new UnsupportedError(
        at('header incompatible_features', 72),
        `Unsupported qcow2 feature(s): Unknown incompatible feature: ${unknown.toString(16)}`,
      );
    }
    if (refcountOrder > 6) {
      throw new UnsupportedError(
        at('header refcount_order', 96),
        'Reference count entry width too large; may not exceed 64 bits',
      );
    }
  }

  const extendedL2 = (incompatibleFeatures & INCOMPAT_EXTL2) !== 0n;
  if (extendedL2 && clusterBits < 14) {
    throw new UnsupportedError(
      at('header cluster_bits', 20),
      `Unsupported subcluster size: ${clusterSize / 32}`,
    );
  }
  const l2EntryBytes = extendedL2 ? 16 : 8;
  const l2Bits = clusterBits - (extendedL2 ? 4 : 3);

  const backingFileOffset = offset64(8, 'backing_file_offset');
  const backingFileSize = u32(b, 16);
  if (backingFileOffset > clusterSize) {
    throw new CorruptError(at('header backing_file_offset', 8), 'Invalid backing file offset');
  }
  if (backingFileOffset && backingFileSize > Math.min(1023, clusterSize - backingFileOffset)) {
    throw new CorruptError(at('header backing_file_size', 16), 'Backing file name too long');
  }

  // The virtual size is any u64 (QEMU keeps size / 512 sectors): past 2^53 a double still holds
  // it exactly once rounded down to 512 (multiples of 512 are exact up to 2^62, and QEMU refuses
  // more than 2^61 below). It is checked against the L1 size with QEMU's arithmetic, below.
  const sizeBig = u64Big(b, 24);
  const headerSize = Number(sizeBig);
  const size = Number(sizeBig - (sizeBig % 512n));
  const cryptMethod = u32(b, 32);
  if (cryptMethod > CRYPT_LUKS) {
    throw new UnsupportedError(at('header crypt_method', 32), `Unsupported encryption method ${cryptMethod}`);
  }
  const l1Size = u32(b, 36);
  const l1TableOffset = offset64(40, 'l1_table_offset');
  const refcountTableOffset = offset64(48, 'refcount_table_offset');
  const refcountTableClusters = u32(b, 56);
  const nbSnapshots = u32(b, 60);
  const snapshotsOffset = offset64(64, 'snapshots_offset');

  // The order of the following checks is qcow2_do_open()'s.
  if (refcountTableClusters === 0 && !mode.check) {
    throw new CorruptError(
      at('header refcount_table_clusters', 56),
      'Image does not contain a reference count table',
    );
  }
  if (refcountTableClusters * clusterSize > MAX_REFTABLE_BYTES) {
    throw new LimitError(
      at('header refcount_table_clusters', 56),
      'Reference count table too large',
      'MAX_REFTABLE_BYTES',
    );
  }
  if (refcountTableOffset % clusterSize) {
    throw new CorruptError(at('header refcount_table_offset', 48), 'Reference count table offset invalid');
  }
  if (nbSnapshots > MAX_SNAPSHOTS && !mode.check) {
    throw new LimitError(at('header nb_snapshots', 60), 'Snapshot table too large', 'MAX_SNAPSHOTS');
  }
  if (snapshotsOffset % clusterSize && !mode.check) {
    throw new CorruptError(at('header snapshots_offset', 64), 'Snapshot table offset invalid');
  }
  if (l1Size > MAX_L1_ENTRIES) {
    throw new LimitError(at('header l1_size', 36), 'Active L1 table too large', 'MAX_L1_ENTRIES');
  }
  // size_to_l1() is DIV_ROUND_UP() in 64-bit unsigned arithmetic: it wraps for sizes within one
  // L2 span of 2^64, and such an image passes the L1 check and fails on its sector count.
  const span = 1n << BigInt(clusterBits + l2Bits);
  const l1Needed = BigInt.asUintN(64, sizeBig + span - 1n) / span;
  if (l1Needed > 0x7fffffffn) {
    throw new UnsupportedError(at('header size', 24), 'Image is too big');
  }
  if (BigInt(l1Size) < l1Needed) {
    throw new CorruptError(at('header l1_size', 36), 'L1 table is too small');
  }
  if (sizeBig / 512n > BDRV_MAX_LENGTH / 512n) {
    // bdrv_refresh_total_sectors(): more sectors than BDRV_MAX_LENGTH (EFBIG).
    throw new UnsupportedError(at('header size', 24), 'Could not refresh total sector count: File too large');
  }
  if (l1TableOffset % clusterSize) {
    throw new CorruptError(at('header l1_table_offset', 40), 'Active L1 table offset invalid');
  }

  return {
    version,
    backingFileOffset,
    backingFileSize,
    clusterBits,
    clusterSize,
    size,
    headerSize,
    cryptMethod,
    l1Size,
    l1TableOffset,
    refcountTableOffset,
    refcountTableClusters,
    nbSnapshots,
    snapshotsOffset,
    incompatibleFeatures,
    compatibleFeatures,
    autoclearFeatures,
    refcountOrder,
    headerLength,
    compressionType,
    extendedL2,
    l2EntryBytes,
    l2Bits,
    l2Entries: 2 ** l2Bits,
    subclusterBits: extendedL2 ? clusterBits - 5 : clusterBits,
    subclustersPerCluster: extendedL2 ? 32 : 1,
  };
}
