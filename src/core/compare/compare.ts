/**
 * `qemu-img compare` (QEMU 7.2 qemu-img.c img_compare()): do two images show a guest the same
 * bytes? Block status of both sides comes first, and guest data is read only where it must be:
 *  - both ZERO: nothing read;
 *  - both ALLOCATED, or both not: both sides read and compared (compare_buffers());
 *  - one side ALLOCATED: only that side read, and it must be all zero (check_empty_sectors());
 *  - past the shorter image's end: the longer one's ALLOCATED, non-ZERO ranges must be zero.
 * A mismatch is reported at the first differing 512-byte sector (both helpers compare in
 * BDRV_SECTOR_SIZE steps), "Content mismatch at offset N!". Strict mode (-s) also fails on a
 * size difference and on the first chunk whose block status differs ("Offset N block status
 * mismatch!"), where status is the whole int bdrv_block_status_above() returns, BDRV_BLOCK_EOF
 * included: an extent that reaches the end of its image carries EOF, so one run of data
 * against the same data in two host runs differs at offset 0 (checked with qemu-img 7.2).
 *
 * `differingRanges()` walks the same plan to the end and returns every differing byte range,
 * which qemu-img cannot; `planCompare()` walks it without reading, to say beforehand how many
 * guest bytes that reads. Reads report progress and stop when their signal is aborted.
 */

import { type Cancellation, throwIfCancelled } from '../cancel.ts';
import { nbdFlags } from '../interpret/nbd.ts';
import { RangeBuilder } from '../ranges.ts';
import { readGuest } from '../read/guestRead.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_OFFSET_VALID,
  BDRV_BLOCK_ZERO,
} from '../status/flags.ts';
import { KIND_COMPRESSED } from '../status/kinds.ts';
import type { ChainStatus } from '../status/resolve.ts';

/** qemu-img.c IO_BUF_SIZE: compare reads at most 2 MiB at a time. */
export const COMPARE_IO_BYTES = 2 * 1024 * 1024;
/** BDRV_SECTOR_SIZE: compare_buffers() and find_nonzero() step in sectors. */
export const COMPARE_SECTOR = 512;
/** BDRV_BLOCK_EOF (include/block/block-common.h): the answer reaches the end of the image. */
export const BDRV_BLOCK_EOF = 0x20;
/** The bits of block status QEMU 7.2 has (BDRV_BLOCK_COMPRESSED came with 8.2). */
const STATUS_7_2 = BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;

export type CompareOutcome =
  | { readonly kind: 'identical' }
  | { readonly kind: 'content-mismatch'; readonly offset: number }
  | { readonly kind: 'status-mismatch'; readonly offset: number }
  | { readonly kind: 'size-mismatch' }
  /** Block status failed on side 0 or 1: "Sector allocation test failed for FILE", exit 3. */
  | { readonly kind: 'status-error'; readonly side: 0 | 1 };

export interface CompareResult {
  readonly outcome: CompareOutcome;
  /** Sizes differ (qemu-img prints "Warning: Image size mismatch!" once it reaches the tail). */
  readonly sizeWarning: boolean;
  /** min(lengths): where the longer image's tail starts. */
  readonly tailStart: number;
  /** Guest bytes read from each side: what the status-first plan spared is the rest. */
  readonly bytesRead: readonly [number, number];
}

/** How a compare reads: cancellable, with the guest bytes read so far reported after each read. */
export interface CompareReading {
  readonly signal?: Cancellation;
  readonly onRead?: (bytesRead: number) => void;
}

export interface CompareOptions extends CompareReading {
  readonly strict?: boolean;
}

/** One segment of the plan: [start, end) with each side's status there. */
interface Segment {
  readonly start: number;
  readonly end: number;
  readonly status: readonly [number, number];
}

/**
 * Where QEMU's last block-status answer of an image starts: that answer carries
 * BDRV_BLOCK_EOF. A qcow2 answer never crosses an L2 table's coverage (qcow2_get_host_offset()
 * stops at the slice end) and a compressed one is one cluster.
 */
function eofStart(st: ChainStatus): number {
  const e = st.extents;
  if (e.count === 0) return 0;
  const last = e.count - 1;
  let start = e.start[last]!;
  const bound = (layerIndex: number, compressed: boolean) => {
    const l = st.chain.layers[layerIndex];
    if (l?.format !== 'qcow2') return;
    const cs = l.header.clusterSize;
    const coverage = cs * l.header.l2Entries;
    const end = st.length - 1;
    start = Math.max(start, end - (end % (compressed ? cs : coverage)));
  };
  bound(0, false);
  bound(e.layer[last]!, e.kind[last] === KIND_COMPRESSED);
  return start;
}

