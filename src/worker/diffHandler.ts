/**
 * The worker's side of the diff view: answers DiffRequests (diffProtocol.ts) for the current
 * session. One diff is kept (the newest); a newer `diff` request aborts the one in flight and
 * answers it with `cancelled`. Each chain's views are built once (ViewCache).
 *
 * A second image (`diffOpen`) is kept beside the page's chain under its request's id, one at
 * a time (MAX_SECOND_CHAINS): a newer `diffOpen` aborts the one in flight and replaces the
 * image kept. Sides name it by that id; a diff naming a replaced image is refused.
 */
import { readSnapshots } from '../core/qcow2/snapshots.ts';
import { CancelledError } from '../core/status/layerStatus.ts';
import { NothingOpened } from './chainFiles.ts';
import type { DiffRequest, DiffResponse, DiffSideSpec, SnapshotName } from './diffProtocol.ts';
import { DiffSession, ViewCache } from './diffSession.ts';
import { toErrorInfo } from './errorInfo.ts';
import { PROTOCOL_VERSION, type Response } from './protocol.ts';
import { openSecondChain, secondChainInfo } from './secondChain.ts';
import type { Session } from './session.ts';

type Post = (msg: Response | DiffResponse, transfer?: Transferable[]) => void;

/**
 * Second images kept at once. The diff view compares two sides, so one image besides the
 * page's is all it can name; an image's status holds its extents (a fragmented 1 TiB image
 * is tens of MiB), so old ones are not kept.
 */
export const MAX_SECOND_CHAINS = 1;

/** Most bins or lane columns answered per request: a screenful at device resolution and more. */
const MAX_BINS = 1 << 22;
const MAX_LANE_PX = 8192;
/** Reasons per request: a window of the list, not the whole of a million-extent diff. */
const MAX_REASONS = 500;

/** The snapshots a chain's top names (none for a raw top), for `snapshot:NAME` views. */
async function snapshotNames(s: Session): Promise<SnapshotName[]> {
  const top = s.chain.layers[0];
  if (top?.format !== 'qcow2' || top.header.nbSnapshots === 0) return [];
  return (await readSnapshots(top)).map((x) => ({ id: x.id, name: x.name }));
}

export function createDiffHandler(post: Post) {
  const v = PROTOCOL_VERSION;
  const caches = new WeakMap<Session, ViewCache>();
  const views = (s: Session): ViewCache => {
    let c = caches.get(s);
    if (!c) {
      c = new ViewCache(s);
      caches.set(s, c);
    }
    return c;
  };
  /** Second images by `diffOpen` id, oldest first. */
  const second = new Map<number, Session>();
  let opening: { id: number; ctl: AbortController } | undefined;
  let current: { id: number; d: DiffSession } | undefined;
  let inFlight: { id: number; ctl: AbortController } | undefined;

  const fail = (id: number, e: unknown) => post({ v, id, type: 'error', error: toErrorInfo(e) });

  const openSecond = async (id: number, files: readonly File[]) => {
    if (opening) {
      opening.ctl.abort();
      post({ v, id: opening.id, type: 'cancelled' });
    }
    const ctl = new AbortController();
    opening = { id, ctl };
    try {
      post({ v, id, type: 'progress', phase: 'opening image B', done: 0, total: 1 });
      const s = await openSecondChain(files, {
        signal: ctl.signal,
        onProgress: (done, total) =>
          post({ v, id, type: 'progress', phase: 'image B: L2 tables', done, total }),
      });
      if (ctl.signal.aborted) return;
      second.set(id, s);
      for (const k of [...second.keys()].slice(0, Math.max(0, second.size - MAX_SECOND_CHAINS)))
        second.delete(k);
      post({ v, id, type: 'diffOpen', chain: await secondChainInfo(s) });
    } catch (e) {
      if (e instanceof CancelledError || ctl.signal.aborted) return;
      if (e instanceof NothingOpened)
        post({ v, id, type: 'error', error: e.rejected[0]!, files: e.rejected });
      else post({ v, id, type: 'error', error: toErrorInfo(e, files[0]?.name ?? '') });
    } finally {
      if (opening?.id === id) opening = undefined;
    }
  };

  /** The chain a side reads, or a typed refusal naming the id. */
  const chainOf = (spec: DiffSideSpec, main: Session): Session => {
    if (spec.chain === undefined) return main;
    const s = second.get(spec.chain);
    if (!s) throw new Error(`image B (open ${spec.chain}) is not open any more; open it again`);
    return s;
  };

  return async (req: DiffRequest, session: { id: number; s: Session } | undefined): Promise<void> => {
    if (req.type === 'diffOpen') return openSecond(req.id, req.files);
    if (req.type === 'diffSnapshots') {
      const s = session?.id === req.chain ? session.s : second.get(req.chain);
      if (!s) return fail(req.id, new Error(`open request ${req.chain} is not current`));
      try {
        post({ v, id: req.id, type: 'diffSnapshots', snapshots: await snapshotNames(s) });
      } catch (e) {
        fail(req.id, e);
      }
      return;
    }
    if (req.type === 'diff') {
      if (inFlight) {
        inFlight.ctl.abort();
        post({ v, id: inFlight.id, type: 'cancelled' });
      }
      if (session?.id !== req.openId)
        return fail(req.id, new Error(`open request ${req.openId} is not current`));
      const ctl = new AbortController();
      inFlight = { id: req.id, ctl };
      try {
        const main = session.s;
        const d = await DiffSession.compute(
          req.openId,
          (spec) => views(chainOf(spec, main)),
          req.a,
          req.b,
          ctl.signal,
        );
        if (ctl.signal.aborted) return;
        current = { id: req.id, d };
        const summary = d.summary();
        post({ v, id: req.id, type: 'diff', summary }, [
          summary.start.buffer,
          summary.length.buffer,
          summary.kind.buffer,
        ]);
      } catch (e) {
        if (e instanceof CancelledError || ctl.signal.aborted) return;
        fail(req.id, e);
      } finally {
        if (inFlight?.id === req.id) inFlight = undefined;
      }
      return;
    }
    if (current?.id !== req.diffId || session?.id !== current.d.openId)
      return fail(req.id, new Error(`diff ${req.diffId} is not current`));
    const d = current.d;
    try {
      switch (req.type) {
        case 'diffBins': {
          const n = Math.max(0, Math.min(req.bins, MAX_BINS));
          const r = d.bins(req.start, req.end, n);
          post({ v, id: req.id, type: 'diffBins', start: req.start, end: req.end, bins: n, ...r }, [
            r.fractions.buffer,
          ]);
          return;
        }
        case 'diffLanes': {
          const px = Math.max(1, Math.min(req.px, MAX_LANE_PX));
          const values = d.lanes(req.start, req.end, px);
          post({ v, id: req.id, type: 'diffLanes', start: req.start, end: req.end, px, values }, [
            values.buffer,
          ]);
          return;
        }
        case 'diffReasons':
          post({
            v,
            id: req.id,
            type: 'diffReasons',
            from: req.from,
            reasons: d.reasons(req.from, Math.min(req.to, req.from + MAX_REASONS)),
          });
          return;
        case 'diffExport':
          post({ v, id: req.id, type: 'diffExport', format: req.format, ...d.export(req.format) });
          return;
      }
    } catch (e) {
      fail(req.id, e);
    }
  };
}
