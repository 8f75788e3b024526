/**
 * The UI thread's side of the protocol: sends requests with fresh ids and routes replies.
 * `open` supersedes: progress and results of an older open are dropped here too, so a late
 * reply can never overwrite a newer chain. Bins likewise keep only the newest answer.
 *
 * The worker can die under us: an uncaught error, a message it cannot read, or no sign of life
 * while requests wait (an endless loop; out of memory, when the browser leaves the page
 * alive). Then every waiting request fails with a 'worker' ErrorInfo ("the image reader
 * stopped: ..."), `onStopped` tells the page, and the next request starts a fresh worker.
 */

import type { ImageReport } from './imageProtocol.ts';
import {
  type ChainInfo,
  type ErrorInfo,
  type ExportFormat,
  type GridBox,
  type HitDetail,
  isResponse,
  type OpenSource,
  PROTOCOL_VERSION,
  type Request,
  type Response,
} from './protocol.ts';

export interface BinsResult {
  readonly start: number;
  readonly end: number;
  readonly bins: number;
  readonly classes: number;
  readonly fractions: Float32Array;
}

export interface TracksResult {
  readonly start: number;
  readonly end: number;
  readonly px: number;
  readonly lanes: number;
  readonly values: Uint8Array;
}

export interface OpenCallbacks {
  onProgress(phase: string, done: number, total: number): void;
  /** A first part of the map (extents over [0, end)) while the open goes on. */
  onPartial?(openId: number, chain: ChainInfo, end: number): void;
}

export class OpenFailed extends Error {
  constructor(
    readonly error: ErrorInfo,
    readonly files: readonly ErrorInfo[],
  ) {
    super(error.message);
  }
}

export class Superseded extends Error {}

interface Pending {
  resolve(r: Response): void;
  onProgress?: OpenCallbacks['onProgress'];
  onPartial?(chain: ChainInfo, end: number): void;
}

export interface WorkerLike {
  postMessage(msg: unknown): void;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror?: ((ev: ErrorEvent) => void) | null;
  onmessageerror?: ((ev: MessageEvent) => void) | null;
  terminate?(): void;
}

export interface WatchdogOptions {
  /** How often a busy worker is pinged. */
  readonly pingMs?: number;
  /** Silence (no reply of any kind) while requests wait, after which the worker counts as stopped. */
  readonly stallMs?: number;
}

/** Ping every 2 s while busy; 20 s of silence is far beyond any await gap seen (1 TiB opens in ~6 s). */
export const PING_MS = 2_000;
export const STALL_MS = 20_000;