/** Both sides' status, segment by segment, over [0, min(lengths)). */
function* overlapSegments(a: ChainStatus, b: ChainStatus, withEof: boolean): Generator<Segment> {
  const end = Math.min(a.length, b.length);
  const eofA = withEof ? eofStart(a) : Number.POSITIVE_INFINITY;
  const eofB = withEof ? eofStart(b) : Number.POSITIVE_INFINITY;
  let i = 0;
  let j = 0;
  let pos = 0;
  const ea = a.extents;
  const eb = b.extents;
  while (pos < end && i < ea.count && j < eb.count) {
    const endA = ea.start[i]! + ea.length[i]!;
    const endB = eb.start[j]! + eb.length[j]!;
    let stop = Math.min(endA, endB, end);
    if (pos < eofA && stop > eofA) stop = eofA;
    if (pos < eofB && stop > eofB) stop = eofB;
    const sa = (nbdFlags(a, i) & STATUS_7_2) | (pos >= eofA ? BDRV_BLOCK_EOF : 0);
    const sb = (nbdFlags(b, j) & STATUS_7_2) | (pos >= eofB ? BDRV_BLOCK_EOF : 0);
    yield { start: pos, end: stop, status: [sa, sb] };
    pos = stop;
    if (pos >= endA) i++;
    if (pos >= endB) j++;
  }
  // A side's status stopped where QEMU's block status fails (-1 marks that side).
  if (pos < end) yield { start: pos, end, status: [i < ea.count ? 0 : -1, j < eb.count ? 0 : -1] };
}

/** A callback per differing byte range; return false to stop the walk. */
type OnDiff = (start: number, length: number) => boolean;

/** First differing byte of two buffers from `from`, or -1. */
function firstDiff(x: Uint8Array, y: Uint8Array | undefined, from: number): number {
  for (let k = from; k < x.length; k++) if (x[k] !== (y ? y[k]! : 0)) return k;
  return -1;
}
function firstSame(x: Uint8Array, y: Uint8Array | undefined, from: number): number {
  for (let k = from; k < x.length; k++) if (x[k] === (y ? y[k]! : 0)) return k;
  return x.length;
}

interface Walk {
  readonly bytesRead: [number, number];
  stopped: boolean;
  /** Plan only: count what would be read, read nothing. */
  readonly dry: boolean;
  readonly reading: CompareReading;
}

/** Compares [start, end) by reading `sides` (both, or the one allocated side against zero). */
async function compareRange(
  a: ChainStatus,
  b: ChainStatus,
  start: number,
  end: number,
  sides: 'both' | 'a' | 'b',
  walk: Walk,
  onDiff: OnDiff,
): Promise<void> {
  if (walk.dry) {
    walk.bytesRead[sides === 'b' ? 1 : 0] += end - start;
    if (sides === 'both') walk.bytesRead[1] += end - start;
    return;
  }
  const { signal, onRead } = walk.reading;
  for (let pos = start; pos < end && !walk.stopped; pos += COMPARE_IO_BYTES) {
    throwIfCancelled(signal);
    const n = Math.min(COMPARE_IO_BYTES, end - pos);
    const x = await readGuest(sides === 'b' ? b : a, pos, n);
    walk.bytesRead[sides === 'b' ? 1 : 0] += n;
    let y: Uint8Array | undefined;
    if (sides === 'both') {
      y = await readGuest(b, pos, n);
      walk.bytesRead[1] += n;
    }
    onRead?.(walk.bytesRead[0] + walk.bytesRead[1]);
    for (let k = firstDiff(x, y, 0); k >= 0; k = firstDiff(x, y, k)) {
      const same = firstSame(x, y, k);
      if (!onDiff(pos + k, same - k)) {
        walk.stopped = true;
        return;
      }
      k = same;
      if (k >= x.length) break;
    }
  }
}

/** The status-first plan of img_compare(), calling onDiff for each differing range in order. */
async function walkCompare(
  a: ChainStatus,
  b: ChainStatus,
  strict: boolean,
  onDiff: OnDiff,
  onStatusMismatch: (offset: number) => void,
  onStatusError: (side: 0 | 1) => void,
  reading: CompareReading = {},
  dry = false,
): Promise<Walk> {
  const walk: Walk = { bytesRead: [0, 0], stopped: false, dry, reading };
  for (const s of overlapSegments(a, b, strict)) {
    const [sa, sb] = s.status;
    if (sa < 0 || sb < 0) {
      onStatusError(sa < 0 ? 0 : 1);
      walk.stopped = true;
      return walk;
    }
    if (strict && sa !== sb) {
      onStatusMismatch(s.start);
      walk.stopped = true;
      return walk;
    }
    if (sa & BDRV_BLOCK_ZERO && sb & BDRV_BLOCK_ZERO) continue;
    const allocA = (sa & BDRV_BLOCK_ALLOCATED) !== 0;
    const allocB = (sb & BDRV_BLOCK_ALLOCATED) !== 0;
    await compareRange(a, b, s.start, s.end, allocA === allocB ? 'both' : allocA ? 'a' : 'b', walk, onDiff);
    if (walk.stopped) return walk;
  }
  // The longer image's tail must read as zero where it is allocated and not ZERO.
  const longer = a.length > b.length ? a : b;
  const side = a.length > b.length ? 'a' : 'b';
  const e = longer.extents;
  const from = Math.min(a.length, b.length);
  const lastEnd = e.count ? e.start[e.count - 1]! + e.length[e.count - 1]! : 0;
  for (let i = 0; i < e.count && !walk.stopped; i++) {
    const s = Math.max(from, e.start[i]!);
    const end = e.start[i]! + e.length[i]!;
    if (end <= s) continue;
    const f = nbdFlags(longer, i);
    if (!(f & BDRV_BLOCK_ALLOCATED) || f & BDRV_BLOCK_ZERO) continue;
    await compareRange(a, b, s, end, side, walk, onDiff);
  }
  if (!walk.stopped && lastEnd < longer.length) {
    onStatusError(side === 'a' ? 0 : 1);
    walk.stopped = true;
  }
  return walk;
}

