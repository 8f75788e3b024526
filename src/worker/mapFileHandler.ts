/**
 * The worker's side of maps without the image: opens map files and link maps as a MapSession
 * and answers bins, tracks, hits, exports and the diff view (mapFileDiff.ts) for it; encodes the
 * open chain's map for a link, with the diff view's A and B when it is comparing. handler.ts
 * passes each request here first; `handle` returns false for requests it leaves to the image
 * and diff handlers.
 */
import type { LinkMapEntry } from '../core/share/mapCodec.ts';
import { DiffSession, ViewCache } from './diffSession.ts';
import { toErrorInfo } from './errorInfo.ts';
import { diffSideId, MapDiff } from './mapFileDiff.ts';
import type { MapRequest } from './mapFileProtocol.ts';
import { type MapSession, openMapSession } from './mapFileSession.ts';
import { binClassCount, PROTOCOL_VERSION, type Request, type Response } from './protocol.ts';
import type { Session } from './session.ts';

type Post = (msg: Response, transfer?: Transferable[]) => void;

/** A diff's A and B extents for a link: computed as the diff view computes them (DiffSession). */
async function diffEntries(
  openId: number,
  s: Session,
  d: NonNullable<Extract<MapRequest, { type: 'shareMap' }>['diff']>,
): Promise<LinkMapEntry[]> {
  const views = new ViewCache(s);
  const ds = await DiffSession.compute(openId, () => views, d.a, d.b);
  const a = { id: diffSideId(d.a), extents: ds.a.computed };
  const b = { id: diffSideId(d.b), extents: ds.b.computed };
  return a.id === b.id ? [a] : [a, b];
}

export function createMapHandler(
  post: Post,
  imageSession: () => { id: number; s: Session } | undefined,
): (req: Request) => Promise<boolean> {
  let current: { id: number; s: MapSession } | undefined;
  let diff: { id: number; d: MapDiff } | undefined;
  const v = PROTOCOL_VERSION;
  return async (req) => {
    switch (req.type) {
      case 'open':
        current = undefined;
        return false;
      case 'openMap': {
        current = undefined;
        try {
          const s = await openMapSession(req.sources, req.meta);
          current = { id: req.id, s };
          post({ v, id: req.id, type: 'opened', chain: s.info() });
        } catch (e) {
          const name = req.sources[0]?.kind === 'file' ? req.sources[0].file.name : 'map';
          const err = toErrorInfo(e, req.sources[0]?.kind === 'link' ? 'link' : name);
          post({ v, id: req.id, type: 'error', error: err, files: [err] });
        }
        return true;
      }
      case 'shareMap': {
        const img = imageSession();
        try {
          let payload: string;
          if (current?.id === req.openId) payload = current.s.shareMap();
          else if (img?.id === req.openId)
            payload = img.s.shareMap(req.diff ? await diffEntries(req.openId, img.s, req.diff) : []);
          else throw new Error('nothing open to share');
          post({ v, id: req.id, type: 'shareMap', payload });
        } catch (e) {
          post({ v, id: req.id, type: 'error', error: toErrorInfo(e) });
        }
        return true;
      }
      case 'diff': {
        if (current?.id !== req.openId) return false;
        try {
          const d = MapDiff.compute(req.openId, current.s, req.a, req.b);
          diff = { id: req.id, d };
          const summary = d.summary();
          post({ v, id: req.id, type: 'diff', summary }, [
            summary.start.buffer,
            summary.length.buffer,
            summary.kind.buffer,
          ]);
        } catch (e) {
          post({ v, id: req.id, type: 'error', error: toErrorInfo(e) });
        }
        return true;
      }
      case 'diffBins':
      case 'diffLanes':
      case 'diffReasons':
      case 'diffExport': {
        const cur = diff;
        if (cur?.id !== req.diffId) return false;
        if (current?.id !== cur.d.openId) {
          post({
            v,
            id: req.id,
            type: 'error',
            error: toErrorInfo(new Error(`diff ${req.diffId} is not current`)),
          });
          return true;
        }
        if (req.type === 'diffBins') {
          const n = Math.max(0, Math.min(req.bins, 1 << 22));
          const r = cur.d.bins(req.start, req.end, n);
          post({ v, id: req.id, type: 'diffBins', start: req.start, end: req.end, bins: n, ...r }, [
            r.fractions.buffer,
          ]);
        } else if (req.type === 'diffLanes') {
          const px = Math.max(1, Math.min(req.px, 8192));
          const values = cur.d.lanes(req.start, req.end, px);
          post({ v, id: req.id, type: 'diffLanes', start: req.start, end: req.end, px, values }, [
            values.buffer,
          ]);
        } else if (req.type === 'diffReasons') {
          const reasons = cur.d.reasons(req.from, Math.min(req.to, req.from + 500));
          post({ v, id: req.id, type: 'diffReasons', from: req.from, reasons });
        } else post({ v, id: req.id, type: 'diffExport', format: req.format, ...cur.d.export(req.format) });
        return true;
      }
      case 'bins':
      case 'tracks':
      case 'hit':
      case 'export':
        break;
      default:
        return false;
    }
    const cur = current;
    if (!cur || cur.id !== req.openId) return false;
    if (req.type === 'bins') {
      const n = Math.max(0, Math.min(req.bins, 1 << 22));
      const fractions = cur.s.bins(req.start, req.end, n);
      post(
        {
          v,
          id: req.id,
          type: 'bins',
          start: req.start,
          end: req.end,
          bins: n,
          classes: binClassCount(cur.s.layerCount),
          fractions,
        },
        [fractions.buffer],
      );
    } else if (req.type === 'tracks') {
      const px = Math.max(1, Math.min(req.px, 8192));
      const t = cur.s.tracks(req.start, req.end, px);
      post({ v, id: req.id, type: 'tracks', start: req.start, end: req.end, px, ...t }, [t.values.buffer]);
    } else if (req.type === 'hit') {
      post({ v, id: req.id, type: 'hit', detail: await cur.s.hit(req.offset) });
    } else {
      post({
        v,
        id: req.id,
        type: 'export',
        format: req.format,
        text: cur.s.export(req.format, req.release),
      });
    }
    return true;
  };
}
