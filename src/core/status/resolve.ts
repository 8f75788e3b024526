/**
 * Block status of a whole chain, resolved per byte as QEMU's generic layer does
 * (block/io.c bdrv_co_do_block_status() per node and bdrv_co_common_block_status_above()
 * across nodes; reference §3.6-3.7 and §4.1).
 *
 * For every guest byte the result names the layer that decided it and the single-node status
 * that layer returned, so each interpretation (qemu-img map, NBD contexts) is a pure function
 * of one extent:
 *  - a layer whose (sub)cluster has DATA or ZERO decides, with ALLOCATED added;
 *  - an unallocated byte in a layer without backing (or opened with backing: null) is decided
 *    there: ZERO without ALLOCATED (qemu-img map "present": false);
 *  - an unallocated byte at or beyond the end of the layer's backing file is decided there:
 *    ZERO without ALLOCATED, marked SYNTH_BEYOND_BACKING_EOF, because QEMU's NBD walk then
 *    attributes it to the short backing layer with ZERO|ALLOCATED (reference §3.7);
 *  - otherwise the backing layer is asked.
 */
import { MemoryBudget } from '../budget.ts';
import { checkpoint } from '../cancel.ts';
import type { Chain } from '../chain/chain.ts';
import type { Layer } from '../chain/layer.ts';
import type { ClusterscopeError } from '../errors.ts';
import type { Finding } from '../findings.ts';
import { MAX_STATUS_BYTES } from '../limits.ts';
import { ExtentBuilder, type Extents, NO_HOST } from './extents.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_COMPRESSED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_OFFSET_VALID,
  BDRV_BLOCK_ZERO,
} from './flags.ts';
import {
  KIND_COMPRESSED,
  KIND_ERROR,
  KIND_NORMAL,
  KIND_RAW_DATA,
  KIND_RAW_EOF_TAIL,
  KIND_RAW_HOLE,
  KIND_UNALLOCATED_ALLOC,
  KIND_ZERO_ALLOC,
  KIND_ZERO_PLAIN,
} from './kinds.ts';
import { type Cancellation, type LayerStatus, layerStatus, type Progress } from './layerStatus.ts';

/**
 * clusterscope's own marker, not a QEMU flag: the byte lies at or past the end of the
 * deciding layer's backing file. 0x40 is BDRV_BLOCK_RECURSE in QEMU, which never survives
 * block status, so the value cannot be mistaken for a QEMU answer.
 */
export const SYNTH_BEYOND_BACKING_EOF = 0x40;

export interface ChainStatus {
  readonly chain: Chain;
  /** Extents over the top's length; `layer` is the deciding layer (0 = top). */
  readonly extents: Extents;
  readonly length: number;
  /** Set when the walk reached a (sub)cluster QEMU refuses to read; extents stop there. */
  readonly error?: ClusterscopeError;
  readonly findings: readonly Finding[];
  readonly layerStatus: readonly LayerStatus[];
}

/** Driver flags of a (sub)cluster kind (reference §3.4), before ALLOCATED is added. */
export function kindFlags(kind: number, encrypted: boolean, compressedFlag = true): number {
  const ov = encrypted ? 0 : BDRV_BLOCK_OFFSET_VALID;
  switch (kind) {
    case KIND_NORMAL:
      return BDRV_BLOCK_DATA | ov;
    case KIND_ZERO_ALLOC:
      return BDRV_BLOCK_ZERO | ov;
    case KIND_ZERO_PLAIN:
      return BDRV_BLOCK_ZERO;
    case KIND_UNALLOCATED_ALLOC:
      return ov;
    case KIND_COMPRESSED:
      return BDRV_BLOCK_DATA | (compressedFlag ? BDRV_BLOCK_COMPRESSED : 0);
    case KIND_RAW_DATA:
      return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID;
    case KIND_RAW_EOF_TAIL:
    case KIND_RAW_HOLE:
      return BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID;
    default:
      return 0;
  }
}

export interface ChainStatusOptions {
  /** Status of the top computed elsewhere (e.g. from a snapshot's L1). */
  readonly topStatus?: LayerStatus;
  readonly onProgress?: Progress;
  /**
   * Partial chain status over [0, end) while the top layer is read. With this set, the layers
   * are read base first so that each part of the top resolves at once; the final result is the
   * same either way. Called after every L2 table of the top; `status()` resolves the chain so far
   * (O(extents read)), so call it only for the parts you show: resolving on every table made
   * opening quadratic. Its `extents` are a fresh copy the callee may keep or transfer.
   * `held`: the extents the layers hold so far (the top's so far and every backing layer's),
   * which a caller with a budget of its own counts without resolving.
   */
  readonly onPartial?: (status: () => ChainStatus, end: number, held: number) => void;
  readonly signal?: Cancellation;
  /**
   * What every layer's extents, the resolved chain and their copies are charged to; one of
   * MAX_STATUS_BYTES by default. Past it the computation ends with a LimitError naming it.
   */
  readonly budget?: MemoryBudget;
}

/** Where resolved extents go: an ExtentBuilder, or the streaming walk's collapser. */
export interface ExtentSink {
  push(start: number, length: number, kind: number, flags: number, layer: number, host: number): void;
}

