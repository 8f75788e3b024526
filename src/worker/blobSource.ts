/**
 * ByteSource over a Blob or File: only the metadata the engine asks for is read and nothing is
 * loaded whole. Core batches its reads (whole L2 tables, up to MAX_READ_BYTES) and keeps many
 * in flight (qcow2/tableReader.ts TABLE_PREFETCH_GROUPS); the reads started in one turn of the event loop
 * are served by one composite Blob of their slices, because in Chromium each arrayBuffer()
 * costs ~6 ms of browser-process round trip while the bytes themselves are cheap
 * (ARCHITECTURE.md: slice size decides the speed).
 */
import type { ByteSource } from '../core/io/byteSource.ts';

/** Bytes one composite read may gather; a larger batch is split. */
export const BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Bytes of a source's first batches; later batches may be as large as all bytes asked for before
 * them, up to BATCH_BYTES. A composite read resolves all at once, so a window of 256 L2 tables
 * read as one 16 MiB batch kept the scan (and the map) waiting ~0.3 s for its first table;
 * ramping lets the scan start on the first tables while the rest is read.
 */
export const FIRST_BATCH_BYTES = 1024 * 1024;

/**
 * The file's first bytes, read once and kept: opening a qcow2 image reads the magic, the header,
 * its extensions, the backing name and the L1 table one after another, each a browser-process
 * round trip (~6-20 ms). With the default 64 KiB clusters all of them (and the refcount table)
 * lie in the first clusters: the L1 table of a 1 TiB image ends at 0x34000. One 256 KiB read
 * serves the whole open; a read that reaches past it goes to the file as usual.
 */
export const HEAD_BYTES = 256 * 1024;

/**
 * Slices one composite read may gather. Making the slices and the composite Blob is synchronous
 * and costs ~0.3 ms a slice in Chromium (2048 L2 tables: ~0.6 s of the worker's time), so
 * batches are started one per turn of the event loop and kept to 128 slices (~40 ms): the scan,
 * the first partial map and bin requests run between them instead of after all of them.
 */
export const MAX_BATCH_PARTS = 128;

/** Runs `f` in a later task (not a microtask): other messages and timers get their turn first. */
function nextTask(f: () => void): void {
  if (typeof MessageChannel === 'undefined') {
    setTimeout(f, 0);
    return;
  }
  const ch = new MessageChannel();
  ch.port1.onmessage = () => {
    ch.port1.close();
    f();
  };
  ch.port2.postMessage(null);
}

interface Pending {
  readonly start: number;
  readonly end: number;
  resolve(b: Uint8Array): void;
  reject(e: unknown): void;
}

export class BlobSource implements ByteSource {
  /** Blob reads issued (one per batch), for benchmarks. */
  reads = 0;
  private queue: Pending[] = [];
  /** Batches waiting for their turn to be sliced and read, and whether a turn is scheduled. */
  private batches: Pending[][] = [];
  private pumping = false;
  /** Bytes asked for so far (batch sizes grow with it). */
  private issued = 0;
  private head: Promise<Uint8Array> | undefined;

  constructor(
    readonly name: string,
    private readonly blob: Blob,
  ) {}

  get size(): number {
    return this.blob.size;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.blob.size);
    const end = Math.min(offset + length, this.blob.size);
    if (end <= start) return Promise.resolve(new Uint8Array(0));
    if (end <= HEAD_BYTES) {
      // Copies: a caller may keep or change its bytes; the head stays as read.
      if (!this.head) {
        const head = this.enqueue(0, Math.min(HEAD_BYTES, this.blob.size));
        // A failed read is not kept: the next read tries the file again.
        head.catch(() => {
          if (this.head === head) this.head = undefined;
        });
        this.head = head;
      }
      return this.head.then((h) => h.slice(start, end));
    }
    return this.enqueue(start, end);
  }

  private enqueue(start: number, end: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.queue.length === 0) queueMicrotask(() => this.flush());
      this.queue.push({ start, end, resolve, reject });
    });
  }

  private flush(): void {
    const q = this.queue;
    this.queue = [];
    let batch: Pending[] = [];
    let bytes = 0;
    // A batch may be as large as everything asked for before it: the first reads of a source
    // are small and quick, a scan's later read-ahead goes in full batches.
    const limit = () => Math.min(BATCH_BYTES, Math.max(FIRST_BATCH_BYTES, this.issued));
    for (const p of q) {
      if (batch.length && (bytes + (p.end - p.start) > limit() || batch.length === MAX_BATCH_PARTS)) {
        this.batches.push(batch);
        this.issued += bytes;
        batch = [];
        bytes = 0;
      }
      batch.push(p);
      bytes += p.end - p.start;
    }
    if (batch.length) this.batches.push(batch);
    this.issued += bytes;
    if (!this.pumping) this.pump();
  }

  /** Starts the next batch now and the one after it in a later task (MAX_BATCH_PARTS). */
  private pump(): void {
    const batch = this.batches.shift();
    this.pumping = batch !== undefined && this.batches.length > 0;
    if (!batch) return;
    void this.readBatch(batch);
    if (this.pumping) nextTask(() => this.pump());
  }

  private async readBatch(batch: readonly Pending[]): Promise<void> {
    this.reads++;
    try {
      const parts = batch.map((p) => this.blob.slice(p.start, p.end));
      const buf = await (parts.length === 1 ? parts[0]! : new Blob(parts)).arrayBuffer();
      let at = 0;
      for (const p of batch) {
        const n = p.end - p.start;
        p.resolve(new Uint8Array(buf, at, Math.min(n, buf.byteLength - at)));
        at += n;
      }
    } catch (e) {
      for (const p of batch) p.reject(e);
    }
  }
}
