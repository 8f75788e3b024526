/**
 * The opt-in content scan: what QEMU would answer if the files were sparse with holes exactly
 * at their all-zero 4 KiB blocks. QEMU asks the host file system about holes (SEEK_DATA /
 * SEEK_HOLE); file contents cannot show them, but an all-zero block is what a hole reads as, so
 * the scan reads the data and applies QEMU's two rules to the zero blocks (issue 11.3):
 *
 *  - a raw layer (file-posix, reference §3.8): a hole is ZERO|OFFSET_VALID without DATA
 *    (qemu-img map `"zero": true, "data": false`, NBD `3 hole,zero`);
 *  - a qcow2 data cluster (reference §3.5, block/io.c bdrv_co_do_block_status()): only when
 *    qcow2_detect_metadata_preallocation() decides the image "looks metadata-preallocated" does
 *    the driver add BDRV_BLOCK_RECURSE, and the generic layer then adds ZERO where the file has a
 *    hole or ends (`"zero": true, "data": true`, NBD `2 zero`); otherwise the cluster stays DATA.
 *    The heuristic is computed as QEMU does on the sparse file: allocated clusters
 *    (non-zero blocks x 4 KiB / cluster size), threshold max(real * 10 / 9, real + 2), and the
 *    number of host clusters with a refcount, counted up to the threshold.
 *
 * Reads are planned first (planZeroScan: how many bytes, before anything is read), in host
 * order per file, coalesced across neighbouring clusters into batches of up to MAX_READ_BYTES,
 * aligned to 4 KiB blocks. Data clusters past the end of their file read as zeroes without a
 * read (an 8 PiB image of clusters past EOF costs nothing). The rest of a qcow2 file is read
 * only when the heuristic's outcome depends on it: the data read so far bounds the allocated
 * blocks from below, and the unread bytes from above.
 *
 * Every block found zero also carries SCAN_ZERO_CONTENT, so the content view (reads-as-zero)
 * knows the bytes are zero where QEMU's rule leaves the flags alone.
 */
import { LimitError } from '../errors.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { MAX_READ_BYTES } from '../limits.ts';
import type { Qcow2Image } from '../qcow2/image.ts';
import { RefcountReader, readRefcountTable } from '../qcow2/refcount.ts';
import { ExtentBuilder } from './extents.ts';
import { BDRV_BLOCK_DATA, BDRV_BLOCK_OFFSET_VALID, BDRV_BLOCK_ZERO } from './flags.ts';
import { KIND_NORMAL, KIND_RAW_DATA, KIND_RAW_HOLE } from './kinds.ts';
import type { Cancellation } from './layerStatus.ts';
import { CancelledError } from './layerStatus.ts';
import type { ChainStatus } from './resolve.ts';

/** Granularity of the scan: a host file-system block (ext4, xfs), the unit SEEK_HOLE reports in. */
export const ZERO_SCAN_BLOCK = 4096;

/**
 * Neighbouring data ranges closer than this are read in one batch: reading 256 KiB of
 * something else costs less than a second request (a Blob.slice costs ~0.3 ms, a local read
 * more than a syscall), and the bytes still count towards the heuristic's allocated blocks.
 */
export const SCAN_COALESCE_GAP = 256 * 1024;

/** Refcounts read per step while counting refcounted clusters for the heuristic. */
const REFCOUNT_STEP = 65536;

/**
 * clusterscope's own flag bit, not a QEMU flag: the scan read these bytes and they are all
 * zero. 0x20 is BDRV_BLOCK_EOF in QEMU, which never survives into resolved status here (as
 * SYNTH_BEYOND_BACKING_EOF uses RECURSE's 0x40), so no interpretation mistakes it for QEMU's.
 */
export const SCAN_ZERO_CONTENT = 0x20;

export interface ZeroScanOptions {
  readonly signal?: Cancellation;
  /** Bytes read so far and the bytes the scan will read (grows once if a heuristic needs a whole file). */
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** A plan made earlier for the same status (planZeroScan), to show its size before scanning. */
  readonly plan?: ZeroScanPlan;
}

