/**
 * The worker's side of the diff view: answers DiffRequests (diffProtocol.ts) for the current
 * session. One diff is kept (the newest); a newer `diff` request aborts the one in flight and
 * answers it with `cancelled`. Each session's views are built once (ViewCache).
 */
import { CancelledError } from '../core/status/layerStatus.ts';
import type { DiffRequest, DiffResponse } from './diffProtocol.ts';
import { DiffSession, ViewCache } from './diffSession.ts';
import { toErrorInfo } from './errorInfo.ts';
import { PROTOCOL_VERSION, type Response } from './protocol.ts';
import type { Session } from './session.ts';

type Post = (msg: Response | DiffResponse, transfer?: Transferable[]) => void;

export function createDiffHandler(post: Post) {
  const v = PROTOCOL_VERSION;
  let cache: { session: Session; views: ViewCache } | undefined;
  let current: { id: number; d: DiffSession } | undefined;
  let inFlight: { id: number; ctl: AbortController } | undefined;

  const fail = (id: number, e: unknown) => post({ v, id, type: 'error', error: toErrorInfo(e) });

  return async (req: DiffRequest, session: { id: number; s: Session } | undefined): Promise<void> => {
    if (req.type === 'diff') {
      if (inFlight) {
        inFlight.ctl.abort();
        post({ v, id: inFlight.id, type: 'cancelled' });
      }
      if (session?.id !== req.openId)
        return fail(req.id, new Error(`open request ${req.openId} is not current`));
      if (cache?.session !== session.s) cache = { session: session.s, views: new ViewCache(session.s) };
      const ctl = new AbortController();
      inFlight = { id: req.id, ctl };
      try {
        const d = await DiffSession.compute(req.openId, cache.views, req.a, req.b, ctl.signal);
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
          const n = Math.max(0, Math.min(req.bins, 1 << 22));
          const r = d.bins(req.start, req.end, n);
          post({ v, id: req.id, type: 'diffBins', start: req.start, end: req.end, bins: n, ...r }, [
            r.fractions.buffer,
          ]);
          return;
        }
        case 'diffLanes': {
          const px = Math.max(1, Math.min(req.px, 8192));
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
            reasons: d.reasons(req.from, Math.min(req.to, req.from + 500)),
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
