/**
 * The one way the engine reads bytes. A Blob in the browser, a file handle in Node, a
 * Uint8Array in tests. A parser never assumes it holds the whole file.
 */
export interface ByteSource {
  /** The file's name as the user knows it; used in errors and in qemu-img map's "File" column. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /**
   * Bytes [offset, offset+length) clipped to the end of the source: the result is shorter
   * than `length` when the range runs past EOF (and empty when it starts there).
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Largest gap between two wanted ranges worth reading through in one request. Blob.slice is
   * slow per request (1 MiB default); a local file handle is not (its source says 64 KiB).
   */
  readonly coalesceGap?: number;
  /**
   * How many coalesced L2 reads may be in flight ahead of a scan (qcow2/tableReader.ts). Reads that
   * wait on another thread (Blob, HTTP) gain from many; a source that reads synchronously
   * gains nothing and only holds memory, so it says 0.
   */
  readonly prefetchGroups?: number;
  /** Releases the underlying handle, where there is one (Node files). */
  close?(): Promise<void>;
}

/** A ByteSource over bytes already in memory (tests, generated images, the sandbox). */
export class MemorySource implements ByteSource {
  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {}
  get size(): number {
    return this.bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(offset, this.bytes.length);
    const end = Math.min(offset + length, this.bytes.length);
    return this.bytes.subarray(start, end);
  }
}

/**
 * Reads `length` bytes, padding past EOF with zeros, as QEMU's file-posix driver does for
 * short reads: an L2 table that lies past EOF reads as all-zero entries (reference §3.3).
 */
export async function readPadded(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  const got = await src.read(offset, length);
  if (got.length === length) return got;
  const out = new Uint8Array(length);
  out.set(got);
  return out;
}

/** Counts reads and bytes, for tests and benchmarks that prove only metadata is read. */
export class CountingSource implements ByteSource {
  reads = 0;
  bytesRead = 0;
  constructor(private readonly inner: ByteSource) {}
  get name(): string {
    return this.inner.name;
  }
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    const b = await this.inner.read(offset, length);
    this.bytesRead += b.length;
    return b;
  }
}
