/**
 * The worker's request handler, free of worker globals so tests can drive it: requests in,
 * responses out through `post`. Opening is the only long task; a newer `open` aborts the one
 * in flight (its id is answered with `cancelled`), and bin/hit requests for a superseded open
 * are refused.
 */
import { viewStatus } from '../core/interpret/viewSource.ts';
import { CancelledError } from '../core/status/layerStatus.ts';
import { chainStatus } from '../core/status/resolve.ts';
import { layoutGrid } from '../state/grid.ts';
import { BlobSource } from './blobSource.ts';
import { NothingOpened, openDropped } from './chainFiles.ts';
import { createDiffHandler } from './diffHandler.ts';
import { toErrorInfo } from './errorInfo.ts';
import { imageReport } from './imageReport.ts';
import { createMapHandler } from './mapFileHandler.ts';
import { partialPoster, progressThrottle } from './partial.ts';
import {
  binClassCount,
  type ChainInfo,
  type ErrorInfo,
  type GridBox,
  type OpenSource,
  PROTOCOL_VERSION,
  type Request,
  type Response,
} from './protocol.ts';
import { Sandbox, sourceName, sourcesFor } from './sandbox.ts';
import { Session } from './session.ts';

/** Bins one request may ask for: 4 Mi, far above a screen's cells (never more cells than pixels). */
const MAX_BINS = 1 << 22;

export type Post = (msg: Response, transfer?: Transferable[]) => void;

/** The extent arrays (and first bins) of a ChainInfo, moved rather than copied to the UI thread. */
const transfers = ({ extents: x, firstBins }: ChainInfo): Transferable[] => [
  x.start.buffer,
  x.length.buffer,
  x.kind.buffer,
  x.flags.buffer,
  x.layer.buffer,
  x.host.buffer,
  ...(firstBins ? [firstBins.fractions.buffer] : []),
];

/** The chain info with the whole image binned for the heatmap box `grid`, when the open named one. */
function withFirstBins(s: Session, grid: GridBox | undefined): ChainInfo {
  const chain = s.info();
  if (!grid) return chain;
  const top = s.chain.layers[0]!;
  const g = layoutGrid({
    width: grid.width,
    maxHeight: grid.maxHeight,
    start: 0,
    end: chain.length,
    clusterSize: chain.clusterSize,
    subclusters: top.format === 'qcow2' && top.header.extendedL2,
  });
  const end = g.start + g.cells * g.bytesPerCell;
  const n = Math.min(g.cells * g.subPerCell, MAX_BINS);
  const fractions = s.bins(g.start, end, n);
  const classes = binClassCount(s.chain.layers.length);
  return { ...chain, firstBins: { start: g.start, end, bins: n, classes, fractions } };
}

