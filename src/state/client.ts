/**
 * The page's one client of the worker (ARCHITECTURE.md): one typed `call()` over the protocol's
 * map of calls (protocol/calls.ts), with progress and partial results on the way.
 *
 * Channels: a call on a channel supersedes the older call on it, here at once (its promise
 * rejects with Superseded and any late reply is dropped) and in the worker (which stops it).
 *
 * A newer open ends older work at once. When an open, a diff or a cancel ends an open or a
 * diff still running, the worker must say that work has ended ('cancelled') within
 * SUPERSEDE_MS. The engine pauses while it scans (core/cancel.ts checkpoint()), but some steps
 * are one synchronous walk and a hostile image can make them long: a worker that does not
 * answer in time is terminated and a fresh one started, the sources the page still shows (its
 * image, image B, the diff; the sandbox's files) are opened there again under the same ids,
 * the calls still waiting are sent again, and `onRestarted` tells the person in words.
 *
 * The worker can die under us: an uncaught error, a message it cannot read, or no sign of life
 * while calls wait (an endless loop; out of memory, when the browser leaves the page alive).
 * Only an answered ping is a sign of life: progress and partial maps are posted from inside a
 * scan, so a scan that never lets the worker read its messages posts them too. Then every
 * waiting call fails with a 'worker' ErrorInfo ("the image reader stopped: ..."), `onStopped`
 * tells the page, and the next call starts a fresh worker.
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
import type { SandboxOp } from '../protocol/results.ts';

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
  /** Time without an answered ping while calls wait, after which the worker counts as stopped. */
  readonly stallMs?: number;
  /** How long ended work may take to end before the worker is replaced. */
  readonly supersedeMs?: number;
}

/** Ping every 2 s while busy; 20 s of silence is far beyond any await gap seen (1 TiB opens in ~6 s). */
export const PING_MS = 2_000;
export const STALL_MS = 20_000;

/**
 * How long an open or diff that a newer one (or a cancel) ended may take to end, before the
 * worker is replaced. The worker reads its messages at least every YIELD_MS (50 ms) while it
 * scans; its longest synchronous steps on images it maps whole (resolving and binning a partial
 * map of a million extents, 0.3-0.7 s on a loaded 2-core machine) fit three times over; a
 * person waits at most this long for a newer open to begin.
 */
export const SUPERSEDE_MS = 2_000;

/** The page's slots (protocol/calls.ts Slot): the source each holds, by the call that opened it. */
type SlotName = 'main' | 'b' | 'diff';

interface Pending {
  readonly req: Request;
  readonly channel?: string;
  readonly method: Method;
  settle(r: Reply): void;
  progress?(phase: string, done: number, total: number): void;
  partial?(p: unknown): void;
}

/** Calls that place a source in a slot: their work is what a newer one ends. */
const placing = (m: Method): m is 'open' | 'diff' => m === 'open' || m === 'diff';

const slotOf = (req: Request): SlotName | undefined =>
  req.method === 'open' ? (req.params as Params<'open'>).slot : req.method === 'diff' ? 'diff' : undefined;

/** The sources a request reads (a diff reads two). */
function sourcesOf(req: Request): number[] {
  const p = req.params as { source?: unknown; a?: { source?: unknown }; b?: { source?: unknown } };
  return [p.source, p.a?.source, p.b?.source].filter((x): x is number => typeof x === 'number');
}

/** The files a call names, for the 'worker' error when the worker stops under it. */
function namesOf(method: Method, params: unknown): string {
  if (method !== 'open') return '';
  const from = (params as Params<'open'>).from;
  switch (from.kind) {
    case 'files':
      return from.files.map((f) => f.name).join(', ');
    case 'url':
      return from.url;
    case 'sandbox':
      return from.top;
    case 'maps':
      return from.maps
        .map((m) => (m.kind === 'file' ? m.file.name : m.kind === 'text' ? m.name : "the link's map"))
        .join(', ');
  }
}