/** The reads planned for one layer's file. */
export interface ZeroScanLayerPlan {
  readonly layer: number;
  readonly name: string;
  /** 'raw': holes are ZERO without DATA; 'qcow2': QEMU's metadata-preallocation heuristic decides. */
  readonly rule: 'raw' | 'qcow2';
  readonly fileSize: number;
  /** Host ranges to read, 4 KiB-aligned, ascending, disjoint: [start[i], end[i]). */
  readonly start: Float64Array;
  readonly end: Float64Array;
  /** Sum of the ranges. */
  readonly bytes: number;
  /** Guest bytes of this layer's data lying past the end of its file (zero, never read). */
  readonly pastEofBytes: number;
}

export interface ZeroScanPlan {
  /** Bytes the scan reads for certain. */
  readonly bytes: number;
  /**
   * At most this many more: the rest of a qcow2 file, read only if its data has zero blocks or
   * lies past EOF and the heuristic's outcome depends on the bytes not yet read.
   */
  readonly maxExtraBytes: number;
  /** Guest bytes of data past the end of its file: zeroes, not read. */
  readonly pastEofBytes: number;
  /** Guest bytes of data the scan cannot read: compressed clusters, encrypted data, external data files. */
  readonly notReadBytes: number;
  readonly layers: readonly ZeroScanLayerPlan[];
}

/** The metadata-preallocation heuristic as QEMU would compute it on the sparse copy of a qcow2 file. */
export interface PreallocationHeuristic {
  readonly layer: number;
  readonly name: string;
  /**
   * Allocated clusters of the sparse file: non-zero 4 KiB blocks x 4 KiB / cluster size. Exact
   * when the whole file was read; otherwise the count from the bytes read, a lower bound that
   * gives the same outcome as any count the unread bytes allow.
   */
  readonly realClusters: number;
  readonly realClustersExact: boolean;
  readonly threshold: number;
  /** Host clusters with a refcount, counted up to the threshold; -1 if a refcount could not be read. */
  readonly refcounted: number;
  readonly fires: boolean;
}

/** What a scan found, beside the status it returns (zeroScanReport). */
export interface ZeroScanReport {
  readonly plan: ZeroScanPlan;
  /** Bytes actually read. */
  readonly bytesRead: number;
  readonly heuristics: readonly PreallocationHeuristic[];
}

const reports = new WeakMap<ChainStatus, ZeroScanReport>();

/** Whether a status came out of zeroScan (data content known), and what the scan found. */
export const isZeroScanned = (st: ChainStatus): boolean => reports.has(st);
export const zeroScanReport = (st: ChainStatus): ZeroScanReport | undefined => reports.get(st);

/** Data the scan reads: a NORMAL qcow2 cluster or raw file bytes with a host offset, not yet ZERO. */
const scannable = (st: ChainStatus, i: number): boolean => {
  const e = st.extents;
  return (
    (e.kind[i] === KIND_NORMAL || e.kind[i] === KIND_RAW_DATA) &&
    (e.flags[i]! & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID)) ===
      (BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID)
  );
};

/** Whether a layer's data lives in another file (an external data file): not read here. */
const elsewhere = (st: ChainStatus, layer: number): boolean => {
  const l = st.chain.layers[layer];
  return l?.format === 'qcow2' && l.dataFileName !== undefined;
};

/** Growable [start, end) pairs in typed arrays, merged when they touch or lie within `gap`. */
class Ranges {
  count = 0;
  start = new Float64Array(16);
  end = new Float64Array(16);
  constructor(
    private readonly file: string,
    private readonly what: string,
  ) {}
  add(s: number, e: number, gap = 0): void {
    if (e <= s) return;
    const n = this.count;
    if (n > 0 && s <= this.end[n - 1]! + gap) {
      if (e > this.end[n - 1]!) this.end[n - 1] = e;
      return;
    }
    if (n === this.start.length) {
      if (n >= 32 * 1024 * 1024) {
        throw new LimitError(
          { file: this.file, structure: this.what },
          'more than 32 Mi ranges (MAX_EXTENTS)',
        );
      }
      const s2 = new Float64Array(n * 2);
      s2.set(this.start);
      this.start = s2;
      const e2 = new Float64Array(n * 2);
      e2.set(this.end);
      this.end = e2;
    }
    this.start[n] = s;
    this.end[n] = e;
    this.count = n + 1;
  }
}

