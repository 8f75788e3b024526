/**
 * ByteSource over a Blob or File: each read is one Blob.slice().arrayBuffer(), so only the
 * metadata the engine asks for is read and nothing is loaded whole. Core batches its reads
 * (whole L2 tables, up to MAX_READ_BYTES), which is what makes slices fast (ARCHITECTURE.md).
 */
import type { ByteSource } from '../core/io/byteSource.ts';

export class BlobSource implements ByteSource {
  reads = 0;
  constructor(
    readonly name: string,
    private readonly blob: Blob,
  ) {}

  get size(): number {
    return this.blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.blob.size);
    const end = Math.min(offset + length, this.blob.size);
    if (end <= start) return new Uint8Array(0);
    this.reads++;
    return new Uint8Array(await this.blob.slice(start, end).arrayBuffer());
  }
}
