/**
 * QEMU releases by name. A release is compared as major * 1000 + minor ("7.2" -> 7002), so the
 * releases where an answer changed read as names, never as magic integers, wherever they are used.
 */
export type Release = number;

/** qemu-nbd 5.2 and older: NBD_STATE_HOLE meant "not ALLOCATED". */
export const QEMU_5_2: Release = 5002;
/** qemu-nbd 6.0 (commit 0da9856851): NBD_STATE_HOLE means "not DATA". qemu-img map without `present`. */
export const QEMU_6_0: Release = 6000;
/** qemu-img map 6.1 added `"present"`. */
export const QEMU_6_1: Release = 6001;
/** The QEMU the goldens were recorded with (fixtures/golden/VERSIONS.txt). */
export const QEMU_7_2: Release = 7002;
/** qemu-img map 8.2 added `"compressed"`. */
export const QEMU_8_2: Release = 8002;
/** The newest release whose behaviour is modelled here. */
export const QEMU_NEWEST: Release = 10002;

/** Parses "X.Y" (or "X.Y.Z") as a release. */
export function parseRelease(s: string): Release {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(s);
  if (!m) throw new RangeError(`not a QEMU release: '${s}' (expected X.Y, e.g. 7.2)`);
  return Number(m[1]) * 1000 + Number(m[2]);
}

export const releaseName = (r: Release): string => `${Math.floor(r / 1000)}.${r % 1000}`;
