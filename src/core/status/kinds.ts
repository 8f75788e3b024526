/**
 * What decided an extent. The first seven are QEMU's subcluster types, the codec's
 * QCOW2_SUBCLUSTER_* (qcow2/l2entry.ts); the rest are clusterscope's names for the other
 * sources of block status a chain can have.
 */
import {
  QCOW2_SUBCLUSTER_COMPRESSED,
  QCOW2_SUBCLUSTER_INVALID,
  QCOW2_SUBCLUSTER_NORMAL,
  QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC,
  QCOW2_SUBCLUSTER_UNALLOCATED_PLAIN,
  QCOW2_SUBCLUSTER_ZERO_ALLOC,
  QCOW2_SUBCLUSTER_ZERO_PLAIN,
  SUBCLUSTER_TYPE_NAMES,
} from '../qcow2/l2entry.ts';

export const KIND_UNALLOCATED_PLAIN = QCOW2_SUBCLUSTER_UNALLOCATED_PLAIN;
export const KIND_UNALLOCATED_ALLOC = QCOW2_SUBCLUSTER_UNALLOCATED_ALLOC;
export const KIND_ZERO_PLAIN = QCOW2_SUBCLUSTER_ZERO_PLAIN;
export const KIND_ZERO_ALLOC = QCOW2_SUBCLUSTER_ZERO_ALLOC;
export const KIND_NORMAL = QCOW2_SUBCLUSTER_NORMAL;
export const KIND_COMPRESSED = QCOW2_SUBCLUSTER_COMPRESSED;
/** A (sub)cluster QEMU refuses to read (EIO, QCOW2_SUBCLUSTER_INVALID); `host` holds the index of the error. */
export const KIND_ERROR = QCOW2_SUBCLUSTER_INVALID;
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
  ...SUBCLUSTER_TYPE_NAMES,
  'RAW_DATA',
  'RAW_EOF_TAIL',
  'RAW_HOLE',
];

export const kindName = (k: number): string => KIND_NAMES[k] ?? `kind ${k}`;
