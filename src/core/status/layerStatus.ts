/**
 * Block status of one layer on its own, over its whole length: what QEMU's driver answers
 * for each (sub)cluster (qcow2_co_block_status(), reference §3.1-3.4), as extents of
 * (kind, host offset). The chain walk (resolve.ts) adds ALLOCATED and the synthesized ZERO.
 *
 * L2 tables are read whole, neighbours coalesced into one read (qcow2/tableReader.ts), and decoded
 * with a DataView straight from the bytes read: no object per entry, and runs of entries of
 * one kind (contiguous host clusters, unallocated, zero) become one extent before they reach
 * the ExtentBuilder. LayerScanner does the decoding for any range, so the streaming walk
 * (stream.ts) reads a layer window by window with the same code.
 */

import { MemoryBudget } from '../budget.ts';
import { type Cancellation, CancelledError, checkpoint } from '../cancel.ts';
import type { Layer } from '../chain/layer.ts';
import { type ClusterscopeError, CorruptError } from '../errors.ts';
import type { Finding } from '../findings.ts';
import { hex, hexAlt } from '../format.ts';
import { ERROR_BYTES, MAX_FINDINGS, MAX_STATUS_BYTES } from '../limits.ts';
import { type Qcow2Image, readTable } from '../qcow2/image.ts';
import {
  bitmapInvalid,
  clusterType,
  type EntryFormat,
  entryFormat,
  entryOffset,
  QCOW2_CLUSTER_COMPRESSED,
  QCOW2_CLUSTER_UNALLOCATED,
  QCOW2_CLUSTER_ZERO_ALLOC,
  QCOW2_CLUSTER_ZERO_PLAIN,
  subclusterType,
} from '../qcow2/l2entry.ts';
import { TableReader } from '../qcow2/tableReader.ts';
import { ExtentBuilder, type Extents, NO_HOST } from './extents.ts';
import {
  KIND_COMPRESSED,
  KIND_ERROR,
  KIND_NORMAL,
  KIND_RAW_DATA,
  KIND_RAW_EOF_TAIL,
  KIND_UNALLOCATED_PLAIN,
  KIND_ZERO_ALLOC,
  KIND_ZERO_PLAIN,
} from './kinds.ts';

export interface LayerStatus {
  /** Extents over [0, length): kind and host offset; flags and layer are 0 here. */
  readonly extents: Extents;
  /** Errors QEMU raises when a read touches a KIND_ERROR extent; the extent's host is the index. */
  readonly errors: ErrorList;
  readonly findings: readonly Finding[];
  readonly length: number;
}

export type Progress = (done: number, total: number) => void;

/**
 * Partial result: `status` holds the extents covering [0, end) so far (a live view: read it
 * before the scan resumes, copy what you keep). Called after each L2 table is decoded, so a
 * caller can show the first part of the map while the rest is read; throttle on your side.
 */
export type Partial = (status: LayerStatus, end: number) => void;

/** Cancellation lives in core/cancel.ts; re-exported for the callers that import it from here. */
export { type Cancellation, CancelledError };

export interface LayerStatusOptions {
  /** L1 table to scan instead of the active one (an internal snapshot's), as u32 pairs. */
  readonly l1?: Uint32Array;
  /** Virtual size to scan instead of the image's (a snapshot's disk size). */
  readonly length?: number;
  readonly onProgress?: Progress;
  readonly onPartial?: Partial;
  readonly signal?: Cancellation;
  /** What the extents and kept errors are charged to; one of MAX_STATUS_BYTES by default. */
  readonly budget?: MemoryBudget;
}