export function createHandler(post: Post): (req: Request) => Promise<void> {
  let session: { id: number; s: Session } | undefined;
  let inFlight: { id: number; ctl: AbortController } | undefined;
  // Maps without the image (mapFileHandler.ts) answer their own open ids first.
  const maps = createMapHandler(post, () => session);
  const v = PROTOCOL_VERSION;
  const sandbox = new Sandbox();
  const diff = createDiffHandler(post);

  const open = async (id: number, files: readonly File[], from?: OpenSource, grid?: GridBox) => {
    if (inFlight) {
      inFlight.ctl.abort();
      post({ v, id: inFlight.id, type: 'cancelled' });
    }
    const ctl = new AbortController();
    inFlight = { id, ctl };
    session = undefined;
    try {
      const sources = from
        ? await sourcesFor(from, sandbox, (phase, done, total) =>
            post({ v, id, type: 'progress', phase, done, total }),
          )
        : files.map((f) => ({ name: f.name, source: new BlobSource(f.name, f) }));
      post({ v, id, type: 'progress', phase: 'opening', done: 0, total: 1 });
      const dropped = await openDropped(sources);
      if (ctl.signal.aborted) return;
      const layers = dropped.chain.layers.length;
      let layer = 0;
      let lastDone = 0;
      const progressDue = progressThrottle();
      const st = await chainStatus(dropped.chain, {
        signal: ctl.signal,
        onPartial: partialPoster((p, end) => {
          session = { id, s: p };
          const chain = withFirstBins(p, grid);
          post({ v, id, type: 'partial', chain, end }, transfers(chain));
        }, dropped),
        onProgress: (done, total) => {
          // Progress restarts per layer: count layers finished plus the fraction of this one.
          if (done <= lastDone) layer++;
          lastDone = done;
          if (progressDue(done, total))
            post({ v, id, type: 'progress', phase: `L2 tables (layer ${layer + 1}/${layers})`, done, total });
        },
      });
      if (ctl.signal.aborted) return;
      const s = new Session(dropped, st);
      await s.fingerprint();
      if (ctl.signal.aborted) return;
      session = { id, s };
      const chain = withFirstBins(s, grid);
      post({ v, id, type: 'opened', chain }, transfers(chain));
    } catch (e) {
      if (e instanceof CancelledError || ctl.signal.aborted) return;
      if (e instanceof NothingOpened) {
        post({ v, id, type: 'error', error: e.rejected[0]!, files: e.rejected });
      } else {
        post({ v, id, type: 'error', error: toErrorInfo(e, files[0]?.name ?? sourceName(from)) });
      }
    } finally {
      if (inFlight?.id === id) inFlight = undefined;
    }
  };

  return async (req) => {
    if (req.v !== PROTOCOL_VERSION) {
      post({
        v,
        id: req.id,
        type: 'error',
        error: toErrorInfo(new Error(`protocol version ${String(req.v)}, worker speaks ${v}`)),
      });
      return;
    }
    if (await maps(req)) return;
    switch (req.type) {
      case 'diff':
      case 'diffBins':
      case 'diffLanes':
      case 'diffReasons':
      case 'diffExport':
      case 'diffOpen':
      case 'diffSnapshots':
        return diff(req, session);
      case 'open':
        return open(req.id, req.files, req.source, req.grid);
      case 'sandbox': {
        // Lessons and the sandbox: operations in order; the first failure stops the list.
        let error: ErrorInfo | undefined;
        for (const op of req.ops) {
          try {
            sandbox.apply(op);
          } catch (e) {
            error = toErrorInfo(e);
            break;
          }
        }
        post({ v, id: req.id, type: 'sandbox', state: sandbox.state(), ...(error && { error }) });
        return;
      }
      case 'sandboxFile': {
        try {
          const bytes = sandbox.bytes(req.name);
          post({ v, id: req.id, type: 'sandboxFile', name: req.name, bytes }, [bytes.buffer]);
        } catch (e) {
          post({ v, id: req.id, type: 'error', error: toErrorInfo(e, req.name) });
        }
        return;
      }
      case 'cancel':
        if (inFlight?.id === req.target) {
          inFlight.ctl.abort();
          post({ v, id: req.target, type: 'cancelled' });
          inFlight = undefined;
        }
        return;
      case 'bins': {
        if (session?.id !== req.openId) return stale(req.id, req.openId);
        const n = Math.max(0, Math.min(req.bins, MAX_BINS));
        const fractions = session.s.bins(req.start, req.end, n);
        post(
          {
            v,
            id: req.id,
            type: 'bins',
            start: req.start,
            end: req.end,
            bins: n,
            classes: binClassCount(session.s.chain.layers.length),
            fractions,
          },
          [fractions.buffer],
        );
        return;
      }
      case 'tracks': {
        if (session?.id !== req.openId) return stale(req.id, req.openId);
        const px = Math.max(1, Math.min(req.px, 8192));
        const t = session.s.tracks(req.start, req.end, px);
        post({ v, id: req.id, type: 'tracks', start: req.start, end: req.end, px, ...t }, [t.values.buffer]);
        return;
      }
      case 'export': {
        if (session?.id !== req.openId) return stale(req.id, req.openId);
        post({
          v,
          id: req.id,
          type: 'export',
          format: req.format,
          text: session.s.export(req.format, req.release),
        });
        return;
      }
      case 'snapshotView': {
        if (session?.id !== req.openId) return stale(req.id, req.openId);
        try {
          const dropped = session.s.dropped;
          const st = await viewStatus(dropped.chain, {
            backing: 'chain',
            ...(req.snapshot !== undefined && { snapshot: req.snapshot }),
          });
          if (session?.id !== req.openId) return stale(req.id, req.openId);
          const s = new Session(dropped, st);
          session = { id: req.openId, s };
          const chain = s.info();
          post(
            {
              v,
              id: req.id,
              type: 'snapshotView',
              chain,
              ...(req.snapshot !== undefined && { snapshot: req.snapshot }),
            },
            transfers(chain),
          );
        } catch (e) {
          post({ v, id: req.id, type: 'error', error: toErrorInfo(e) });
        }
        return;
      }
      case 'image': {
        if (session?.id !== req.openId) return stale(req.id, req.openId);
        try {
          post({
            v,
            id: req.id,
            type: 'image',
            report: await imageReport(session.s.status, req.check ? 'always' : 'auto'),
          });
        } catch (e) {
          post({ v, id: req.id, type: 'error', error: toErrorInfo(e) });
        }
        return;
      }
      case 'hit': {
        if (session?.id !== req.openId) return stale(req.id, req.openId);
        try {
          post({ v, id: req.id, type: 'hit', detail: await session.s.hit(req.offset) });
        } catch (e) {
          post({ v, id: req.id, type: 'error', error: toErrorInfo(e) });
        }
        return;
      }
    }
  };

  function stale(id: number, openId: number) {
    post({ v, id, type: 'error', error: toErrorInfo(new Error(`open request ${openId} is not current`)) });
  }
}
