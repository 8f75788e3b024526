/**
 * The engine worker's reader workers (blobReads.ts says why they read and how): started once,
 * handed each dropped File once, dealt the batches of every BlobSource. A reader whose script
 * fails to load or throws is given up: its batches are read again by the others, or by the
 * engine's worker itself once none is left, so a read never waits for ever.
 */
import {
  BatchQueue,
  type FromReader,
  type Port,
  rangeBytes,
  readRanges,
  type ToReader,
} from './blobReads.ts';

/**
 * Readers started per engine worker. Measured in Chromium here (bench/README.md): the full map of
 * the 1 TiB image took 1.85x the read floor with the engine's worker reading itself (its slicing
 * and its event loop between the scan's decoding) and 1.4-1.8x with 1, 2 or 4 readers, no
 * difference between them standing out of a shared machine's noise; 2 slice consecutive batches
 * in parallel without more threads than the machine has cores.
 */
export const READER_WORKERS = 2;

/** A reader as the pool sees it: a Worker, or in tests a MessagePort that may say it failed. */
export interface ReaderPort extends Port {
  /** The reader's script failed to load or threw: its batches are read elsewhere. */
  onerror?: ((ev: ErrorEvent) => void) | null;
}

interface Waiting {
  port: number;
  readonly blob: Blob;
  readonly id: number;
  readonly ranges: readonly number[];
  readonly bytes: number;
  resolve(b: ArrayBuffer): void;
  reject(e: unknown): void;
}

/**
 * The engine's side: Blobs registered once per reader, batches dealt to the live reader with the
 * fewest bytes outstanding (so consecutive batches of a scan go to different readers and arrive
 * about in order), answers matched to requests.
 */
export class ReaderPool {
  private nextId = 1;
  private nextReq = 1;
  private readonly waiting = new Map<number, Waiting>();
  private readonly outstanding: number[];
  private readonly live: boolean[];
  /** Where batches are read once every reader has failed. */
  private local?: BatchQueue;
  /** Blobs are forgotten by the readers when their BlobSource is collected. */
  private readonly registry =
    typeof FinalizationRegistry === 'undefined'
      ? undefined
      : new FinalizationRegistry<number>((id) => this.post({ t: 'drop', id }));

  constructor(private readonly ports: readonly ReaderPort[]) {
    this.outstanding = ports.map(() => 0);
    this.live = ports.map(() => true);
    ports.forEach((p, k) => {
      p.onmessage = ({ data }: MessageEvent<FromReader>) => this.answer(k, data);
      p.onerror = (ev) => {
        ev.preventDefault();
        this.fail(k);
      };
    });
  }

  /** Readers still reading. */
  get readers(): number {
    return this.live.filter(Boolean).length;
  }

  private post(m: ToReader): void {
    this.ports.forEach((p, k) => {
      if (this.live[k]) p.postMessage(m);
    });
  }

  /** Hands `blob` to every reader; `owner` (its BlobSource) being collected makes them drop it. */
  register(blob: Blob, owner: object): number {
    const id = this.nextId++;
    this.post({ t: 'blob', id, blob });
    this.registry?.register(owner, id);
    return id;
  }

  /** The bytes of `ranges` of `blob` (registered as `id`), in order, as one buffer. */
  read(blob: Blob, id: number, ranges: readonly number[]): Promise<ArrayBuffer> {
    return new Promise((resolve, reject) => {
      const req = this.nextReq++;
      const w: Waiting = { port: -1, blob, id, ranges, bytes: rangeBytes(ranges), resolve, reject };
      this.waiting.set(req, w);
      this.send(req, w);
    });
  }

  private send(req: number, w: Waiting): void {
    let port = -1;
    for (let k = 0; k < this.ports.length; k++) {
      if (this.live[k] && (port < 0 || this.outstanding[k]! < this.outstanding[port]!)) port = k;
    }
    w.port = port;
    if (port >= 0) {
      this.outstanding[port]! += w.bytes;
      this.ports[port]!.postMessage({ t: 'read', id: w.id, req, ranges: w.ranges } satisfies ToReader);
      return;
    }
    this.local ??= new BatchQueue();
    this.local.push(w.bytes, () =>
      readRanges(w.blob, w.ranges).then(
        (b) => this.answer(-1, { req, buf: b }),
        (e: unknown) => {
          this.waiting.delete(req);
          w.reject(e);
        },
      ),
    );
  }

  private answer(port: number, m: FromReader): void {
    const w = this.waiting.get(m.req);
    if (!w || w.port !== port) return;
    this.waiting.delete(m.req);
    if (port >= 0) this.outstanding[port]! -= w.bytes;
    if ('buf' in m) w.resolve(m.buf);
    else w.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
  }

  /** Gives reader `k` up and sends what it was reading elsewhere. */
  private fail(k: number): void {
    if (!this.live[k]) return;
    this.live[k] = false;
    this.outstanding[k] = 0;
    for (const [req, w] of this.waiting) if (w.port === k) this.send(req, w);
  }
}

let shared: ReaderPool | null | undefined;

/**
 * The engine worker's readers, started on first use (worker.ts asks at start-up, so they are
 * ready before a file is dropped); null where this thread cannot start workers (Node, tests).
 */
export function readerPool(): ReaderPool | null {
  if (shared === undefined) {
    shared =
      typeof Worker === 'undefined'
        ? null
        : new ReaderPool(
            Array.from(
              { length: READER_WORKERS },
              () => new Worker(new URL('./readerWorker.ts', import.meta.url), { type: 'module' }),
            ),
          );
  }
  return shared;
}