/** A layer's extents over (at least) the range being walked, with the errors they name. */
export interface LayerExtents {
  readonly extents: Extents;
  /** Error `i` of a KIND_ERROR extent whose `host` is i (layerStatus.ts ErrorList). */
  readonly errors: { at(i: number): ClusterscopeError };
}

class StopWalk extends Error {
  constructor(readonly failure: ClusterscopeError) {
    super(failure.message);
  }
}

export async function chainStatus(chain: Chain, opts: ChainStatusOptions = {}): Promise<ChainStatus> {
  const layers = chain.layers;
  const budget = opts.budget ?? new MemoryBudget('MAX_STATUS_BYTES', MAX_STATUS_BYTES);
  const statuses: LayerStatus[] = new Array(layers.length);
  const onPartial = opts.onPartial;
  const order = layers.map((_, i) => (onPartial ? layers.length - 1 - i : i));
  for (const i of order) {
    await checkpoint(opts.signal);
    statuses[i] =
      i === 0 && opts.topStatus
        ? opts.topStatus
        : await layerStatus(layers[i]!, {
            budget,
            ...(opts.signal && { signal: opts.signal }),
            ...(opts.onProgress && { onProgress: opts.onProgress }),
            ...(i === 0 &&
              onPartial && {
                onPartial: (top: LayerStatus, end: number) => {
                  const parts = [top, ...statuses.slice(1)];
                  const held = parts.reduce((n, p) => n + p.extents.count, 0);
                  // A partial map replaces the one before it: charged beside what the layers
                  // hold, not on top of every earlier partial (budget.fork()).
                  onPartial(() => resolveChain(chain, parts, end, budget.fork()), end, held);
                },
              }),
          });
  }
  // Resolving is one synchronous walk over every extent: not begun for a cancelled open.
  await checkpoint(opts.signal);
  return resolveChain(chain, statuses, statuses[0]!.length, budget);
}

/** Resolves per-layer statuses into chain status over [0, end) (end = the top's length when complete). */
function resolveChain(
  chain: Chain,
  statuses: readonly LayerStatus[],
  end: number,
  budget: MemoryBudget,
): ChainStatus {
  const layers = chain.layers;
  const length = statuses[0]!.length;
  const out = new ExtentBuilder(layers[0]!.name, budget);
  const findings = [
    ...layers.flatMap((l) => (l.format === 'qcow2' ? l.findings : [])),
    ...statuses.flatMap((s) => s.findings),
  ];
  const error = walkChain(layers, statuses, 0, end, out);
  return {
    chain,
    extents: out.finish(),
    length,
    ...(error && { error }),
    findings,
    layerStatus: statuses,
  };
}

/**
 * The walk itself, over [from, to): each layer's extents there (`statuses[i]` must cover the
 * range, as far as layer i reaches), resolved into `out` in guest order. Returns the error of
 * the first (sub)cluster QEMU refuses to read, where the walk stops; the whole-image status and
 * the streaming walk (stream.ts, window by window) share it.
 */
export function walkChain(
  layers: readonly Layer[],
  statuses: readonly LayerExtents[],
  from: number,
  to: number,
  out: ExtentSink,
): ClusterscopeError | undefined {
  const cursor = new Int32Array(layers.length); // per-layer extent index: the walk only moves forward

  const walk = (li: number, from: number, to: number): void => {
    const st = statuses[li]!;
    const e = st.extents;
    const layer = layers[li]!;
    const encrypted = layer.format === 'qcow2' && layer.encrypted;
    const last = li === layers.length - 1;
    const backingLength = last ? 0 : layers[li + 1]!.length;
    let k = cursor[li]!;
    while (k > 0 && e.start[k]! > from) k--;
    while (k < e.count && e.start[k]! + e.length[k]! <= from) k++;
    for (; k < e.count && e.start[k]! < to; k++) {
      const s = e.start[k]!;
      const a = Math.max(s, from);
      const b = Math.min(s + e.length[k]!, to);
      const kind = e.kind[k]!;
      if (kind === KIND_ERROR) throw new StopWalk(st.errors.at(e.host[k]!));
      const f = kindFlags(kind, encrypted);
      const h = e.host[k]! === NO_HOST || !(f & BDRV_BLOCK_OFFSET_VALID) ? NO_HOST : e.host[k]! + (a - s);
      if (f & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO)) {
        out.push(a, b - a, kind, f | BDRV_BLOCK_ALLOCATED, li, h);
      } else if (last) {
        out.push(a, b - a, kind, f | BDRV_BLOCK_ZERO, li, h);
      } else {
        if (a < backingLength) walk(li + 1, a, Math.min(b, backingLength));
        if (b > backingLength) {
          const c = Math.max(a, backingLength);
          out.push(
            c,
            b - c,
            kind,
            f | BDRV_BLOCK_ZERO | SYNTH_BEYOND_BACKING_EOF,
            li,
            h === NO_HOST ? NO_HOST : h + (c - a),
          );
        }
      }
    }
    cursor[li] = Math.max(0, k - 1);
  };

  try {
    walk(0, from, to);
  } catch (e) {
    if (e instanceof StopWalk) return e.failure;
    throw e;
  }
  return undefined;
}
