/**
 * ByteSource over a Blob or File: each read is one Blob.slice().arrayBuffer(), so only the
 * metadata the engine asks for is read and nothing is loaded whole. Core batches its reads
 * (whole L2 tables, up to MAX_READ_BYTES), which is what makes slices fast (ARCHITECTURE.md).
 */
import type { ByteSource } from '../core/io/byteSource.ts';
import { ReadAhead } from './readAhead.ts';

export class BlobSource implements ByteSource {
  reads = 0;
  private ahead: ReadAhead | undefined;
  constructor(
    readonly name: string,
    private readonly blob: Blob,
  ) {}

  get size(): number {
    return this.blob.size;
  }

  /** Reads `offsets` (each `bytes` long, in this order) a few requests ahead of the caller. */
  readAhead(offsets: readonly number[], bytes: number): void {
    this.ahead = offsets.length ? new ReadAhead((o, n) => this.slice(o, n), offsets, bytes) : undefined;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.ahead?.take(offset, length) ?? this.slice(offset, length);
  }

  private async slice(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.blob.size);
    const end = Math.min(offset + length, this.blob.size);
    if (end <= start) return new Uint8Array(0);
    this.reads++;
    return new Uint8Array(await this.blob.slice(start, end).arrayBuffer());
  }
}
