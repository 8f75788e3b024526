/**
 * The worker's one handler (ARCHITECTURE.md): requests in, replies out through `post`, free of
 * worker globals so tests drive it. It keeps the open sources (one per slot: the page's image or
 * map, image B, the diff) and answers every call through the MapSource interface (source.ts).
 *
 * Supersede and cancel per channel: a newer request on a channel ends the older one for real. A
 * request waits one task before it starts, so a burst of requests queued behind a long one (the
 * bins of every frame of a drag) computes only the newest; a started one stops at its next await.
 */

import type { LimitError } from '../core/errors.ts';
import { plainError } from '../core/plainError.ts';
import { layoutGrid } from '../core/raster/grid.ts';
import { laneSpansAt, rasterLanes } from '../core/raster/lanes.ts';
import { encodeLinkMap } from '../core/share/mapCodec.ts';
import { CancelledError } from '../core/status/layerStatus.ts';
import { type ChainStatus, chainStatus } from '../core/status/resolve.ts';
import {
  type Method,
  type Opened,
  type Params,
  PROTOCOL_VERSION,
  type Reply,
  type Request,
  type Result,
  type Slot,
} from '../protocol/calls.ts';
import type { GridBox } from '../protocol/results.ts';
import type { SourceId } from '../protocol/source.ts';
import { extentsOverBudget, PAGE_MAX_EXTENTS } from './budgets.ts';
import { NothingOpened } from './chainFiles.ts';
import { comparePlanOf, compareSources } from './compare.ts';
import { DiffSource } from './diffSource.ts';
import { ImageSource } from './imageSource.ts';
import { MapOnlySource } from './mapSource.ts';
import {
  nextTask,
  openName,
  openSources,
  PROGRESS_INTERVAL_MS,
  partialPacer,
  throttle,
  yielder,
} from './open.ts';
import { Sandbox } from './sandbox.ts';
import { type MapSource, SourceError } from './source.ts';

export type Post = (msg: Reply, transfer?: Transferable[]) => void;

/** Most lane pixel columns one request may ask for: wider than any screen. */
export const MAX_LANE_PX = 8192;

interface Ctx {
  readonly id: number;
  /** Aborted when superseded or cancelled; core's scans pause on it (core/cancel.ts). */
  readonly signal: AbortSignal & { readonly pause: () => Promise<void> | undefined };
  progress(phase: string, done: number, total: number): void;
  partial(p: unknown): void;
}

/** The ArrayBuffers of a result's typed arrays (results are made fresh for the page: moved, not copied). */
function transferables(x: unknown, depth = 3, out: Transferable[] = []): Transferable[] {
  if (ArrayBuffer.isView(x)) {
    if (x.byteOffset === 0 && x.byteLength === x.buffer.byteLength && x.buffer instanceof ArrayBuffer)
      out.push(x.buffer);
  } else if (depth > 0 && typeof x === 'object' && x !== null) {
    for (const v of Array.isArray(x) ? x : Object.values(x)) transferables(v, depth - 1, out);
  }
  return out;
}

export interface HandlerOptions {
  /** The clock partial maps and progress are paced by (tests pass their own). */
  readonly now?: () => number;
  /** Extents an open may hold (PAGE_MAX_EXTENTS; tests pass their own). */
  readonly maxExtents?: number;
}