export async function layerStatus(layer: Layer, opts: LayerStatusOptions = {}): Promise<LayerStatus> {
  const budget = opts.budget ?? new MemoryBudget('MAX_STATUS_BYTES', MAX_STATUS_BYTES);
  const out = new ExtentBuilder(layer.name, budget);
  if (layer.format === 'raw') {
    const scanner = new LayerScanner(layer, { budget });
    await scanner.scan(0, scanner.length, out);
    return { extents: out.finish(), errors: new ErrorList(), findings: [], length: layer.length };
  }
  // Pass 1: the L2 tables the scan will read (allocated, aligned, inside the file), so that the
  // reader can coalesce and prefetch them in scan order.
  const img = layer;
  const cs = img.header.clusterSize;
  const length = opts.length ?? img.length;
  const l1 = opts.l1 ?? img.l1;
  const l2Span = cs * img.header.l2Entries;
  const wanted: number[] = [];
  const l1Needed = Math.min(l1.length >>> 1, Math.ceil(length / l2Span));
  for (let i = 0; i < l1Needed; i++) {
    const off = entryOffset(l1[2 * i]!, l1[2 * i + 1]!);
    if (off && off % cs === 0 && off < img.source.size) wanted.push(off);
  }
  const reader = new TableReader(img.source, wanted, cs, {
    structure: 'L2 tables',
    ...(opts.signal && { signal: opts.signal }),
  });
  const scanner = new LayerScanner(img, {
    ...opts,
    budget,
    tables: { table: (offset) => reader.table(offset) },
  });
  const total = wanted.length;
  let done = 0;
  await scanner.scan(0, length, out, Number.POSITIVE_INFINITY, (end) => {
    done++;
    opts.onProgress?.(done, total);
    opts.onPartial?.({ extents: out, errors: scanner.errors, findings: scanner.findings, length }, end);
  });
  return { extents: out.finish(), errors: scanner.errors, findings: scanner.allFindings(), length };
}

/**
 * The errors KIND_ERROR extents name, made when asked for. A hostile image can have one per
 * entry, and an Error object costs its stack trace: 450 k of them took 7-10 s to make, where
 * the walk reads one (it stops at the first it reaches).
 */
export class ErrorList {
  private readonly makers: (() => ClusterscopeError)[] = [];
  private readonly made = new Map<number, ClusterscopeError>();

  get length(): number {
    return this.makers.length;
  }

  /** Adds an error to make later; returns its index (the extent's `host`). */
  push(make: () => ClusterscopeError): number {
    this.makers.push(make);
    return this.makers.length - 1;
  }

  /** Error `i`, made once. */
  at(i: number): ClusterscopeError {
    let e = this.made.get(i);
    if (!e) {
      e = this.makers[i]!();
      this.made.set(i, e);
    }
    return e;
  }

  clear(): void {
    this.makers.length = 0;
    this.made.clear();
  }

  /** Every error, made (for the page's lists; a hostile image's can be many). */
  all(): ClusterscopeError[] {
    return this.makers.map((_, i) => this.at(i));
  }
}

/** Where a scan gets L2 tables: the whole-image scan's prefetching reader, or the stream's cache. */
export interface TableSource {
  table(offset: number): Promise<Uint8Array>;
}

export interface LayerScannerOptions {
  /** L1 table to scan instead of the active one (an internal snapshot's), as u32 pairs. */
  readonly l1?: Uint32Array;
  /** Virtual size to scan instead of the image's (a snapshot's disk size). */
  readonly length?: number;
  readonly signal?: Cancellation;
  /** Charged for the errors kept (ERROR_BYTES each); extents are charged by their builder. */
  readonly budget?: MemoryBudget;
  /** L2 tables; by default read on demand, whole, from the layer's source. */
  readonly tables?: TableSource;
}

/**
 * A layer's block status, range by range: `scan(from, to, out, maxExtents)` pushes the extents
 * covering [from, to) into `out`, clipped to the range. The whole-image scan asks for
 * [0, length) once; the streaming walk (stream.ts) asks window by window, each time into an
 * emptied builder and with `maxExtents` bounding the window's memory.
 *
 * A scan that reaches `maxExtents` stops early, at an entry boundary, and returns where it
 * stopped; extents then cover [from, returned). It holds back the run still being built, so the
 * next scan starts at that run's beginning: a later INVALID entry's look-ahead error then
 * reaches back exactly as far as in one scan of the whole table (qcow2_get_host_offset()
 * fails the whole query that was extending the run).
 */
export class LayerScanner {
  readonly length: number;
  /** Errors named by KIND_ERROR extents (their `host` is the index here). */
  readonly errors = new ErrorList();
  /** Findings kept, at most MAX_FINDINGS; `findingsDropped` counts the rest. */
  readonly findings: Finding[] = [];
  findingsDropped = 0;
  private readonly budget: MemoryBudget | undefined;
  private readonly signal: Cancellation | undefined;
  private readonly tables: TableSource;
  private readonly l1: Uint32Array;
  /** The L2 entry format (core/qcow2/l2entry.ts) of a qcow2 layer. */
  private readonly fmt: EntryFormat;
  /** Findings are made once per L2 table, although a streaming walk may scan a table twice. */
  private lastTableFinding = -1;
  private lastDataFinding = -1;

