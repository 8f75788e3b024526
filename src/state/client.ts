/**
 * The page's one client of the worker (ARCHITECTURE.md): one typed `call()` over the protocol's
 * map of calls (protocol/calls.ts), with progress and partial results on the way.
 *
 * Channels: a call on a channel supersedes the older call on it, here at once (its promise
 * rejects with Superseded and any late reply is dropped) and in the worker (which stops it).
 *
 * The worker can die under us: an uncaught error, a message it cannot read, or no sign of life
 * while calls wait (an endless loop; out of memory, when the browser leaves the page alive).
 * Then every waiting call fails with a 'worker' ErrorInfo ("the image reader stopped: ..."),
 * `onStopped` tells the page, and the next call starts a fresh worker.
 */
import {
  isReply,
  type Method,
  type Params,
  type PartialOf,
  PROTOCOL_VERSION,
  type Reply,
  type Request,
  type Result,
} from '../protocol/calls.ts';
import type { ErrorInfo } from '../protocol/errors.ts';

/** A newer call on the same channel (or a cancel) ended this one. */
export class Superseded extends Error {
  override readonly name = 'Superseded';
}

/** The worker answered with an error: the engine's ErrorInfo, and each file's for an open. */
export class CallFailed extends Error {
  override readonly name = 'CallFailed';
  constructor(
    readonly error: ErrorInfo,
    readonly files: readonly ErrorInfo[],
  ) {
    super(error.message);
  }
}

export interface WorkerLike {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror?: ((ev: ErrorEvent) => void) | null;
  onmessageerror?: ((ev: MessageEvent) => void) | null;
  terminate?(): void;
}

export interface CallOptions<M extends Method> {
  readonly channel?: string;
  onProgress?(phase: string, done: number, total: number): void;
  onPartial?(p: PartialOf<M>): void;
}

export interface WatchdogOptions {
  /** How often a busy worker is pinged. */
  readonly pingMs?: number;
  /** Silence (no reply of any kind) while calls wait, after which the worker counts as stopped. */
  readonly stallMs?: number;
}

/** Ping every 2 s while busy; 20 s of silence is far beyond any await gap seen (1 TiB opens in ~6 s). */
export const PING_MS = 2_000;
export const STALL_MS = 20_000;

interface Pending {
  readonly channel?: string;
  readonly method: Method;
  settle(r: Reply): void;
  progress?(phase: string, done: number, total: number): void;
  partial?(p: unknown): void;
}

/** The files a call names, for the 'worker' error when the worker stops under it. */
function namesOf(method: Method, params: unknown): string {
  if (method !== 'open') return '';
  const from = (params as Params<'open'>).from;
  return from.kind === 'files'
    ? from.files.map((f) => f.name).join(', ')
    : from.kind === 'url'
      ? from.url
      : '';
}

export class Client {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly channels = new Map<string, number>();
  private worker: WorkerLike;
  private dead = false;
  private lastHeard = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private names = '';
  private readonly pingMs: number;
  private readonly stallMs: number;
  /** Called once per stopped worker, after its waiting calls have failed. */
  onStopped: ((error: ErrorInfo) => void) | undefined;

  /** Pass a factory so a stopped worker can be replaced; a bare worker is used as is (tests). */
  constructor(
    private readonly make: WorkerLike | (() => WorkerLike),
    opts: WatchdogOptions = {},
  ) {
    this.pingMs = opts.pingMs ?? PING_MS;
    this.stallMs = opts.stallMs ?? STALL_MS;
    this.worker = this.start();
  }