/** What the scan would read, without reading: shown before it starts. */
export function planZeroScan(st: ChainStatus): ZeroScanPlan {
  const e = st.extents;
  const layers = st.chain.layers;
  // Host ranges per layer, gathered in guest order; sorted below.
  const wanted = layers.map(() => [] as number[]);
  const pastEof = layers.map(() => 0);
  let notRead = 0;
  for (let i = 0; i < e.count; i++) {
    const f = e.flags[i]!;
    const len = e.length[i]!;
    if (!scannable(st, i)) {
      // DATA without an offset (compressed, encrypted) is data the scan cannot read.
      if (f & BDRV_BLOCK_DATA && !(f & BDRV_BLOCK_ZERO)) notRead += len;
      continue;
    }
    const li = e.layer[i]!;
    if (elsewhere(st, li)) {
      notRead += len;
      continue;
    }
    const size = layers[li]!.source.size;
    const h = e.host[i]!;
    const inFile = Math.max(0, Math.min(h + len, size) - h);
    pastEof[li]! += len - inFile;
    if (inFile > 0) wanted[li]!.push(h, h + inFile);
  }
  const out: ZeroScanLayerPlan[] = [];
  let bytes = 0;
  let extra = 0;
  for (const [li, w] of wanted.entries()) {
    if (!w.length && !pastEof[li]) continue;
    const l = layers[li]!;
    const size = l.source.size;
    const order = Array.from({ length: w.length / 2 }, (_, k) => k).sort((x, y) => w[2 * x]! - w[2 * y]!);
    const r = new Ranges(l.name, 'zero scan reads');
    for (const k of order) {
      // Whole 4 KiB blocks: a block is a hole only if all of it is zero, other clusters included.
      const s = Math.floor(w[2 * k]! / ZERO_SCAN_BLOCK) * ZERO_SCAN_BLOCK;
      const t = Math.min(size, Math.ceil(w[2 * k + 1]! / ZERO_SCAN_BLOCK) * ZERO_SCAN_BLOCK);
      r.add(s, t, SCAN_COALESCE_GAP);
    }
    let sum = 0;
    for (let k = 0; k < r.count; k++) sum += r.end[k]! - r.start[k]!;
    bytes += sum;
    if (l.format === 'qcow2') extra += size - sum;
    out.push({
      layer: li,
      name: l.name,
      rule: l.format === 'raw' ? 'raw' : 'qcow2',
      fileSize: size,
      start: r.start.slice(0, r.count),
      end: r.end.slice(0, r.count),
      bytes: sum,
      pastEofBytes: pastEof[li]!,
    });
  }
  return {
    bytes,
    maxExtraBytes: extra,
    pastEofBytes: pastEof.reduce((a, b) => a + b, 0),
    notReadBytes: notRead,
    layers: out,
  };
}

const isZeroBytes = (b: Uint8Array, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
};

/**
 * Per 4 KiB block of `bytes` (read at file offset `at`, block-aligned), whether it is all zero:
 * 32-bit words where the buffer is 4-byte aligned (the scan's reads are), a byte loop otherwise.
 * A data block usually has a non-zero byte in its first word, so the loop stops there; only zero
 * blocks are read to the end. Zero blocks go to `zeros`; the count of non-zero blocks is returned.
 */
function scanBlocks(bytes: Uint8Array, at: number, zeros: Ranges): number {
  const n = bytes.length;
  const words =
    bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, n >>> 2) : undefined;
  let nonZero = 0;
  for (let p = 0; p < n; p += ZERO_SCAN_BLOCK) {
    const q = Math.min(n, p + ZERO_SCAN_BLOCK);
    let zero = true;
    if (words && q - p === ZERO_SCAN_BLOCK) {
      for (let w = p >>> 2, end = q >>> 2; w < end; w++) {
        if (words[w] !== 0) {
          zero = false;
          break;
        }
      }
    } else zero = isZeroBytes(bytes, p, q);
    if (zero) zeros.add(at + p, at + q);
    else nonZero++;
  }
  return nonZero;
}

