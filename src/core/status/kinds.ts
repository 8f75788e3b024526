/**
 * What decided an extent. The first seven are QEMU's subcluster types
 * (QCOW2_SUBCLUSTER_* in block/qcow2.h); the rest are clusterscope's names for the other
 * sources of block status a chain can have.
 */
export const KIND_UNALLOCATED_PLAIN = 0;
export const KIND_UNALLOCATED_ALLOC = 1;
export const KIND_ZERO_PLAIN = 2;
export const KIND_ZERO_ALLOC = 3;
export const KIND_NORMAL = 4;
export const KIND_COMPRESSED = 5;
/** A (sub)cluster QEMU refuses to read (EIO); `host` holds the index of the error. */
export const KIND_ERROR = 6;
/** Bytes of a raw file. */
export const KIND_RAW_DATA = 7;
/** The bytes between a raw file's end and its length rounded up to 512 (reference §3.8). */
export const KIND_RAW_EOF_TAIL = 8;
/**
 * A hole in a raw file: file-posix answers ZERO|OFFSET_VALID, no DATA (reference §3.8). File
 * contents cannot show holes; only the content scan (zeroScan.ts) emits it, for all-zero blocks.
 */
export const KIND_RAW_HOLE = 9;

export const KIND_NAMES: readonly string[] = [
  'UNALLOCATED_PLAIN',
  'UNALLOCATED_ALLOC',
  'ZERO_PLAIN',
  'ZERO_ALLOC',
  'NORMAL',
  'COMPRESSED',
  'INVALID',
  'RAW_DATA',
  'RAW_EOF_TAIL',
  'RAW_HOLE',
];

export const kindName = (k: number): string => KIND_NAMES[k] ?? `kind ${k}`;
