/**
 * A growable in-memory file: what the qcow2 writer writes into and, because it implements
 * ByteSource, what the engine reads back. Writes past the end extend the file with zeros, as
 * pwrite() past EOF does on a host file; `truncate` shrinks or extends it like ftruncate().
 */
import { LimitError } from '../errors.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { MAX_MEMORY_FILE_BYTES } from './limits.ts';

const MIN_CAPACITY = 64 * 1024;

export class MemoryFile implements ByteSource {
  private buf: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(
    public name: string,
    initial?: Uint8Array,
  ) {
    this.buf = new Uint8Array(Math.max(MIN_CAPACITY, initial?.length ?? 0));
    this.view = new DataView(this.buf.buffer);
    if (initial) {
      this.buf.set(initial);
      this.length = initial.length;
    }
  }

  get size(): number {
    return this.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    return this.readSync(offset, length).slice();
  }

  /** Bytes [offset, offset+length) clipped to EOF, without copying (do not keep across writes). */
  readSync(offset: number, length: number): Uint8Array {
    const start = Math.min(offset, this.length);
    return this.buf.subarray(start, Math.min(offset + length, this.length));
  }

  /** Like readSync but zero-padded to `length` past EOF, as QEMU's file driver pads short reads. */
  readPadded(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    out.set(this.readSync(offset, length));
    return out;
  }

  /** A copy of the whole file (for download or for writing to disk). */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  private reserve(end: number): void {
    if (end <= this.buf.length) return;
    if (end > MAX_MEMORY_FILE_BYTES) {
      throw new LimitError(
        { file: this.name, structure: 'in-memory file', offset: end },
        `would grow beyond ${MAX_MEMORY_FILE_BYTES} bytes (MAX_MEMORY_FILE_BYTES)`,
      );
    }
    let cap = this.buf.length;
    while (cap < end) cap *= 2;
    const next = new Uint8Array(Math.min(cap, Math.max(end, MAX_MEMORY_FILE_BYTES)));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Extends the file with zeros up to `end` (never shrinks). */
  extendTo(end: number): void {
    if (end <= this.length) return;
    this.reserve(end);
    this.buf.fill(0, this.length, end);
    this.length = end;
  }

  truncate(size: number): void {
    if (size > this.length) this.extendTo(size);
    else this.length = size;
  }

  write(offset: number, data: Uint8Array): void {
    this.extendTo(offset + data.length);
    this.buf.set(data, offset);
  }

  fill(offset: number, length: number, value = 0): void {
    this.extendTo(offset + length);
    this.buf.fill(value, offset, offset + length);
  }

  u16(at: number): number {
    return at + 2 <= this.length ? this.view.getUint16(at) : 0;
  }
  u32(at: number): number {
    return at + 4 <= this.length ? this.view.getUint32(at) : 0;
  }
  u64(at: number): bigint {
    return at + 8 <= this.length ? this.view.getBigUint64(at) : 0n;
  }
  setU8(at: number, v: number): void {
    this.extendTo(at + 1);
    this.view.setUint8(at, v);
  }
  setU16(at: number, v: number): void {
    this.extendTo(at + 2);
    this.view.setUint16(at, v);
  }
  setU32(at: number, v: number): void {
    this.extendTo(at + 4);
    this.view.setUint32(at, v);
  }
  setU64(at: number, v: bigint): void {
    this.extendTo(at + 8);
    this.view.setBigUint64(at, v);
  }
}
