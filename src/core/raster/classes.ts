/**
 * The raster's classes for a map of guest bytes: what a byte is, as a bin's fractions carry it
 * (bins.ts). Keys name one meaning each, wherever they appear (heatmap, lanes, legend, host map,
 * diff), so one palette can give each one colour. Content is one partition (data / zero /
 * absent, plus error where QEMU refuses to read); the other classes overlap it. A persistent
 * bitmap's classes (dirty / clean, and what an incremental backup reads of its dirty bytes) are
 * carried for one bitmap at a time, the one the heatmap asks for (raster/bitmap.ts); a bitmap's
 * lane uses dirty and clean.
 */

/** Allocated somewhere in the chain and not reading as zero: bytes read from host storage. */
export const C_DATA = 0;
/** Allocated in the chain and reading as zeroes (block status ZERO). */
export const C_ZERO = 1;
/** Found in no layer (qemu-img map "present": false); it reads as zero. */
export const C_ABSENT = 2;
/** Past the point where QEMU refuses to read (the walk stopped at corrupt metadata). */
export const C_ERROR = 3;
/** NBD_STATE_HOLE as qemu-nbd 6.0+ sets it (not DATA). */
export const C_HOLE = 4;
/** NBD_STATE_HOLE as qemu-nbd 5.2 and older set it (not ALLOCATED). */
export const C_HOLE_52 = 5;
/** Allocated in the top layer itself (qemu-img map depth 0 and present). */
export const C_TOP = 6;
export const C_COMPRESSED = 7;
/** qemu:dirty-bitmap:NAME 1: the bit covering the byte is set (written while the bitmap was enabled). */
export const C_DIRTY = 8;
/** qemu:dirty-bitmap:NAME 0: not written since the bitmap was created or cleared. */
export const C_CLEAN = 9;
/** Dirty, and block status DATA without ZERO: bytes an incremental backup copies. */
export const C_BACKUP_DATA = 10;
/** Dirty, and allocated as ZERO: a backup writes zeroes (or skips), reading nothing. */
export const C_BACKUP_ZERO = 11;
/** Dirty, and in no layer (allocation depth 0): it reads as zero, e.g. discarded without a backing file. */
export const C_BACKUP_ABSENT = 12;
/** qemu:allocation-depth d sits at C_DEPTH + d (0 = absent, 1 = top, ...). */
export const C_DEPTH = 13;

const KEYS = [
  'data',
  'zero',
  'absent',
  'error',
  'hole',
  'hole-5.2',
  'top',
  'compressed',
  'dirty',
  'clean',
  'backup-data',
  'backup-zero',
  'backup-absent',
] as const;

/** Class keys of a chain of `layers` layers, by index. */
export function chainClassKeys(layers: number): string[] {
  return [...KEYS, ...Array.from({ length: layers + 1 }, (_, d) => `depth-${d}`)];
}

export const chainClassCount = (layers: number): number => C_DEPTH + layers + 1;

/** The depth a class key names (`depth-2` -> 2), or -1. */
export const depthOfKey = (key: string): number => (key.startsWith('depth-') ? Number(key.slice(6)) : -1);
