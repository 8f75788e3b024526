/**
 * FNV-1a 64 (Fowler/Noll/Vo, 64-bit offset basis and prime) over a list of byte chunks, as 16
 * lowercase hex digits. Small and fast, not cryptographic: it tells "the same image" from "a
 * different one" in a permalink (header + L1 table), it does not resist a forger.
 * 64-bit arithmetic in two 32-bit halves: the prime is 2^40 + 0x1b3, so h * p =
 * h * 0x1b3 + (h << 40), kept mod 2^64.
 */
export function fnv1a64(chunks: readonly Uint8Array[]): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) {
      lo ^= c[i]!;
      // (hi:lo) * 0x1b3
      const l = (lo & 0xffff) * 0x1b3;
      const m = (lo >>> 16) * 0x1b3 + (l >>> 16);
      const newLo = ((m & 0xffff) << 16) | (l & 0xffff);
      const newHi = Math.imul(hi, 0x1b3) + (m >>> 16);
      // + (lo << 40): lo's low 24 bits land in the high word at bit 8.
      hi = (newHi + (lo << 8)) >>> 0;
      lo = newLo >>> 0;
    }
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** Fingerprints are 16 hex digits; anything else in a link is refused. */
export const isFingerprint = (s: string): boolean => /^[0-9a-f]{16}$/.test(s);