/**
 * Batches of MAX_READ_BYTES a scan keeps requested ahead of the one it checks, for a source that
 * reads on other threads (a Blob: prefetchGroups > 0). In Chromium a sequential read of 8 MiB
 * slices took 31.6 s for 16 GiB one at a time and 17-18 s with 4 in flight (bench/
 * browserScan.mjs); 4 batches in flight hold 32 MiB beside the one being checked.
 */
export const SCAN_READS_AHEAD = 4;

/**
 * Reads [s, t) of a file in batches of MAX_READ_BYTES; per 4 KiB block, records zero runs and
 * counts non-zero blocks. The next SCAN_READS_AHEAD batches are requested before one is checked,
 * so a source that reads on another thread (a Blob) overlaps the reads with each other and with
 * the check. A source that reads synchronously (prefetchGroups 0: a local file in Node) gains
 * nothing from that, and reads one batch at a time.
 */
async function scanRange(
  source: ByteSource,
  s: number,
  t: number,
  zeros: Ranges,
  opts: ZeroScanOptions,
  progress: (n: number) => void,
): Promise<number> {
  let nonZero = 0;
  const ahead = (source.prefetchGroups ?? 1) > 0 ? SCAN_READS_AHEAD : 0;
  const pending: Promise<Uint8Array>[] = [];
  let next = s;
  const request = () => {
    while (next < t && pending.length < Math.max(1, ahead)) {
      pending.push(source.read(next, Math.min(MAX_READ_BYTES, t - next)));
      next += MAX_READ_BYTES;
    }
  };
  for (let off = s; off < t; off += MAX_READ_BYTES) {
    if (opts.signal?.aborted) {
      for (const p of pending) p.catch(() => {}); // reads in flight are dropped, not awaited
      throw new CancelledError('cancelled');
    }
    request();
    const bytes = await pending.shift()!;
    request();
    nonZero += scanBlocks(bytes, off, zeros);
    progress(Math.min(MAX_READ_BYTES, t - off));
  }
  return nonZero;
}

/** Counts host clusters with a refcount up to `cap`, as qcow2_detect_metadata_preallocation(); -1 on a read error. */
async function refcounted(img: Qcow2Image, cap: number): Promise<number> {
  const cs = img.header.clusterSize;
  const end = Math.ceil(img.source.size / cs);
  let reader: RefcountReader;
  try {
    reader = new RefcountReader(img, await readRefcountTable(img));
  } catch {
    return -1;
  }
  let count = 0;
  for (let c = 0; c < end && count < cap; c += REFCOUNT_STEP) {
    const { values, problems } = await reader.readRange(c, Math.min(REFCOUNT_STEP, end - c));
    // qcow2_get_refcount() failing makes the detection fail: not preallocated.
    if (problems.length) return -1;
    for (let k = 0; k < values.size && count < cap; k++) if (values.get(k)) count++;
  }
  return count;
}

const thresholdFor = (realClusters: number): number =>
  Math.max(Math.floor((realClusters * 10) / 9), realClusters + 2);