export async function compareImages(
  a: ChainStatus,
  b: ChainStatus,
  opts: CompareOptions = {},
): Promise<CompareResult> {
  const sizeWarning = a.length !== b.length;
  if (opts.strict && sizeWarning) {
    return {
      outcome: { kind: 'size-mismatch' },
      sizeWarning,
      tailStart: Math.min(a.length, b.length),
      bytesRead: [0, 0],
    };
  }
  let outcome: CompareOutcome = { kind: 'identical' };
  const walk = await walkCompare(
    a,
    b,
    opts.strict === true,
    (start) => {
      outcome = { kind: 'content-mismatch', offset: start - (start % COMPARE_SECTOR) };
      return false;
    },
    (offset) => {
      outcome = { kind: 'status-mismatch', offset };
    },
    (side) => {
      outcome = { kind: 'status-error', side };
    },
    opts,
  );
  return { outcome, sizeWarning, tailStart: Math.min(a.length, b.length), bytesRead: walk.bytesRead };
}

/** qemu-img compare's words for a result, line by line, and its exit status. */
export function compareReport(r: CompareResult): { lines: string[]; exit: number } {
  const o = r.outcome;
  switch (o.kind) {
    case 'size-mismatch':
      return { lines: ['Strict mode: Image size mismatch!'], exit: 1 };
    case 'status-mismatch':
      return { lines: [`Strict mode: Offset ${o.offset} block status mismatch!`], exit: 1 };
    case 'status-error':
      return { lines: [], exit: 3 };
    case 'content-mismatch': {
      // The size warning comes when the walk reaches the longer image's tail.
      const inTail = r.sizeWarning && o.offset >= r.tailStart;
      return {
        lines: [
          ...(inTail ? ['Warning: Image size mismatch!'] : []),
          `Content mismatch at offset ${o.offset}!`,
        ],
        exit: 1,
      };
    }
    default:
      return {
        lines: [...(r.sizeWarning ? ['Warning: Image size mismatch!'] : []), 'Images are identical.'],
        exit: 0,
      };
  }
}

/** Every range where the two images' guest contents differ (past the shorter one's end: non-zero bytes of the longer). */
export interface DifferingRanges {
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly bytes: number;
  readonly bytesRead: readonly [number, number];
}

export async function differingRanges(
  a: ChainStatus,
  b: ChainStatus,
  reading: CompareReading = {},
): Promise<DifferingRanges> {
  const out = new RangeBuilder({ file: a.chain.layers[0]!.name, structure: 'compare' }, 'differing ranges');
  let bytes = 0;
  const walk = await walkCompare(
    a,
    b,
    false,
    (s, n) => {
      bytes += n;
      out.push(s, n);
      return true;
    },
    () => {},
    (side) => {
      throw (side === 0 ? a : b).error;
    },
    reading,
  );
  const r = out.finish();
  return { count: r.count, start: r.starts, length: r.lengths, bytes, bytesRead: walk.bytesRead };
}

/**
 * What differingRanges() reads, without reading: guest bytes of each side, by the same plan
 * (nothing where both are ZERO, one side where only it is allocated, the longer one's tail).
 * `stopsAt`: a side's block status fails there, and the walk would stop.
 */
export async function planCompare(
  a: ChainStatus,
  b: ChainStatus,
): Promise<{ readonly bytes: readonly [number, number]; readonly stopsAt?: 0 | 1 }> {
  let stopsAt: 0 | 1 | undefined;
  const walk = await walkCompare(
    a,
    b,
    false,
    () => true,
    () => {},
    (side) => {
      stopsAt = side;
    },
    {},
    true,
  );
  return { bytes: walk.bytesRead, ...(stopsAt !== undefined && { stopsAt }) };
}
