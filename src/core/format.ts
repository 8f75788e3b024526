/**
 * The one way offsets and sizes are written for people: offsets in hex, sizes in binary units.
 * Offsets of qcow2 structures are multiples of 512, so a double holds them exactly far past
 * 2^53 and `toString(16)` prints them exactly.
 */

/**
 * An integer in decimal, exactly. String(n) prints the shortest text that reads back as the
 * same double, which past 2^53 is not the integer: String(2 ** 56) is "72057594037927940",
 * qemu-img prints 72057594037927936. Sizes and offsets there are exact doubles (multiples of
 * 512), so BigInt(n) is the integer itself.
 */
export const decimal = (n: number): string =>
  Number.isSafeInteger(n) || !Number.isInteger(n) ? String(n) : BigInt(n).toString();

/** An offset or a field in hex: `0x30000`. */
export const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** printf("%#x"): like hex() but zero prints as "0", as in QEMU's messages. */
export const hexAlt = (n: number | bigint): string => (n === 0 || n === 0n ? '0' : hex(n));

/** A 64-bit table entry as QEMU's debug output shows it: 16 hex digits. */
export const hex64 = (b: bigint): string => `0x${b.toString(16).padStart(16, '0')}`;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/**
 * A byte count in binary units. Rounded (`1.5 GiB`, the default) for labels and captions;
 * `exact` (`1 MiB`, `1536 KiB`, `12345 B`) where the number itself identifies something, as an
 * image's size in a permalink's words: it divides only while the count stays whole.
 */
export function binarySize(n: number, exact = false): string {
  let u = 0;
  let v = n;
  while (v >= 1024 && u < UNITS.length - 1 && (!exact || v % 1024 === 0)) {
    v /= 1024;
    u++;
  }
  const s = Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${s} ${UNITS[u]}`;
}

/**
 * One character as QEMU's JSON writer escapes it (qobject/json-writer.c): the short escapes
 * \b \f \n \r \t, else \uXXXX with upper-case hex, surrogate pairs beyond the BMP.
 */
export function escapeCodePoint(cp: number): string {
  switch (cp) {
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
  }
  if (cp > 0xffff) {
    return `\\u${hex4(0xd800 + ((cp - 0x10000) >> 10))}\\u${hex4(0xdc00 + ((cp - 0x10000) & 0x3ff))}`;
  }
  return `\\u${hex4(cp)}`;
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/**
 * Characters that must not reach a terminal raw from an image: C0 controls (a newline splits a
 * one-line error in two, ESC starts ANSI/OSC sequences that recolour, retitle or rewrite the
 * terminal), DEL, C1 controls (0x9B is a one-byte CSI), line and paragraph separators and the
 * bidirectional overrides that reorder what is shown.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from an image (backing and data-file names, snapshot and bitmap names) made safe for a
 * human line: each control character escaped as QEMU's JSON escapes it, everything else kept,
 * so `evil\nname` prints as qemu-img info --output=json shows it. Escaping again changes
 * nothing, so a message built from escaped parts may be escaped whole.
 */
export const escapeControls = (s: string): string =>
  s.replace(CONTROL, (c) => escapeCodePoint(c.codePointAt(0)!));
