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
   * those go through BigInt.
   */
  uint(n: number): this {
    if (n > Number.MAX_SAFE_INTEGER) return this.bytes(encoder.encode(BigInt(n).toString()));
    if (this.len + 16 > this.buf.length) this.room(16);
    if (n < 10) {
      this.buf[this.len++] = 48 + n;
      return this;
    }
    let digits = 0;
    for (let v = n; v >= 1; v = Math.floor(v / 10)) digits++;
    let v = n;
    for (let i = this.len + digits - 1; i >= this.len; i--) {
      this.buf[i] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.len += digits;
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

/** Encodes a constant piece of ASCII once, for AsciiWriter.bytes(). */
export const ascii = (s: string): Uint8Array => encoder.encode(s);
