/**
 * How the File API's reads are made and scheduled, in reader workers (readerPool.ts) and in the
 * engine's worker alike. A reader is the fastest way the File API gave a worker scattered parts
 * of a dropped file (bench/blobRead.mjs measures every way it allows, in the same run as
 * qemu-img map): a File is posted to each reader once; a reader slices its share of the
 * batches, reads each batch as one composite Blob and transfers the bytes back. The engine's
 * worker then neither slices (~0.3 ms a slice, synchronous: ~0.6 s of a 1 TiB image's 2048 L2
 * tables) nor waits for its own event loop to start the next batch: a reader starts it while the
 * engine decodes, posts partial maps and answers bins.
 *
 * One scheduling rule (BatchQueue) serves the readers and the engine's own reads where no reader
 * can be started (no nested Worker: Node, tests): batches start in the order they were asked
 * for, at most BATCHES_IN_FLIGHT and BYTES_IN_FLIGHT at once, one start per task.
 */

/**
 * Composite reads one reader (or the engine's worker reading alone) keeps in flight. Chromium's
 * browser process reads a composite Blob's parts one after another and shares itself between
 * the composites in flight, so more of them in flight keep it busier: the 2048 L2 tables of the
 * 1 TiB image took ~2x as long one at a time as four at a time, and the floor's best was 4
 * readers of 4 (bench/blobRead.mjs, README.md). The full map with 2 readers of 4 each took
 * 1.4-1.6x the floor, of 2 each 1.4-1.8x: no better within a shared machine's noise.
 */
export const BATCHES_IN_FLIGHT = 4;

/**
 * Bytes one reader (or the engine's worker) may have asked Chromium for and not yet handed on:
 * the memory reads in flight may hold, per reader. Four full batches of 128 L2 tables of 64 KiB
 * are 32 MiB; a batch larger than this (BlobSource BATCH_BYTES) starts alone, after the ones
 * before it.
 */
export const BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/** Runs `f` in a later task (not a microtask): other messages and timers get their turn first. */
export function nextTask(f: () => void): void {
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

/** Byte ranges [start, end) of one Blob, read as one composite Blob: `ranges` holds start, end pairs. */
export async function readRanges(blob: Blob, ranges: readonly number[]): Promise<ArrayBuffer> {
  const parts: Blob[] = [];
  for (let k = 0; k < ranges.length; k += 2) parts.push(blob.slice(ranges[k]!, ranges[k + 1]!));
  return (parts.length === 1 ? parts[0]! : new Blob(parts)).arrayBuffer();
}

/** Sum of a batch's range lengths. */
export function rangeBytes(ranges: readonly number[]): number {
  let n = 0;
  for (let k = 0; k < ranges.length; k += 2) n += ranges[k + 1]! - ranges[k]!;
  return n;
}

export interface QueueLimits {
  readonly batches: number;
  readonly bytes: number;
}

/**
 * Starts queued jobs in the order they were pushed, while fewer than `limits.batches` are in
 * flight and their bytes stay within `limits.bytes` (a job larger than the budget starts alone).
 * Starting a batch slices synchronously, so at most one starts per task (`later`): whatever
 * else the thread has to do runs between two starts.
 */
export class BatchQueue {
  private readonly queue: { bytes: number; run: () => Promise<void> }[] = [];
  private inFlight = 0;
  private bytesInFlight = 0;
  private scheduled = false;
  /** Most jobs and bytes ever in flight at once, for tests and benchmarks. */
  peakBatches = 0;
  peakBytes = 0;

  constructor(
    private readonly limits: QueueLimits = { batches: BATCHES_IN_FLIGHT, bytes: BYTES_IN_FLIGHT },
    private readonly later: (f: () => void) => void = nextTask,
  ) {}

  /** Queues `run` (a read of `bytes`); it starts when the limits allow, after every job pushed before it. */
  push(bytes: number, run: () => Promise<void>): void {
    this.queue.push({ bytes, run });
    this.startOne();
  }

  private fits(bytes: number): boolean {
    return (
      this.inFlight === 0 ||
      (this.inFlight < this.limits.batches && this.bytesInFlight + bytes <= this.limits.bytes)
    );
  }

  /** Starts the next job if it fits and no start is waiting for its task; schedules the one after. */
  private startOne(): void {
    if (this.scheduled) return;
    const job = this.queue[0];
    if (!job || !this.fits(job.bytes)) return;
    this.queue.shift();
    this.inFlight++;
    this.bytesInFlight += job.bytes;
    this.peakBatches = Math.max(this.peakBatches, this.inFlight);
    this.peakBytes = Math.max(this.peakBytes, this.bytesInFlight);
    job.run().finally(() => {
      this.inFlight--;
      this.bytesInFlight -= job.bytes;
      this.startOne();
    });
    // The next start, even of a job pushed later in this task, waits for the next task.
    this.scheduled = true;
    this.later(() => {
      this.scheduled = false;
      this.startOne();
    });
  }
}

/** What crosses to a reader: a Blob to keep (by id), a batch to read, a Blob to forget. */
export type ToReader =
  | { readonly t: 'blob'; readonly id: number; readonly blob: Blob }
  | { readonly t: 'read'; readonly id: number; readonly req: number; readonly ranges: readonly number[] }
  | { readonly t: 'drop'; readonly id: number };

/** A reader's answer: the batch's bytes (transferred), or why the read failed. */
export type FromReader =
  | { readonly req: number; readonly buf: ArrayBuffer }
  | { readonly req: number; readonly error: { readonly name: string; readonly message: string } };

/** The side of a MessagePort or Worker a pool and a reader use. */
export interface Port {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}

/** A reader: serves ToReader messages on `port` (readerWorker.ts runs it on its worker scope). */
export function serveReads(port: Port, limits?: QueueLimits): BatchQueue {
  const blobs = new Map<number, Blob>();
  const queue = new BatchQueue(limits);
  port.onmessage = ({ data }: MessageEvent<ToReader>) => {
    if (data.t === 'blob') blobs.set(data.id, data.blob);
    else if (data.t === 'drop') blobs.delete(data.id);
    else {
      const { id, req, ranges } = data;
      queue.push(rangeBytes(ranges), async () => {
        try {
          const blob = blobs.get(id);
          if (!blob) throw new Error(`reader: no file ${id}`);
          const buf = await readRanges(blob, ranges);
          port.postMessage({ req, buf } satisfies FromReader, [buf]);
        } catch (e) {
          const error =
            e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
          port.postMessage({ req, error } satisfies FromReader);
        }
      });
    }
  };
  return queue;
}
