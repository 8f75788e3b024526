/**
 * The worker's side of maps without the image: opens map files and link maps as a MapSession
 * and answers bins, tracks, hits and exports for it; encodes the open chain's map for a link.
 * handler.ts passes each request here first; `handle` returns false for requests it leaves to
 * the image handler.
 */
import { toErrorInfo } from './errorInfo.ts';
import { type MapSession, openMapSession } from './mapFileSession.ts';
import { binClassCount, PROTOCOL_VERSION, type Request, type Response } from './protocol.ts';

type Post = (msg: Response, transfer?: Transferable[]) => void;

export function createMapHandler(
  post: Post,
  imageSession: () => { id: number; s: { shareMap(): string } } | undefined,
): (req: Request) => Promise<boolean> {
  let current: { id: number; s: MapSession } | undefined;
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
        const s = current?.id === req.openId ? current.s : img?.id === req.openId ? img.s : undefined;
        if (!s) {
          post({ v, id: req.id, type: 'error', error: toErrorInfo(new Error('nothing open to share')) });
          return true;
        }
        post({ v, id: req.id, type: 'shareMap', payload: s.shareMap() });
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
