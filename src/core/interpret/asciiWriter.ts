/**
 * Builds ASCII text as bytes. Maps with 100k+ entries are printed by writing digits straight
 * into a growable Uint8Array: no string per entry, so no garbage-collector pauses (bench/
 * measured string building at ~10x the time of this writer on a 107k-entry map).
 */
const encoder = new TextEncoder();

export class AsciiWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** Appends pre-encoded bytes (see `ascii()`); a loop, since set() costs more for short pieces. */
  bytes(b: Uint8Array): this {
    const n = b.length;
    if (this.len + n > this.buf.length) this.room(n);
    const buf = this.buf;
    let at = this.len;
    for (let i = 0; i < n; i++) buf[at++] = b[i]!;
    this.len = at;
    return this;
  }

  /**
   * Appends a non-negative integer in decimal, exactly: past 2^53 a double is still an exact
   * integer (qcow2 sizes and offsets are multiples of 512), but dividing it by 10 is not, so
   * those go through BigInt. Below, the number is cut into two parts under 10^8 (small
   * integers, so V8 divides them as integers) written two digits at a time: a million-entry
   * map prints ~3 M such numbers, and dividing the double by 10 per digit was a fifth of the
   * CLI's map time (bench/README.md).
   */
  uint(n: number): this {
    if (n > Number.MAX_SAFE_INTEGER) return this.bytes(encoder.encode(BigInt(n).toString()));
    if (this.len + 16 > this.buf.length) this.room(16);
    if (n < E8) {
      this.len = small(this.buf, this.len, n);
      return this;
    }
    // Exact: n / 1e8 is correctly rounded, and a quotient below 2^27 that is not an integer lies
    // at least 1e-8 from one, more than half its ulp (at most 2^-27): the floor is never rounded
    // up to the next integer. hi * 1e8 <= n is exact.
    const hi = Math.floor(n / E8);
    let lo = n - hi * E8;
    const buf = this.buf;
    const at = small(buf, this.len, hi);
    // lo: exactly 8 digits, leading zeros included.
    for (let i = at + 6; i >= at; i -= 2) {
      const q = (lo / 100) | 0;
      const r = (lo - q * 100) << 1;
      buf[i] = DIGIT_PAIRS[r]!;
      buf[i + 1] = DIGIT_PAIRS[r + 1]!;
      lo = q;
    }
    this.len = at + 8;
    return this;
  }

  /**
   * Appends C's printf("%#-16x") of a non-negative integer: "0" for zero, else "0x" and lower-case
   * hex, left-justified with spaces to `width` columns (qemu-img map's human columns).
   */
  hexColumn(n: number, width = 16): this {
    if (this.len + 24 > this.buf.length) this.room(24);
    const buf = this.buf;
    const from = this.len;
    if (n === 0) buf[this.len++] = 48;
    else if (n > Number.MAX_SAFE_INTEGER) {
      // Exact: an integer double's hex digits are its own (no division by a non-power of 2).
      this.bytes(encoder.encode(`0x${n.toString(16)}`));
    } else {
      buf[this.len++] = 48;
      buf[this.len++] = 120;
      let digits = 0;
      for (let v = n; v >= 1; v = Math.floor(v / 16)) digits++;
      let v = n;
      for (let i = this.len + digits - 1; i >= this.len; i--) {
        const d = v % 16;
        buf[i] = d < 10 ? 48 + d : 87 + d;
        v = Math.floor(v / 16);
      }
      this.len += digits;
    }
    while (this.len - from < width) this.buf[this.len++] = 32;
    return this;
  }

  /** Appends any text as UTF-8 (file names). */
  text(s: string): this {
    return this.bytes(encoder.encode(s));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** The bytes written (a view: the writer must not be used afterwards). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** A copy of the bytes written, and the writer emptied for more (streamed output). */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }
}

const E8 = 1e8;

/** "00" "01" ... "99": the two digits of 0-99 at [2i, 2i+1]. */
const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGIT_PAIRS[2 * i] = 48 + Math.floor(i / 10);
  DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10);
}

/** Writes `v` (an integer in [0, 10^8)) in decimal at `at`; returns the end. */
function small(buf: Uint8Array, at: number, v: number): number {
  const digits =
    v < 10 ? 1 : v < 100 ? 2 : v < 1e3 ? 3 : v < 1e4 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : 8;
  let i = at + digits;
  const end = i;
  while (v >= 100) {
    const q = (v / 100) | 0;
    const r = (v - q * 100) << 1;
    buf[--i] = DIGIT_PAIRS[r + 1]!;
    buf[--i] = DIGIT_PAIRS[r]!;
    v = q;
  }
  if (v >= 10) {
    buf[--i] = DIGIT_PAIRS[2 * v + 1]!;
    buf[--i] = DIGIT_PAIRS[2 * v]!;
  } else buf[--i] = 48 + v;
  return end;
}

/** Encodes a constant piece of ASCII once, for AsciiWriter.bytes(). */
export const ascii = (s: string): Uint8Array => encoder.encode(s);