export async function zeroScan(st: ChainStatus, opts: ZeroScanOptions = {}): Promise<ChainStatus> {
  const plan = opts.plan ?? planZeroScan(st);
  const layers = st.chain.layers;
  let total = plan.bytes;
  let done = 0;
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(done, total);
  };
  // What it will read, said before the first read.
  opts.onProgress?.(0, total);
  const zeros = new Map<number, Ranges>();
  const fires = new Map<number, boolean>();
  const heuristics: PreallocationHeuristic[] = [];
  for (const lp of plan.layers) {
    const l = layers[lp.layer]!;
    const z = new Ranges(l.name, 'zero scan blocks');
    zeros.set(lp.layer, z);
    let nonZero = 0;
    for (let k = 0; k < lp.start.length; k++)
      nonZero += await scanRange(l.source, lp.start[k]!, lp.end[k]!, z, opts, progress);
    if (l.format !== 'qcow2' || (z.count === 0 && lp.pastEofBytes === 0)) continue;
    // The heuristic matters: its data has zero blocks or lies past EOF.
    const blocks = Math.ceil(lp.fileSize / ZERO_SCAN_BLOCK);
    const readBlocks = Math.ceil(lp.bytes / ZERO_SCAN_BLOCK);
    const cs = l.header.clusterSize;
    const real = (nz: number) => Math.floor((nz * ZERO_SCAN_BLOCK) / cs);
    const low = thresholdFor(real(nonZero));
    const high = thresholdFor(real(nonZero + blocks - readBlocks));
    const count = await refcounted(l, high);
    let realClusters = real(nonZero);
    let exact = readBlocks >= blocks;
    if (count >= 0 && count >= low !== count >= high) {
      // Undecided: read the rest of the file for its exact number of allocated blocks.
      total += lp.fileSize - lp.bytes;
      const rest = new Ranges(l.name, 'zero scan blocks');
      let pos = 0;
      for (let k = 0; k <= lp.start.length; k++) {
        const to = k < lp.start.length ? lp.start[k]! : lp.fileSize;
        if (to > pos) nonZero += await scanRange(l.source, pos, to, rest, opts, progress);
        pos = k < lp.end.length ? lp.end[k]! : pos;
      }
      realClusters = real(nonZero);
      exact = true;
    }
    const threshold = thresholdFor(realClusters);
    const fire = count >= 0 && count >= threshold;
    fires.set(lp.layer, fire);
    heuristics.push({
      layer: lp.layer,
      name: l.name,
      realClusters,
      realClustersExact: exact,
      threshold,
      refcounted: count,
      fires: fire,
    });
  }

  const e = st.extents;
  const out = new ExtentBuilder(layers[0]!.name);
  const findings = [...st.findings];
  const told = new Set<number>();
  for (let i = 0; i < e.count; i++) {
    if (scannable(st, i) && elsewhere(st, e.layer[i]!) && !told.has(e.layer[i]!)) {
      told.add(e.layer[i]!);
      findings.push({
        file: layers[e.layer[i]!]!.name,
        structure: 'external data file',
        message: 'not read by --zero-scan',
      });
    }
    const [start, len, kind, flags, li, host] = [
      e.start[i]!,
      e.length[i]!,
      e.kind[i]!,
      e.flags[i]!,
      e.layer[i]!,
      e.host[i]!,
    ];
    const z = zeros.get(li);
    if (!z || !scannable(st, i) || elsewhere(st, li)) {
      out.push(start, len, kind, flags, li, host);
      continue;
    }
    const raw = layers[li]!.format === 'raw';
    const zeroFlags = raw
      ? (flags & ~BDRV_BLOCK_DATA) | BDRV_BLOCK_ZERO | SCAN_ZERO_CONTENT
      : flags | SCAN_ZERO_CONTENT | (fires.get(li) ? BDRV_BLOCK_ZERO : 0);
    const zeroKind = raw ? KIND_RAW_HOLE : kind;
    const size = layers[li]!.source.size;
    // Walk the host range [host, host + len) across zero runs and the end of the file.
    let h = host;
    const hEnd = host + len;
    let r = firstRunEndingAfter(z, h);
    while (h < hEnd) {
      let to: number;
      let zero: boolean;
      if (h >= size) {
        to = hEnd;
        zero = true; // past EOF: reads as zeroes, never read
      } else if (r < z.count && z.start[r]! <= h) {
        to = Math.min(hEnd, z.end[r]!);
        zero = true;
      } else {
        to = Math.min(hEnd, size, r < z.count ? z.start[r]! : hEnd);
        zero = false;
      }
      out.push(start + (h - host), to - h, zero ? zeroKind : kind, zero ? zeroFlags : flags, li, h);
      h = to;
      while (r < z.count && z.end[r]! <= h) r++;
    }
  }
  const result: ChainStatus = { ...st, extents: out.finish(), findings };
  reports.set(result, { plan, bytesRead: done, heuristics });
  return result;
}

/** Index of the first zero run ending after `pos`. */
function firstRunEndingAfter(z: Ranges, pos: number): number {
  let lo = 0;
  let hi = z.count;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (z.end[m]! <= pos) lo = m + 1;
    else hi = m;
  }
  return lo;
}