  constructor(
    readonly layer: Layer,
    opts: LayerScannerOptions = {},
  ) {
    this.length = opts.length ?? layer.length;
    this.budget = opts.budget;
    this.signal = opts.signal;
    this.l1 = opts.l1 ?? (layer.format === 'qcow2' ? layer.l1 : new Uint32Array(0));
    this.fmt =
      layer.format === 'qcow2'
        ? entryFormat(layer.header)
        : { clusterBits: 9, extendedL2: false, dataFile: false };
    const src = layer.source;
    const cs = layer.format === 'qcow2' ? layer.header.clusterSize : 512;
    this.tables = opts.tables ?? { table: (offset) => readTable(src, offset, cs) };
  }

  /** The errors and findings of the scans so far are forgotten (a streaming window's are written). */
  clearErrors(): void {
    if (this.budget) this.budget.release(this.errors.length * ERROR_BYTES);
    this.errors.clear();
  }

  /** Findings, with one more saying how many were not kept. */
  allFindings(): Finding[] {
    if (!this.findingsDropped) return this.findings;
    return [
      ...this.findings,
      {
        file: this.layer.name,
        structure: 'block status',
        message: `${this.findingsDropped} more findings not kept (MAX_FINDINGS ${MAX_FINDINGS})`,
      },
    ];
  }

  addFinding(f: Finding): void {
    if (this.findings.length < MAX_FINDINGS) this.findings.push(f);
    else this.findingsDropped++;
  }

  addError(make: () => ClusterscopeError): number {
    this.budget?.charge(ERROR_BYTES, { file: this.layer.name, structure: 'block status' }, 'errors kept');
    return this.errors.push(make);
  }

  /**
   * Pushes the extents of [from, to) into `out` (flags and layer 0). `onTable(end)` runs after
   * each L2 table is decoded, with the guest offset its extents reach.
   */
  async scan(
    from: number,
    to: number,
    out: ExtentBuilder,
    maxExtents = Number.POSITIVE_INFINITY,
    onTable?: (end: number) => void,
  ): Promise<number> {
    const layer = this.layer;
    const hi = Math.min(to, this.length);
    if (from >= hi) return hi;
    if (layer.format === 'raw') {
      const mid = Math.min(Math.max(layer.fileSize, from), hi);
      out.push(from, mid - from, KIND_RAW_DATA, 0, 0, from);
      out.push(mid, hi - mid, KIND_RAW_EOF_TAIL, 0, 0, mid);
      return hi;
    }
    return this.scanQcow2(layer, from, hi, out, maxExtents, onTable);
  }

  private async scanQcow2(
    img: Qcow2Image,
    from: number,
    to: number,
    out: ExtentBuilder,
    maxExtents: number,
    onTable: ((end: number) => void) | undefined,
  ): Promise<number> {
    const h = img.header;
    const file = img.name;
    const cs = h.clusterSize;
    const length = this.length;
    const l1 = this.l1;
    const l2Span = cs * h.l2Entries; // guest bytes one L2 table maps
    const l1Count = l1.length >>> 1;
    const l1Needed = Math.min(l1Count, Math.ceil(length / l2Span));
    const fileSize = img.source.size;
    for (let i = Math.floor(from / l2Span); ; i++) {
      // Also the scan's yield point: a table read once and shared by every L1 entry is never
      // waited for again, so without a pause here the loop would hold the thread to its end.
      await checkpoint(this.signal);
      const base = i * l2Span;
      if (base >= to) return to;
      if (i >= l1Needed) {
        // Past the L1 table's end everything is unallocated (QEMU: l1_index >= l1_size).
        const a = Math.max(from, base);
        out.push(a, to - a, KIND_UNALLOCATED_PLAIN, 0, 0, NO_HOST);
        return to;
      }
      const lo = Math.max(from, base);
      const hi = Math.min(to, base + l2Span, length);
      if (out.count >= maxExtents) return lo;
      const l2Offset = entryOffset(l1[2 * i]!, l1[2 * i + 1]!);
      if (l2Offset === 0) {
        out.push(lo, hi - lo, KIND_UNALLOCATED_PLAIN, 0, 0, NO_HOST);
        continue;
      }
      const where = { file, structure: `L2 table (L1[${i}])`, offset: l2Offset };
      if (l2Offset % cs) {
        // qcow2_get_host_offset(): "L2 table offset ... unaligned" is a corruption event (EIO).
        const err = () =>
          new CorruptError(where, `L2 table offset ${hex(l2Offset)} unaligned (L1 index: ${hexAlt(i)})`);
        this.fail(out, lo, hi - lo, err);
        continue;
      }
      if (l2Offset >= fileSize) {
        if (i > this.lastTableFinding) {
          this.lastTableFinding = i;
          this.addFinding({
            ...where,
            message: `lies past end of file (size ${hex(fileSize)}); QEMU reads it as zeros, so the range is unallocated`,
          });
        }
        out.push(lo, hi - lo, KIND_UNALLOCATED_PLAIN, 0, 0, NO_HOST);
        continue;
      }
      const table = await this.tables.table(l2Offset);
      const end = this.scanL2(img, table, i, l2Offset, base, lo, hi, out, maxExtents, fileSize);
      if (end < hi) return end;
      onTable?.(hi);
    }
  }

