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