/** "a", "a and b", "a, b and c". */
const inWords = (items: readonly string[]): string =>
  items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

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
  private readonly supersedeMs: number;
  /** Pings in flight: only their answers prove the worker reads its messages. */
  private readonly pings = new Set<number>();
  /** The call whose source each slot holds in the worker (recorded when the source is placed). */
  private readonly slots = new Map<SlotName, Request>();
  /** Ended opens and diffs the worker has not yet said are over, with when they were ended. */
  private readonly ending = new Map<number, { readonly req: Request; readonly at: number }>();
  private endingTimer: ReturnType<typeof setTimeout> | undefined;
  /** Calls opened again in a fresh worker, and the calls held until they are (they read their sources). */
  private readonly replaying = new Map<number, Request>();
  private held: Request[] = [];
  /** Every sandbox operation sent since the last reset: a fresh worker's sandbox is rebuilt from it. */
  private sandboxOps: SandboxOp[] = [];
  private started = 0;
  /** Called once per stopped worker, after its waiting calls have failed. */
  onStopped: ((error: ErrorInfo) => void) | undefined;
  /** Called when a worker that did not end older work in time was replaced, in words for the person. */
  onRestarted: ((message: string) => void) | undefined;

  /** Pass a factory so a stopped worker can be replaced; a bare worker is used as is (tests). */
  constructor(
    private readonly make: WorkerLike | (() => WorkerLike),
    opts: WatchdogOptions = {},
  ) {
    this.pingMs = opts.pingMs ?? PING_MS;
    this.stallMs = opts.stallMs ?? STALL_MS;
    this.supersedeMs = opts.supersedeMs ?? SUPERSEDE_MS;
    this.worker = this.start();
  }

  private start(): WorkerLike {
    const worker = typeof this.make === 'function' ? this.make() : this.make;
    this.dead = false;
    this.pings.clear();
    worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.stop(worker, ev.message ? `it threw ${ev.message}` : 'it crashed');
    };
    worker.onmessageerror = () => this.stop(worker, 'a message from it could not be read');
    worker.onmessage = (ev) => {
      if (!isReply(ev.data)) return;
      const m = ev.data;
      if (this.pings.delete(m.id)) {
        this.lastHeard = Date.now();
        return;
      }
      if (m.type !== 'progress' && m.type !== 'partial') this.ended(m.id);
      const replay = this.replaying.get(m.id);
      if (replay) return this.replayed(replay, m);
      const p = this.pending.get(m.id);
      if (!p) return;
      if ((m.type === 'partial' || m.type === 'result') && placing(p.method)) this.placed(p.req);
      if (m.type === 'progress') p.progress?.(m.phase, m.done, m.total);
      else if (m.type === 'partial') p.partial?.(m.partial);
      else this.settle(m.id, m);
    };
    // A fresh worker's sandbox is empty: the page's sandbox files are made again first.
    if (this.started++ > 0 && this.sandboxOps.length) {
      const ops = this.sandboxOps;
      worker.postMessage({
        v: PROTOCOL_VERSION,
        id: this.nextId++,
        method: 'sandbox',
        params: { ops },
      } satisfies Request<'sandbox'>);
    }
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
      if (older !== undefined) this.end(older);
      this.channels.set(channel, id);
    }
    if (method === 'open') this.names = namesOf(method, params);
    if (method === 'sandbox') {
      const ops = (params as Params<'sandbox'>).ops;
      this.sandboxOps = ops[0]?.op === 'reset' ? [...ops] : [...this.sandboxOps, ...ops];
    }
    if (method === 'close') this.forget((params as Params<'close'>).source);
    const req: Request = {
      v: PROTOCOL_VERSION,
      id,
      method,
      params,
      ...(channel !== undefined && { channel }),
    };
    return new Promise<Result<M>>((resolve, reject) => {
      const p: Pending = {
        req,
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
      this.send(req, p);
    });
  }

  /** Ends the call on `channel` without a newer one (its promise rejects with Superseded). */
  cancel(channel: string): void {
    const id = this.channels.get(channel);
    if (id === undefined) return;
    this.end(id);
    this.post({
      v: PROTOCOL_VERSION,
      id: this.nextId++,
      method: 'cancel',
      params: { channel },
    } satisfies Request<'cancel'>);
  }

  /**
   * Ends call `id` here at once (Superseded); an open or diff must also end in the worker
   * within SUPERSEDE_MS, or the worker is replaced.
   */
  private end(id: number): void {
    const p = this.pending.get(id);
    if (p && placing(p.method)) {
      this.ending.set(id, { req: p.req, at: Date.now() });
      this.endingTimer ??= setTimeout(() => this.checkEnding(), this.supersedeMs);
      // Its partial source (if it placed one) is not to be opened again: a newer one replaces it.
      for (const [slot, r] of this.slots) if (r.id === id) this.slots.delete(slot);
    }
    this.settle(id, { v: PROTOCOL_VERSION, id, type: 'cancelled' });
  }

  /** The worker's last word on `id` arrived: ended work that has ended. */
  private ended(id: number): void {
    if (!this.ending.delete(id) || this.ending.size) return;
    clearTimeout(this.endingTimer);
    this.endingTimer = undefined;
  }

  private checkEnding(): void {
    this.endingTimer = undefined;
    const now = Date.now();
    const late = [...this.ending.values()].filter((e) => now - e.at >= this.supersedeMs);
    if (late.length) {
      this.restart(late.map((e) => e.req));
      return;
    }
    const next = Math.min(...[...this.ending.values()].map((e) => e.at)) + this.supersedeMs - now;
    if (this.ending.size) this.endingTimer = setTimeout(() => this.checkEnding(), Math.max(0, next));
  }

  /** The source a slot holds in the worker is now the one `req` opened. */
  private placed(req: Request): void {
    const slot = slotOf(req);
    if (slot !== undefined) this.slots.set(slot, req);
  }

  /** Source `id` was closed: no slot holds it, nor a diff reading it. */
  private forget(id: number): void {
    for (const [slot, r] of this.slots) if (r.id === id || sourcesOf(r).includes(id)) this.slots.delete(slot);
  }

  private post(req: Request): void {
    this.worker.postMessage(req);
  }

  private send(req: Request, p: Pending): void {
    if (this.dead && typeof this.make === 'function') this.worker = this.start();
    if (!this.pending.size) {
      this.lastHeard = Date.now();
      this.timer ??= setInterval(() => this.watch(), this.pingMs);
    }
    this.pending.set(req.id, p);
    this.dispatch(req);
  }

  /** Posts `req`, or holds it while a source it reads is being opened again. */
  private dispatch(req: Request): void {
    if (this.holds(req)) this.held.push(req);
    else this.post(req);
  }

  /** A call that reads a source being opened again waits until it is open. */
  private holds(req: Request): boolean {
    if (!this.replaying.size) return false;
    const again = new Set(this.replaying.keys());
    return sourcesOf(req).some((s) => again.has(s));
  }

  /**
   * Replaces a worker that did not end `late` (older opens or diffs) in time: a fresh one opens
   * again what the page still shows (each slot's source under the same id, unless the ended
   * work is it or a newer open waits to replace it), and the calls still waiting are sent to
   * it; those that read a source opened again wait for it.
   */
  private restart(late: readonly Request[]): void {
    const old = this.worker;
    old.onmessage = null;
    old.onerror = null;
    old.onmessageerror = null;
    old.terminate?.();
    const endedIds = new Set(late.map((r) => r.id));
    this.ending.clear();
    this.replaying.clear();
    this.held = [];
    this.worker = this.start();
    this.lastHeard = Date.now();
    const waiting = [...this.pending.values()].map((p) => p.req).sort((a, b) => a.id - b.id);
    const replacing = new Set(waiting.map(slotOf).filter((s) => s !== undefined));
    const again: Request[] = [];
    const open = new Set<number>();
    for (const slot of ['main', 'b', 'diff'] as const) {
      const r = this.slots.get(slot);
      if (!r || endedIds.has(r.id) || replacing.has(slot)) {
        this.slots.delete(slot);
        continue;
      }
      // A diff reads its two sides: opened again only if they are.
      if (slot === 'diff' && !sourcesOf(r).every((s) => open.has(s))) {
        this.slots.delete(slot);
        continue;
      }
      again.push(r);
      open.add(r.id);
    }
    for (const r of again) this.replaying.set(r.id, r);
    // A diff opened again waits for its sides, as the calls waiting for any of them do.
    for (const r of [...again, ...waiting]) this.dispatch(r);
    const what = inWords([...new Set(late.map((r) => namesOf(r.method, r.params) || 'a diff'))]);
    const reopened = again.map((r) => (r.method === 'diff' ? 'the diff' : namesOf(r.method, r.params)));
    this.onRestarted?.(
      `The image reader was still busy with ${what} ${Math.round(this.supersedeMs / 100) / 10} s after it was asked to stop (SUPERSEDE_MS), so it was replaced by a fresh one` +
        (reopened.length ? `, which opens ${inWords(reopened)} again.` : '.'),
    );
  }

  /** A source opened again in a fresh worker: calls waiting for it go; a failure stops the worker. */
  private replayed(r: Request, m: Reply): void {
    if (m.type === 'progress' || m.type === 'partial') return;
    this.replaying.delete(r.id);
    if (m.type === 'error') {
      this.stop(
        this.worker,
        `opening ${namesOf(r.method, r.params) || 'the diff'} again failed: ${m.error.message}`,
      );
      return;
    }
    const held = this.held;
    this.held = [];
    for (const q of held) if (this.pending.has(q.id) || this.replaying.has(q.id)) this.dispatch(q);
  }

  private idle(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * While calls wait: stopped if no ping was answered for stallMs, else ping. Progress and
   * partial maps do not count: a scan that never lets the worker read a message posts them too.
   */
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
    const id = this.nextId++;
    this.pings.add(id);
    this.post({ v: PROTOCOL_VERSION, id, method: 'ping', params: {} } satisfies Request<'ping'>);
  }

  /** Fails every waiting call with a 'worker' error, drops the worker, tells the page. */
  private stop(worker: WorkerLike, reason: string): void {
    if (worker !== this.worker || this.dead) return;
    this.dead = true;
    this.idle();
    clearTimeout(this.endingTimer);
    this.endingTimer = undefined;
    this.ending.clear();
    this.slots.clear();
    this.replaying.clear();
    this.held = [];
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