  /**
   * Pushes an extent QEMU refuses to read. With `lookAheadFloor`, the error reaches back over
   * the run before it (same L2 table): qcow2_get_subcluster_range_type() looks at the next entry
   * while extending a run, so an INVALID entry fails the query of the run before it, not only
   * its own (reference §3.3, "look-ahead errors").
   */
  fail(
    out: ExtentBuilder,
    start: number,
    len: number,
    err: () => ClusterscopeError,
    lookAheadFloor?: number,
  ): void {
    if (lookAheadFloor !== undefined) {
      const from = out.lastRunStart(start, lookAheadFloor);
      const prev = out.count > 0 ? out.kind[out.count - 1] : undefined;
      if (from < start && prev !== KIND_COMPRESSED && prev !== KIND_ERROR) {
        out.truncate(from);
        len += start - from;
        start = from;
      }
    }
    out.push(start, len, KIND_ERROR, 0, 0, this.addError(err));
  }

  /**
   * Classifies the entries of one L2 table covering [lo, hi) (qcow2_get_subcluster_type(),
   * reference §3.1-3.3). Returns `hi`, or where it stopped once `out` held `maxExtents`.
   */
  private scanL2(
    img: Qcow2Image,
    t: Uint8Array,
    l1Index: number,
    l2Offset: number,
    base: number,
    lo: number,
    hi: number,
    out: ExtentBuilder,
    maxExtents: number,
    fileSize: number,
  ): number {
    const h = img.header;
    const file = img.name;
    const cs = h.clusterSize;
    const fmt = this.fmt;
    const ext = fmt.extendedL2;
    const hasDataFile = fmt.dataFile;
    const stride = h.l2EntryBytes;
    // Entries' own extent: the table's span, cut at the virtual size (the last cluster may be partial).
    const tableEnd = Math.min(base + cs * h.l2Entries, this.length);
    const n = Math.ceil((hi - base) / cs);
    const scSize = cs / 32;
    const dv = new DataView(t.buffer, t.byteOffset, t.byteLength);
    // The same bytes as 32-bit words, for the empty-entry test (a Uint32Array needs alignment).
    const words =
      t.byteOffset % 4 === 0 ? new Uint32Array(t.buffer, t.byteOffset, t.byteLength >>> 2) : undefined;

    const run = new RunAccumulator(out, lo, hi);
    const emit = (start: number, len: number, kind: number, host: number) => run.add(start, len, kind, host);
    const failHere = (start: number, len: number, err: () => ClusterscopeError, lookAhead = false) => {
      run.flush();
      const a = Math.max(start, lo);
      const b = Math.min(start + len, hi);
      if (b > a) this.fail(out, a, b - a, err, lookAhead ? base : undefined);
    };
    // QEMU's "(L2 offset: %#" PRIx64 ", L2 index: %#x)" of qcow2_get_host_offset()'s corruption events.
    const l2At = (j: number) => `(L2 offset: ${hex(l2Offset)}, L2 index: ${hexAlt(j)})`;
    const entryWhere = (j: number) => ({
      file,
      structure: `L2 entry (L1[${l1Index}], L2[${j}])`,
      offset: l2Offset + j * stride,
    });

    // Entries are read in place and classified by the codec's functions on halves: the fast path
    // skips runs of contiguous entries without classifying them, which a bulk decode of the whole
    // table first would not (a 1 TiB preallocated image has 16 Mi entries, 2048 runs).
    for (let j = Math.floor((lo - base) / cs); j < n; j++) {
      const guest = base + j * cs;
      if (out.count >= maxExtents) {
        // Hold back the run being built: the next scan starts where it starts (see the class).
        const stop = run.kind >= 0 ? run.start : guest;
        run.discard();
        return stop;
      }
      const at = j * stride;
      const ehi = dv.getUint32(at);
      const elo = dv.getUint32(at + 4);
      const len = Math.min(cs, tableEnd - guest);
      // The bitmap's first (big-endian) word holds the zero bits (spec "Extended L2 Entries").
      const zeroBits = ext ? dv.getUint32(at + 8) : 0;
      const allocBits = ext ? dv.getUint32(at + 12) : 0;
      if (ehi === 0 && elo === 0 && zeroBits === 0 && allocBits === 0) {
        // Fast path: the empty entries that follow join this run without a call each (a sparse
        // layer is mostly these: on a fragmented 640 GiB chain, 28 M of its 31 M entries). One
        // add for the whole stretch is what the calls would have built: the stop check above
        // only fires on a push, and adding to the same run pushes nothing.
        let k = j + 1;
        if (words) {
          // An entry is empty whatever the byte order: its words are compared with 0 in place.
          const w = stride >>> 2;
          for (let at = k * w; k < n; k++, at += w) {
            if ((words[at]! | words[at + 1]!) !== 0) break;
            if (ext && (words[at + 2]! | words[at + 3]!) !== 0) break;
          }
        } else {
          while (
            k < n &&
            dv.getUint32(k * stride) === 0 &&
            dv.getUint32(k * stride + 4) === 0 &&
            (!ext || (dv.getUint32(k * stride + 8) === 0 && dv.getUint32(k * stride + 12) === 0))
          )
            k++;
        }
        run.add(guest, Math.min(base + k * cs, tableEnd) - guest, KIND_UNALLOCATED_PLAIN, NO_HOST);
        j = k - 1;
        continue;
      }
      const type = clusterType(ehi, elo, fmt);
      if (type === QCOW2_CLUSTER_COMPRESSED) {
        if (hasDataFile) {
          failHere(
            guest,
            len,
            () =>
              new CorruptError(
                entryWhere(j),
                `Compressed cluster entry found in image with external data file ${l2At(j)}`,
              ),
          );
          continue;
        }
        // Compressed runs never extend past one cluster (qcow2_get_host_offset()); the merge
        // into one extent is the output's business, as qemu-img map merges them too.
        emit(guest, len, KIND_COMPRESSED, NO_HOST);
        continue;
      }
      if ((type === QCOW2_CLUSTER_ZERO_PLAIN || type === QCOW2_CLUSTER_ZERO_ALLOC) && h.version === 2) {
        failHere(
          guest,
          len,
          () => new CorruptError(entryWhere(j), `Zero cluster entry found in pre-v3 image ${l2At(j)}`),
        );
        continue;
      }
      if (type === QCOW2_CLUSTER_ZERO_PLAIN) {
        emit(guest, len, KIND_ZERO_PLAIN, NO_HOST);
        continue;
      }
      if (type === QCOW2_CLUSTER_UNALLOCATED) {
        if (!ext || (zeroBits === 0 && allocBits === 0)) {
          emit(guest, len, KIND_UNALLOCATED_PLAIN, NO_HOST);
          continue;
        }
        if (bitmapInvalid(type, allocBits, zeroBits)) {
          failHere(
            guest,
            len,
            () =>
              new CorruptError(
                entryWhere(j),
                `Invalid cluster entry found  ${l2At(j)}; L2 bitmap 0x${hex32(zeroBits)}${hex32(allocBits)}: allocation bits set in an unallocated cluster`,
              ),
            true,
          );
          continue;
        }
        for (let k = 0; k < 32 && k * scSize < len; k++) {
          emit(
            guest + k * scSize,
            Math.min(scSize, len - k * scSize),
            subclusterType(type, allocBits, zeroBits, k, true),
            NO_HOST,
          );
        }
        continue;
      }
      // A host cluster: NORMAL, ZERO_ALLOC, or with subclusters any of NORMAL/ZERO_ALLOC/UNALLOCATED_ALLOC.
      const host = entryOffset(ehi, elo);
      if (host % cs) {
        failHere(
          guest,
          len,
          () =>
            new CorruptError(entryWhere(j), `Cluster allocation offset ${hexAlt(host)} unaligned ${l2At(j)}`),
        );
        continue;
      }
      if (hasDataFile && host !== guest) {
        failHere(
          guest,
          len,
          () =>
            new CorruptError(
              entryWhere(j),
              `External data file host cluster offset ${hexAlt(host)} does not match guest cluster offset: ${hexAlt(guest)}, L2 index: ${hexAlt(j)})`,
            ),
        );
        continue;
      }
      // Host offsets are multiples of 512 below 2^56: exact in a double, so none is refused.
      if (!hasDataFile && host >= fileSize && l1Index > this.lastDataFinding) {
        this.lastDataFinding = l1Index;
        this.addFinding({
          ...entryWhere(j),
          message: `data cluster at ${hex(host)} lies past end of file (size ${hex(fileSize)}); QEMU reports it as data and reads zeros`,
        });
      }
      if (!ext) {
        const kind = type === QCOW2_CLUSTER_ZERO_ALLOC ? KIND_ZERO_ALLOC : KIND_NORMAL;
        run.add(guest, len, kind, host);
        // Fast path: following entries that are this entry plus one cluster each (contiguous
        // host clusters with the same flags: preallocated or sequentially written images) extend
        // the run without being classified again; they pass every check this one passed.
        let nextHi = ehi;
        let nextLo = elo;
        let k = j + 1;
        let h = host;
        while (k < n) {
          nextLo = (nextLo + cs) >>> 0;
          if (nextLo < cs) nextHi = (nextHi + 1) >>> 0; // carry into the high half
          h += cs;
          if (dv.getUint32(k * stride) !== nextHi || dv.getUint32(k * stride + 4) !== nextLo) break;
          if (!hasDataFile && h >= fileSize) break;
          if (hasDataFile && h !== base + k * cs) break;
          k++;
        }
        if (k > j + 1) {
          const until = Math.min(base + k * cs, tableEnd);
          run.add(guest + len, until - guest - len, kind, host + len);
          j = k - 1;
        }
        continue;
      }
      if (bitmapInvalid(type, allocBits, zeroBits)) {
        failHere(
          guest,
          len,
          () =>
            new CorruptError(
              entryWhere(j),
              `Invalid cluster entry found  ${l2At(j)}; L2 bitmap 0x${hex32(zeroBits)}${hex32(allocBits)}: a subcluster is both allocated and zero`,
            ),
          true,
        );
        continue;
      }
      for (let k = 0; k < 32 && k * scSize < len; k++) {
        emit(
          guest + k * scSize,
          Math.min(scSize, len - k * scSize),
          subclusterType(type, allocBits, zeroBits, k, true),
          host + k * scSize,
        );
      }
    }
    run.flush();
    return hi;
  }
}

