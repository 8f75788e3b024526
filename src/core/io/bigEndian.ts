/**
 * Big-endian integer access. qcow2 stores every multi-byte integer big-endian (spec, "Header").
 * 64-bit fields come back as numbers when they are exact (below 2^53) and otherwise as
 * `undefined` from `u64Safe`, so the caller can raise a LimitError naming the field.
 */
export const u8 = (b: Uint8Array, at: number): number => b[at] ?? 0;
export const u16 = (b: Uint8Array, at: number): number => (u8(b, at) << 8) | u8(b, at + 1);
export const u32 = (b: Uint8Array, at: number): number =>
  ((u8(b, at) << 24) | (u8(b, at + 1) << 16) | (u8(b, at + 2) << 8) | u8(b, at + 3)) >>> 0;

/** The full 64-bit value as a BigInt (flags, masks, bit 63). */
export const u64Big = (b: Uint8Array, at: number): bigint =>
  (BigInt(u32(b, at)) << 32n) | BigInt(u32(b, at + 4));

/** The value as a number if it is below 2^53, else undefined. */
export function u64Safe(b: Uint8Array, at: number): number | undefined {
  const hi = u32(b, at);
  if (hi >= 0x200000) return undefined;
  return hi * 0x100000000 + u32(b, at + 4);
}

export const latin1 = (b: Uint8Array, at: number, len: number): string => {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(u8(b, at + i));
  return s;
};

/** Decodes UTF-8 text (file names in qcow2 are bytes; QEMU treats them as C strings). */
export const utf8 = (b: Uint8Array, at: number, len: number): string =>
  new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(at, at + len));
