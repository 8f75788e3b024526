/**
 * ByteSource over a Blob or File: only the metadata the engine asks for is read and nothing is
 * loaded whole. Core batches its reads (whole L2 tables, up to MAX_READ_BYTES) and keeps many
 * in flight (qcow2/tableReader.ts TABLE_PREFETCH_GROUPS); the reads started in one turn of the event loop
 * are served by one composite Blob of their slices, because in Chromium each arrayBuffer()
 * costs ~6 ms of browser-process round trip while the bytes themselves are cheap
 * (ARCHITECTURE.md: slice size decides the speed). Those batches (of at most MAX_BATCH_PARTS
 * slices) go to the reader workers (readerPool.ts), or where none can be started are read here,
 * under the same rule (blobReads.ts BatchQueue: in order, BATCHES_IN_FLIGHT and
 * BYTES_IN_FLIGHT at once).
 */
import type { ByteSource } from '../core/io/byteSource.ts';
import { BATCHES_IN_FLIGHT, BatchQueue, nextTask, readRanges } from './blobReads.ts';
import { type ReaderPool, readerPool } from './readerPool.ts';

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
 * and costs ~0.3 ms a slice in Chromium (2048 L2 tables: ~0.6 s of a thread's time), so
 * batches are started one per turn of the event loop and kept to 128 slices (~40 ms): where the
 * engine's worker reads itself, the scan, the first partial map and bin requests run between
 * them instead of after all of them. A reader worker (readerPool.ts) has nothing else to run, and
 * 128 is still its best size: 128 x 4 in flight read the 2048 tables as fast as 64 x 8, faster
 * than 256 x 4 or 32 x 8 (bench/blobRead.mjs).
 */
export const MAX_BATCH_PARTS = 128;

/**
 * Reads of one batch resolved in one task (handOut): the scan decodes as they resolve, so this
 * bounds how long the worker goes without answering the page during an open (16 tables of
 * 64 KiB: ~2 ms of decoding once optimized, ~50 ms before).
 */
export const READS_RESOLVED_PER_TASK = 16;

interface Pending {
  readonly start: number;
  readonly end: number;
  resolve(b: Uint8Array): void;
  reject(e: unknown): void;
}

/** BlobSource.coalesceGap: tables are read through no gap (see there). */
export const BLOB_COALESCE_GAP = 0;

export class BlobSource implements ByteSource {
  /** Blob reads issued (one per batch), for benchmarks. */
  reads = 0;
  private queue: Pending[] = [];
  /** Bytes asked for so far (batch sizes grow with it). */
  private issued = 0;
  private head: Promise<Uint8Array> | undefined;
  /** Where the batches are read: the reader workers (the Blob's id there), or here. */
  private readonly via: { pool: ReaderPool; id: number } | BatchQueue;
  /**
   * Reads the scan keeps asked for ahead of it (ByteSource.prefetchGroups): enough single-table
   * reads for every batch the readers may have in flight, so none waits for the engine's thread
   * to ask for more. With 256 (one or two batches in flight) the 2048 tables of a 1 TiB image
   * arrived one 128-table batch at a time, ~100 ms apart, twice the read floor. 2 readers x 4 x
   * 128 tables of 64 KiB is 64 MiB, the scan's live budget (l2Reader.ts L2_READER_LIVE_BYTES):
   * a larger window would be cut by it and refilled a table at a time.
   */
  readonly prefetchGroups: number;
  /**
   * Neighbouring tables are read as one slice only when they touch (ByteSource.coalesceGap):
   * the slices of a batch are read as one composite Blob, so a second slice costs little, and
   * reading through the data between tables costs its bytes. With the engine's 1 MiB default,
   * a 16 TiB image whose 1024 L2 tables sit among its data clusters read 3.2 GiB for 64 MiB of
   * tables (the map in 13 s); with 0, 70 MiB.
   */
  readonly coalesceGap = BLOB_COALESCE_GAP;

  constructor(
    readonly name: string,
    private readonly blob: Blob,
    pool: ReaderPool | null = readerPool(),
  ) {
    this.via = pool ? { pool, id: pool.register(blob, this) } : new BatchQueue();
    this.prefetchGroups = (pool ? pool.readers : 1) * BATCHES_IN_FLIGHT * MAX_BATCH_PARTS;
  }

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

  /** Cuts the reads asked for in one turn into batches, in order, and hands each to be read. */
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
        this.issue(batch, bytes);
        batch = [];
        bytes = 0;
      }
      batch.push(p);
      bytes += p.end - p.start;
    }
    if (batch.length) this.issue(batch, bytes);
  }

  private issue(batch: readonly Pending[], bytes: number): void {
    this.issued += bytes;
    const ranges = batch.flatMap((p) => [p.start, p.end]);
    const via = this.via;
    if (via instanceof BatchQueue) via.push(bytes, () => this.deliver(batch, readRanges(this.blob, ranges)));
    else void this.deliver(batch, via.pool.read(this.blob, via.id, ranges));
  }

  /** Counts the batch, and once its bytes are in, hands them out (or the batch's error). */
  private deliver(batch: readonly Pending[], read: Promise<ArrayBuffer>): Promise<void> {
    this.reads++;
    return read.then(
      (buf) => void this.handOut(batch, buf),
      (e: unknown) => {
        for (const p of batch) p.reject(e);
      },
    );
  }

  /**
   * Hands each read of a batch its part of the bytes, READS_RESOLVED_PER_TASK per task: a scan
   * decodes each table as its read resolves, in microtasks, so a whole batch resolved at once
   * held the worker for up to 128 tables (~0.4 s while its code was not yet optimized) before a
   * bins or hit request from the page got its turn.
   */
  private async handOut(batch: readonly Pending[], buf: ArrayBuffer): Promise<void> {
    let at = 0;
    for (const [k, p] of batch.entries()) {
      if (k > 0 && k % READS_RESOLVED_PER_TASK === 0) await new Promise<void>((r) => nextTask(r));
      const n = p.end - p.start;
      p.resolve(
        new Uint8Array(buf, Math.min(at, buf.byteLength), Math.max(0, Math.min(n, buf.byteLength - at))),
      );
      at += n;
    }
  }
}