export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private openId = 0;
  private worker: WorkerLike;
  private dead = false;
  private lastHeard = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private openNames = '';
  private readonly pingMs: number;
  private readonly stallMs: number;
  /** Called once per stopped worker, after its waiting requests have failed. */
  onStopped: ((error: ErrorInfo) => void) | undefined;
  /** The heatmap's box, sent with each open so the worker bins the first map for it (ChainInfo.firstBins). */
  gridBox: GridBox | undefined;

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
      if (!isResponse(ev.data)) return;
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.onProgress?.(m.phase, m.done, m.total);
        return;
      }
      if (m.type === 'partial') {
        p.onPartial?.(m.chain, m.end);
        return;
      }
      this.pending.delete(m.id);
      p.resolve(m);
      if (!this.pending.size) this.idle();
    };
    return worker;
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

  /** While requests wait: stopped if silent for stallMs, else ping (any reply counts as alive). */
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
    this.worker.postMessage({ v: PROTOCOL_VERSION, id: this.nextId++, type: 'ping' } satisfies Request);
  }

  /** Fails every waiting request with a 'worker' error, drops the worker, tells the page. */
  private stop(worker: WorkerLike, reason: string): void {
    if (worker !== this.worker || this.dead) return;
    this.dead = true;
    this.idle();
    worker.onmessage = null;
    worker.onerror = null;
    worker.onmessageerror = null;
    worker.terminate?.();
    const detail = `the image reader stopped: ${reason}. It restarts for the next file you open.`;
    const file = this.openNames;
    const error: ErrorInfo = {
      kind: 'worker',
      name: 'WorkerStopped',
      file,
      structure: 'image reader',
      detail,
      message: `${file ? `${file}: ` : ''}${detail}`,
    };
    const waiting = [...this.pending];
    this.pending.clear();
    for (const [id, p] of waiting)
      p.resolve({ v: PROTOCOL_VERSION, id, type: 'error', error, files: [error] });
    this.onStopped?.(error);
  }

  /** Opens dropped files as a chain; rejects with OpenFailed or Superseded. */
  open(
    files: readonly File[],
    cb: OpenCallbacks,
    source?: OpenSource,
  ): Promise<{ openId: number; chain: ChainInfo }> {
    const id = this.nextId++;
    this.openId = id;
    this.openNames = files.map((f) => f.name).join(', ');
    return new Promise((resolve, reject) => {
      this.send(
        {
          v: PROTOCOL_VERSION,
          id,
          type: 'open',
          files,
          ...(source && { source }),
          ...(this.gridBox && { grid: this.gridBox }),
        },
        {
          onProgress: (phase, done, total) => {
            if (this.openId === id) cb.onProgress(phase, done, total);
          },
          onPartial: (chain, end) => {
            if (this.openId === id) cb.onPartial?.(id, chain, end);
          },
          resolve: (m) => {
            if (m.type === 'opened') resolve({ openId: id, chain: m.chain });
            else if (m.type === 'error') reject(new OpenFailed(m.error, m.files ?? [m.error]));
            else reject(new Superseded(`open ${id} superseded`));
          },
        },
      );
    });
  }

  bins(openId: number, start: number, end: number, bins: number): Promise<BinsResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.send(
        { v: PROTOCOL_VERSION, id, type: 'bins', openId, start, end, bins },
        {
          resolve: (m) => (m.type === 'bins' ? resolve(m) : reject(new Superseded('bins refused'))),
        },
      );
    });
  }

  tracks(openId: number, start: number, end: number, px: number): Promise<TracksResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.send(
        { v: PROTOCOL_VERSION, id, type: 'tracks', openId, start, end, px },
        { resolve: (m) => (m.type === 'tracks' ? resolve(m) : reject(new Superseded('tracks refused'))) },
      );
    });
  }

  exportMap(openId: number, format: ExportFormat, release: number): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.send(
        { v: PROTOCOL_VERSION, id, type: 'export', openId, format, release },
        {
          resolve: (m) => (m.type === 'export' ? resolve(m.text) : reject(new Superseded('export refused'))),
        },
      );
    });
  }

  /** The Image panel's report on the top layer (header, features, snapshots, check, host map); `check` runs the check whatever it reads. */
  image(openId: number, check = false): Promise<ImageReport> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.send(
        { v: PROTOCOL_VERSION, id, type: 'image', openId, ...(check && { check }) },
        {
          resolve: (m) => (m.type === 'image' ? resolve(m.report) : reject(new Superseded('image refused'))),
        },
      );
    });
  }

  /** Re-maps the open chain through an internal snapshot's L1 (undefined: the active L1). */
  snapshotView(openId: number, snapshot: string | undefined): Promise<ChainInfo> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.send(
        {
          v: PROTOCOL_VERSION,
          id,
          type: 'snapshotView',
          openId,
          ...(snapshot !== undefined && { snapshot }),
        },
        {
          resolve: (m) =>
            m.type === 'snapshotView'
              ? resolve(m.chain)
              : reject(new Error(m.type === 'error' ? m.error.message : 'snapshot view refused')),
        },
      );
    });
  }

  hit(openId: number, offset: number): Promise<HitDetail | undefined> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.send(
        { v: PROTOCOL_VERSION, id, type: 'hit', openId, offset },
        { resolve: (m) => (m.type === 'hit' ? resolve(m.detail) : reject(new Superseded('hit refused'))) },
      );
    });
  }

  /** Sends a request made with a fresh id; resolves with its reply (typed wrappers: diffClient.ts). */
  request(make: (id: number) => Request, onProgress?: OpenCallbacks['onProgress']): Promise<Response> {
    const id = this.nextId++;
    return new Promise((resolve) => this.send(make(id), { resolve, ...(onProgress && { onProgress }) }));
  }
}