export function createHandler(post: Post, opts: HandlerOptions = {}): (req: Request) => Promise<void> {
  const v = PROTOCOL_VERSION;
  const sources = new Map<SourceId, MapSource>();
  const slots = new Map<Slot, SourceId>();
  const channels = new Map<string, { id: number; ctl: AbortController }>();
  /** Requests under way that read a source, by the source: a newer open of its slot ends them. */
  const reading = new Map<SourceId, Set<AbortController>>();
  /** The sources a request reads (its `source`, a compare's or diff's sides). */
  const readsOf = (req: Request): SourceId[] => {
    const p = req.params as { source?: unknown; a?: unknown; b?: unknown };
    return [p.source, p.a, p.b].filter((x): x is SourceId => typeof x === 'number');
  };
  /**
   * A newer open of `slot` ends the work still reading the source it will replace (the page
   * shows the newer one; nothing waits for the older's lanes or bins), so the open does not
   * queue behind a raster of millions of runs: that work stops at its next cancellation point.
   */
  const endReadersOf = (slot: Slot) => {
    const old = slots.get(slot);
    if (old === undefined) return;
    const ids = [old, ...[...sources.values()].filter((s) => s.reads?.includes(old)).map((s) => s.id)];
    for (const id of ids) for (const ctl of reading.get(id) ?? []) ctl.abort();
  };
  const sandbox = new Sandbox();

  const close = (id: SourceId) => {
    if (!sources.delete(id)) return;
    for (const [slot, s] of slots) if (s === id) slots.delete(slot);
    // A diff closes with the sources it reads.
    for (const s of [...sources.values()]) if (s.reads?.includes(id)) close(s.id);
  };
  /** Puts `src` into `slot`; the source it replaces is closed. */
  const place = (slot: Slot, src: MapSource) => {
    const old = slots.get(slot);
    sources.set(src.id, src);
    slots.set(slot, src.id);
    if (old !== undefined && old !== src.id) close(old);
  };
  const sourceOf = (id: SourceId): MapSource => {
    const s = sources.get(id);
    if (!s) throw new SourceError(`source ${id} is not open (a newer open replaced it)`);
    return s;
  };
  const imageOf = (id: SourceId): ImageSource => {
    const s = sourceOf(id);
    if (!(s instanceof ImageSource))
      throw new SourceError('only an image has a report, a host map and snapshots');
    return s;
  };

  const opened = async (src: ImageSource | MapOnlySource, grid: GridBox | undefined, signal: AbortSignal) => {
    const info = src.info();
    if (!grid) return { info };
    const g = layoutGrid({
      width: grid.width,
      maxHeight: grid.maxHeight,
      start: 0,
      end: info.length,
      clusterSize: info.clusterSize,
      subclusters: info.subclusters,
    });
    const end = g.start + g.cells * g.bytesPerCell;
    const n = g.cells * g.subPerCell;
    const fractions = await src.bins('', g.start, end, n, signal);
    return { info, firstBins: { start: g.start, end, n, classes: info.classes.length, fractions } };
  };

  const openImage = async (p: Params<'open'>, ctx: Ctx): Promise<Opened> => {
    const { from, slot, grid } = p;
    if (from.kind === 'maps') {
      const src = await MapOnlySource.open(ctx.id, from);
      if (ctx.signal.aborted) throw new CancelledError();
      place(slot, src);
      return opened(src, grid, ctx.signal);
    }
    const dropped = await openSources(from, sandbox, ctx.progress, ctx.signal);
    if (ctx.signal.aborted) throw new CancelledError();
    const layers = dropped.chain.layers.length;
    const length = dropped.chain.layers[0]!.length;
    const now = opts.now ?? (() => performance.now());
    const partials = partialPacer(now);
    const progressDue = throttle(PROGRESS_INTERVAL_MS, opts.now);
    const budget = opts.maxExtents ?? PAGE_MAX_EXTENTS;
    let src: ImageSource | undefined;
    let layer = 0;
    let lastDone = 0;
    /** Set when the open passed its budget: the scan stops, the map so far is its last part. */
    let over: { error: LimitError; part: () => ChainStatus; end: number } | undefined;
    const show = (s: ChainStatus, end: number) => {
      src ??= new ImageSource(ctx.id, dropped, s);
      src.update(s, false, end);
      place(slot, src);
      return opened(src, grid, ctx.signal);
    };
    const st = await chainStatus(dropped.chain, {
      signal: {
        get aborted() {
          return ctx.signal.aborted || over !== undefined;
        },
        pause: ctx.signal.pause,
      },
      onPartial: (part, end, held) => {
        if (held > budget) {
          over ??= { error: extentsOverBudget(dropped.chain, end, held, budget), part, end };
          return;
        }
        // The whole map follows at once; a part is posted first at once, then at a pace.
        if (end >= length || !partials.due()) return;
        const t0 = now();
        show(part(), end).then(
          (o) => {
            partials.spent(now() - t0);
            ctx.partial(o);
          },
          () => {},
        );
      },
      onProgress: (done, total) => {
        // Progress restarts per layer: count layers finished plus the fraction of this one.
        if (done <= lastDone) layer++;
        lastDone = done;
        if (progressDue(done >= total))
          ctx.progress(`L2 tables (layer ${Math.min(layer, layers)}/${layers})`, done, total);
      },
    }).catch(async (e: unknown) => {
      if (!over || ctx.signal.aborted) throw e;
      // Over budget: the map up to where the scan stopped is the open's last part, then its error.
      ctx.partial(await show(over.part(), over.end));
      throw over.error;
    });
    if (ctx.signal.aborted) throw new CancelledError();
    src ??= new ImageSource(ctx.id, dropped, st);
    src.update(st, true);
    await src.loadBitmaps();
    await src.fingerprint();
    if (ctx.signal.aborted) throw new CancelledError();
    place(slot, src);
    return opened(src, grid, ctx.signal);
  };

  type Impl = { [M in Method]: (p: Params<M>, ctx: Ctx) => Promise<Result<M>> };
  const methods: Impl = {
    open: openImage,
    diff: async ({ a, b, mode }, ctx) => {
      const due = throttle(PROGRESS_INTERVAL_MS, opts.now);
      const d = await DiffSource.create(ctx.id, a, b, sourceOf, ctx.signal, mode, (phase, done, total) => {
        if (due(done === 0 || done >= total)) ctx.progress(phase, done, total);
      });
      if (ctx.signal.aborted) throw new CancelledError();
      place('diff', d);
      return d.info();
    },
    close: async ({ source }) => {
      close(source);
      return null;
    },
    view: ({ source, view }, ctx) => {
      const due = throttle(PROGRESS_INTERVAL_MS, opts.now);
      return sourceOf(source).view(view, ctx.signal, (phase, done, total) => {
        if (due(done === 0 || done >= total)) ctx.progress(phase, done, total);
      });
    },
    hostHoles: ({ source, view }, ctx) => imageOf(source).hostHoles(view, ctx.signal),
    bins: async ({ source, view, start, end, n, bitmap }, ctx) => {
      const fractions = await sourceOf(source).bins(view, start, end, n, ctx.signal, bitmap);
      const bins = n > 0 ? fractions.length / n : 0;
      return { start, end, n: Math.max(0, n), classes: bins, fractions };
    },
    lanes: async ({ source, view, start, end, px }, ctx) => {
      const src = sourceOf(source);
      const w = Math.max(1, Math.min(px, MAX_LANE_PX));
      const info = src.info();
      const runs = await src.laneRuns(view, ctx.signal);
      const classes = info.classes.length;
      const fractions = await rasterLanes(runs, classes, start, end, w, ctx.signal);
      return { start, end, px: w, lanes: runs.length, classes, fractions };
    },
    spans: async ({ source, view, offset }, ctx) =>
      laneSpansAt(await sourceOf(source).laneRuns(view, ctx.signal), offset),
    hit: ({ source, view, offset }, ctx) => sourceOf(source).hit(view, offset, ctx.signal),
    rows: ({ source, view, ...q }, ctx) => sourceOf(source).rows(view, q, ctx.signal),
    export: ({ source, view, format, release }, ctx) =>
      sourceOf(source).export(view, format, release, ctx.signal),
    share: async ({ source }, ctx) => ({ payload: encodeLinkMap(await sourceOf(source).share(ctx.signal)) }),
    report: ({ source, check }, ctx) => {
      const due = throttle(PROGRESS_INTERVAL_MS, opts.now);
      return imageOf(source).report(check === true, ctx.signal, (phase, done, total) => {
        if (due(done === 0 || done >= total)) ctx.progress(phase, done, total);
      });
    },
    hostmap: ({ source, px }) => imageOf(source).hostmap(px),
    snapshots: ({ source }) => imageOf(source).snapshots(),
    snapshotRows: ({ source, ...q }) => imageOf(source).snapshotRows(q),
    sandbox: async ({ ops }) => sandbox.run(ops),
    sandboxFile: async ({ name }) => sandbox.bytes(name),
    comparePlan: ({ a, b }) => comparePlanOf(imageOf(a), imageOf(b)),
    compare: ({ a, b }, ctx) =>
      compareSources(imageOf(a), imageOf(b), ctx.signal, (done, total) =>
        ctx.progress('reading guest data', done, total),
      ),
    cancel: async ({ channel }) => {
      const c = channels.get(channel);
      if (c) {
        c.ctl.abort();
        channels.delete(channel);
      }
      return null;
    },
    ping: async () => null,
  };

  return async (req) => {
    if (req?.v !== PROTOCOL_VERSION) {
      post({
        v,
        id: req?.id ?? 0,
        type: 'error',
        error: plainError(new Error(`protocol version ${String(req?.v)}, worker speaks ${v}`)),
      });
      return;
    }
    const ctl = new AbortController();
    // Core's scans pause at their cancellation points to let this thread see a cancel.
    const signal = Object.assign(ctl.signal, { pause: yielder() });
    const ch = req.channel;
    if (ch !== undefined) {
      // The older request stops at its next cancellation point; it says 'cancelled' once it has.
      channels.get(ch)?.ctl.abort();
      channels.set(ch, { id: req.id, ctl });
    }
    if (req.method === 'open') endReadersOf((req.params as Params<'open'>).slot);
    const reads = readsOf(req);
    for (const id of reads) {
      const set = reading.get(id) ?? new Set<AbortController>();
      reading.set(id, set);
      set.add(ctl);
    }
    const ctx: Ctx = {
      id: req.id,
      signal,
      progress: (phase, done, total) => {
        if (!ctl.signal.aborted) post({ v, id: req.id, type: 'progress', phase, done, total });
      },
      partial: (p) => {
        if (!ctl.signal.aborted) post({ v, id: req.id, type: 'partial', partial: p }, transferables(p));
      },
    };
    try {
      // Newer requests already queued supersede this one before it computes anything.
      if (ch !== undefined) await nextTask();
      if (ctl.signal.aborted) return;
      const impl = methods[req.method] as (p: unknown, ctx: Ctx) => Promise<unknown>;
      if (!impl) throw new Error(`unknown method '${String(req.method)}'`);
      const result = await impl(req.params, ctx);
      if (ctl.signal.aborted) return;
      post({ v, id: req.id, type: 'result', result }, transferables(result));
    } catch (e) {
      if (ctl.signal.aborted || e instanceof CancelledError) return;
      if (e instanceof NothingOpened) {
        post({ v, id: req.id, type: 'error', error: e.rejected[0]!, files: e.rejected });
        return;
      }
      const file = req.method === 'open' ? openName((req.params as Params<'open'>).from) : '';
      post({ v, id: req.id, type: 'error', error: plainError(e, file) });
    } finally {
      for (const id of reads) {
        const set = reading.get(id);
        set?.delete(ctl);
        if (set?.size === 0) reading.delete(id);
      }
      if (ch !== undefined && channels.get(ch)?.id === req.id) channels.delete(ch);
      // A superseded or cancelled request says so when its work has ended, not when it was
      // asked to: the page's client waits for this (state/client.ts SUPERSEDE_MS) and replaces
      // a worker whose older work does not end.
      if (ctl.signal.aborted) post({ v, id: req.id, type: 'cancelled' });
    }
  };
}
