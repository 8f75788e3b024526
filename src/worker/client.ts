/**
 * The UI thread's side of the protocol: sends requests with fresh ids and routes replies.
 * `open` supersedes: progress and results of an older open are dropped here too, so a late
 * reply can never overwrite a newer chain. Bins likewise keep only the newest answer.
 */
import {
  type ChainInfo,
  type ErrorInfo,
  type ExportFormat,
  type HitDetail,
  isResponse,
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
}

export interface WorkerLike {
  postMessage(msg: unknown): void;
  onmessage: ((ev: MessageEvent) => void) | null;
}

export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private openId = 0;

  constructor(private readonly worker: WorkerLike) {
    worker.onmessage = (ev) => {
      if (!isResponse(ev.data)) return;
      const m = ev.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.onProgress?.(m.phase, m.done, m.total);
        return;
      }
      this.pending.delete(m.id);
      p.resolve(m);
    };
  }

  private send(req: Request, p: Pending): void {
    this.pending.set(req.id, p);
    this.worker.postMessage(req);
  }

  /** Opens dropped files as a chain; rejects with OpenFailed or Superseded. */
  open(files: readonly File[], cb: OpenCallbacks): Promise<{ openId: number; chain: ChainInfo }> {
    const id = this.nextId++;
    this.openId = id;
    return new Promise((resolve, reject) => {
      this.send(
        { v: PROTOCOL_VERSION, id, type: 'open', files },
        {
          onProgress: (phase, done, total) => {
            if (this.openId === id) cb.onProgress(phase, done, total);
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
  request(make: (id: number) => Request): Promise<Response> {
    const id = this.nextId++;
    return new Promise((resolve) => this.send(make(id), { resolve }));
  }
}