/**
 * The run being built while scanning an L2 table: entries that continue it (same kind,
 * adjacent, host offsets continuing) extend it in registers; anything else flushes it to the
 * ExtentBuilder. Runs are clipped to the scanned range [lo, hi). A class rather than closures
 * so V8 keeps the hot loop monomorphic.
 */
class RunAccumulator {
  kind = -1;
  start = 0;
  len = 0;
  host = NO_HOST;
  constructor(
    private readonly out: ExtentBuilder,
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  add(start: number, len: number, kind: number, host: number): void {
    if (start < this.lo) {
      const d = this.lo - start;
      start = this.lo;
      len -= d;
      if (host !== NO_HOST) host += d;
    }
    if (start + len > this.hi) len = this.hi - start;
    if (len <= 0) return;
    if (
      kind === this.kind &&
      this.start + this.len === start &&
      (host === NO_HOST ? this.host === NO_HOST : this.host !== NO_HOST && this.host + this.len === host)
    ) {
      this.len += len;
      return;
    }
    this.flush();
    this.kind = kind;
    this.start = start;
    this.len = len;
    this.host = host;
  }

  flush(): void {
    if (this.kind >= 0) this.out.push(this.start, this.len, this.kind, 0, 0, this.host);
    this.kind = -1;
  }

  discard(): void {
    this.kind = -1;
  }
}

const hex32 = (v: number) => v.toString(16).padStart(8, '0');
