/**
 * Typed calls for the diff view over the worker client's generic `request` (client.ts).
 * Replies other than the expected one reject: `cancelled` (a newer diff) with Superseded,
 * `error` with DiffFailed carrying the worker's ErrorInfo.
 */
import { Superseded } from './client.ts';
import type {
  DiffChainInfo,
  DiffExportFormat,
  DiffResponse,
  DiffSideSpec,
  DiffSummary,
  SnapshotName,
} from './diffProtocol.ts';
import { type ErrorInfo, PROTOCOL_VERSION, type Request, type Response } from './protocol.ts';

export class DiffFailed extends Error {
  constructor(readonly error: ErrorInfo) {
    super(error.message);
  }
}

/** A second image could not be opened: each file's error, as an open's. */
export class SecondOpenFailed extends DiffFailed {
  constructor(
    error: ErrorInfo,
    readonly files: readonly ErrorInfo[],
  ) {
    super(error);
  }
}

export interface Requester {
  request(
    make: (id: number) => Request,
    onProgress?: (phase: string, done: number, total: number) => void,
  ): Promise<Response>;
}

type Of<T extends DiffResponse['type']> = Extract<DiffResponse, { type: T }>;

async function call<T extends DiffResponse['type']>(
  c: Requester,
  type: T,
  make: (id: number) => Request,
): Promise<Of<T>> {
  const m = await c.request(make);
  if (m.type === type) return m as Of<T>;
  if (m.type === 'error') throw new DiffFailed(m.error);
  throw new Superseded(`${type} superseded`);
}

const v = PROTOCOL_VERSION;

export class DiffClient {
  constructor(private readonly c: Requester) {}

  /** Computes A and B and their diff; the reply's id names the diff in later calls. */
  async diff(
    openId: number,
    a: DiffSideSpec,
    b: DiffSideSpec,
  ): Promise<{ diffId: number; summary: DiffSummary }> {
    const m = await call(this.c, 'diff', (id) => ({ v, id, type: 'diff', openId, a, b }));
    return { diffId: m.id, summary: m.summary };
  }

  /** Opens a second image (its top and backing files) for side B; the reply's id names it in sides. */
  async open(
    files: readonly File[],
    onProgress?: (phase: string, done: number, total: number) => void,
  ): Promise<{ chainId: number; chain: DiffChainInfo }> {
    const m = await this.c.request((id) => ({ v, id, type: 'diffOpen', files }), onProgress);
    if (m.type === 'diffOpen') return { chainId: m.id, chain: m.chain };
    if (m.type === 'error') throw new SecondOpenFailed(m.error, m.files ?? [m.error]);
    throw new Superseded('diffOpen superseded');
  }

  /** Internal snapshots of a chain's top (an open id or a second image's id). */
  async snapshots(chain: number): Promise<readonly SnapshotName[]> {
    return (await call(this.c, 'diffSnapshots', (id) => ({ v, id, type: 'diffSnapshots', chain }))).snapshots;
  }

  bins(diffId: number, start: number, end: number, bins: number): Promise<Of<'diffBins'>> {
    return call(this.c, 'diffBins', (id) => ({ v, id, type: 'diffBins', diffId, start, end, bins }));
  }

  lanes(diffId: number, start: number, end: number, px: number): Promise<Of<'diffLanes'>> {
    return call(this.c, 'diffLanes', (id) => ({ v, id, type: 'diffLanes', diffId, start, end, px }));
  }

  async reasons(diffId: number, from: number, to: number): Promise<readonly string[]> {
    return (await call(this.c, 'diffReasons', (id) => ({ v, id, type: 'diffReasons', diffId, from, to })))
      .reasons;
  }

  async export(diffId: number, format: DiffExportFormat): Promise<{ text: string; error?: string }> {
    const m = await call(this.c, 'diffExport', (id) => ({ v, id, type: 'diffExport', diffId, format }));
    return m.error !== undefined ? { text: m.text, error: m.error } : { text: m.text };
  }
}