  private start(): WorkerLike {
    const worker = typeof this.make === 'function' ? this.make() : this.make;
    this.dead = false;
    worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.stop(worker, ev.message ? `it threw ${ev.message}` : 'it crashed');
    };
    worker.onmessageerror = () => this.stop(worker, 'a message from it could not be read');
    worker.onmessage = (ev) => {
      this.lastHeard = Date.now();
      if (!isReply(ev.data)) return;
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') p.progress?.(m.phase, m.done, m.total);
      else if (m.type === 'partial') p.partial?.(m.partial);
      else this.settle(m.id, m);
    };
    return worker;
  }

  private settle(id: number, r: Reply): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.channel !== undefined && this.channels.get(p.channel) === id) this.channels.delete(p.channel);
    p.settle(r);
    if (!this.pending.size) this.idle();
  }

  /** Calls `method` in the worker; rejects with CallFailed (its error) or Superseded. */
  call<M extends Method>(method: M, params: Params<M>, opts: CallOptions<M> = {}): Promise<Result<M>> {
    const id = this.nextId++;
    const { channel } = opts;
    if (channel !== undefined) {
      const older = this.channels.get(channel);
      if (older !== undefined) this.settle(older, { v: PROTOCOL_VERSION, id: older, type: 'cancelled' });
      this.channels.set(channel, id);
    }
    if (method === 'open') this.names = namesOf(method, params);
    return new Promise<Result<M>>((resolve, reject) => {
      const p: Pending = {
        method,
        ...(channel !== undefined && { channel }),
        settle: (r) => {
          if (r.type === 'result') resolve(r.result as Result<M>);
          else if (r.type === 'error') reject(new CallFailed(r.error, r.files ?? [r.error]));
          else reject(new Superseded(`${method} ${id} superseded`));
        },
        ...(opts.onProgress && { progress: opts.onProgress }),
        ...(opts.onPartial && { partial: (x: unknown) => opts.onPartial?.(x as PartialOf<M>) }),
      };
      this.send({ v: PROTOCOL_VERSION, id, method, params, ...(channel !== undefined && { channel }) }, p);
    });
  }

  /** Ends the call on `channel` without a newer one (its promise rejects with Superseded). */
  cancel(channel: string): void {
    const id = this.channels.get(channel);
    if (id === undefined) return;
    this.settle(id, { v: PROTOCOL_VERSION, id, type: 'cancelled' });
    this.worker.postMessage({
      v: PROTOCOL_VERSION,
      id: this.nextId++,
      method: 'cancel',
      params: { channel },
    } satisfies Request<'cancel'>);
  }

  private send(req: Request, p: Pending): void {
    if (this.dead && typeof this.make === 'function') this.worker = this.start();
    if (!this.pending.size) {
      this.lastHeard = Date.now();
      this.timer ??= setInterval(() => this.watch(), this.pingMs);
    }
    this.pending.set(req.id, p);
    this.worker.postMessage(req);
  }

  private idle(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** While calls wait: stopped if silent for stallMs, else ping (any reply counts as alive). */
  private watch(): void {
    if (!this.pending.size) {
      this.idle();
      return;
    }
    const silent = Date.now() - this.lastHeard;
    if (silent >= this.stallMs) {
      this.stop(this.worker, `it did not answer for ${Math.round(silent / 1000)} s (hung or out of memory)`);
      return;
    }
    this.worker.postMessage({
      v: PROTOCOL_VERSION,
      id: this.nextId++,
      method: 'ping',
      params: {},
    } satisfies Request<'ping'>);
  }

  /** Fails every waiting call with a 'worker' error, drops the worker, tells the page. */
  private stop(worker: WorkerLike, reason: string): void {
    if (worker !== this.worker || this.dead) return;
    this.dead = true;
    this.idle();
    worker.onmessage = null;
    worker.onerror = null;
    worker.onmessageerror = null;
    worker.terminate?.();
    const detail = `the image reader stopped: ${reason}. It restarts for the next file you open.`;
    const file = this.names;
    const error: ErrorInfo = {
      kind: 'worker',
      name: 'WorkerStopped',
      file,
      structure: 'image reader',
      detail,
      message: `${file ? `${file}: ` : ''}${detail}`,
    };
    for (const id of [...this.pending.keys()])
      this.settle(id, { v: PROTOCOL_VERSION, id, type: 'error', error, files: [error] });
    this.channels.clear();
    this.onStopped?.(error);
  }
}
