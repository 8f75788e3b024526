/**
 * A chain's block status, streamed: the guest range is walked window by window, each layer
 * scanned over the window (LayerScanner, the decoder the whole-image status uses) into a
 * builder of fixed size, the window resolved by walkChain() into the caller's sink, and the
 * builders emptied for the next one. Memory is bounded by STREAM_WINDOW_BYTES of extents and
 * STREAM_TABLE_CACHE_BYTES of L2 tables, whatever the image: a hostile 384 KiB file whose
 * shared L2 tables make 31 M extents streams as QEMU's qemu-img map does (in ~8 MiB), where
 * holding its status took 5.6 GiB.
 *
 * Windows end at L2-table boundaries of every layer (so a table's look-ahead errors reach as
 * far back as in one scan), or earlier where a layer's share of the window is full: that layer
 * then stops at the start of the run it was building and the next window begins there. Windows
 * that end at a boundary double in size, so a sparse 64 PiB image takes a few dozen windows.
 */
import { unbounded } from '../budget.ts';
import type { Chain } from '../chain/chain.ts';
import type { ClusterscopeError } from '../errors.ts';
import type { Finding } from '../findings.ts';
import {
  EXTENT_BYTES,
  STREAM_MIN_LAYER_EXTENTS,
  STREAM_TABLE_CACHE_BYTES,
  STREAM_WINDOW_BYTES,
} from '../limits.ts';
import { type Qcow2Image, readTable } from '../qcow2/image.ts';
import { ExtentBuilder } from './extents.ts';
import { type Cancellation, CancelledError, LayerScanner, type TableSource } from './layerStatus.ts';
import { type ExtentSink, type LayerExtents, walkChain } from './resolve.ts';

export interface StreamStatusOptions {
  /** The top's L1 table and length instead of its active ones (an internal snapshot's). */
  readonly topL1?: Uint32Array;
  readonly topLength?: number;
  readonly signal?: Cancellation;
  /** Each finding once, as it is found (the images' own first); MAX_FINDINGS per layer, then a count. */
  readonly onFinding?: (f: Finding) => void;
  /** Bytes of extents per window over all layers (STREAM_WINDOW_BYTES; tests lower it). */
  readonly windowBytes?: number;
  /** Bytes of L2 tables kept between windows (STREAM_TABLE_CACHE_BYTES). */
  readonly tableCacheBytes?: number;
}

export interface StreamResult {
  /** The top's virtual size: the sink received extents covering [0, length) unless `error`. */
  readonly length: number;
  /** The first (sub)cluster QEMU refuses to read: the sink's extents stop where it starts. */
  readonly error?: ClusterscopeError;
  /** Most bytes the window arrays and the table cache held at once. */
  readonly peakBytes: number;
  readonly windows: number;
}

/** Extents one layer's entry can add past a full window: 32 subclusters and the run before. */
const ENTRY_SLACK = 64;

export async function streamChainStatus(
  chain: Chain,
  sink: ExtentSink,
  opts: StreamStatusOptions = {},
): Promise<StreamResult> {
  const layers = chain.layers;
  const n = layers.length;
  const perLayer = Math.max(
    STREAM_MIN_LAYER_EXTENTS,
    Math.floor((opts.windowBytes ?? STREAM_WINDOW_BYTES) / EXTENT_BYTES / n),
  );
  const cache = new TableCache(opts.tableCacheBytes ?? STREAM_TABLE_CACHE_BYTES);
  const budget = unbounded('STREAM_WINDOW_BYTES');
  const scanners = layers.map(
    (l, i) =>
      new LayerScanner(l, {
        ...(opts.signal && { signal: opts.signal }),
        ...(l.format === 'qcow2' && { tables: cache.source(i, l) }),
        ...(i === 0 && opts.topL1 && { l1: opts.topL1 }),
        ...(i === 0 && opts.topLength !== undefined && { length: opts.topLength }),
      }),
  );
  const builders = layers.map((l) => new ExtentBuilder(l.name, budget, perLayer + ENTRY_SLACK));
  const windowOf: LayerExtents[] = scanners.map((s, i) => ({ extents: builders[i]!, errors: s.errors }));
  const length = scanners[0]!.length;

  const onFinding = opts.onFinding ?? (() => {});
  for (const l of layers) if (l.format === 'qcow2') for (const f of l.findings) onFinding(f);
  const sent = new Array<number>(n).fill(0);
  const forward = () => {
    scanners.forEach((s, i) => {
      while (sent[i]! < s.findings.length) onFinding(s.findings[sent[i]!++]!);
    });
  };

  // Every layer's L2 tables start at multiples of the largest span (all spans are powers of 2).
  let align = 0;
  for (const l of layers) {
    if (l.format === 'qcow2') align = Math.max(align, l.header.clusterSize * l.header.l2Entries);
  }
  if (align === 0) align = 2 ** 30; // raw layers only: two extents each, any window will do
  const alignUp = (x: number) => Math.ceil(x / align) * align;

  let w0 = 0;
  let span = align;
  let windows = 0;
  let error: ClusterscopeError | undefined;
  while (w0 < length) {
    if (opts.signal?.aborted) throw new CancelledError('cancelled');
    windows++;
    let end = Math.min(length, alignUp(w0 + span));
    let cut = false;
    for (let li = 0; li < n; li++) {
      const b = builders[li]!;
      const s = scanners[li]!;
      b.reset();
      s.clearErrors();
      const stop = Math.min(end, s.length);
      if (w0 >= stop) continue; // past this layer's end: the walk never asks it
      const reached = await s.scan(w0, stop, b, perLayer);
      if (reached < stop) {
        end = reached;
        cut = true;
      }
    }
    if (cut) for (const b of builders) b.cutAt(end);
    error = walkChain(layers, windowOf, w0, end, sink);
    forward();
    if (error) break;
    span = cut ? end - w0 : Math.min(span * 2, length);
    w0 = end;
  }
  scanners.forEach((s) => {
    if (s.findingsDropped) onFinding(s.allFindings().at(-1)!);
  });
  return { length, ...(error && { error }), peakBytes: budget.peak + cache.peak, windows };
}

/**
 * L2 tables read on demand and kept, least recently used dropped first, within a byte limit
 * shared by all layers. One table larger than the limit is still kept while it is the newest.
 */
class TableCache {
  private readonly tables = new Map<string, Uint8Array>();
  private bytes = 0;
  peak = 0;
  constructor(private readonly limit: number) {}

  source(layerIndex: number, img: Qcow2Image): TableSource {
    const cs = img.header.clusterSize;
    return {
      table: async (offset) => {
        const key = `${layerIndex}:${offset}`;
        const hit = this.tables.get(key);
        if (hit) {
          this.tables.delete(key);
          this.tables.set(key, hit);
          return hit;
        }
        const b = await readTable(img.source, offset, cs);
        this.tables.set(key, b);
        this.bytes += b.length;
        this.peak = Math.max(this.peak, this.bytes);
        for (const [k, v] of this.tables) {
          if (this.bytes <= this.limit || k === key) break;
          this.tables.delete(k);
          this.bytes -= v.length;
        }
        return b;
      },
    };
  }
}
