/**
 * Block status of one layer on its own, over its whole length: what QEMU's driver answers
 * for each (sub)cluster (qcow2_co_block_status(), reference §3.1-3.4), as extents of
 * (kind, host offset). The chain walk (resolve.ts) adds ALLOCATED and the synthesized ZERO.
 *
 * L2 tables are read whole, neighbours coalesced into one read (qcow2/tableReader.ts), and decoded
 * with a DataView straight from the bytes read: no object per entry, and runs of entries of
 * one kind (contiguous host clusters, unallocated, zero) become one extent before they reach
 * the ExtentBuilder.
 */

import { type Cancellation, CancelledError, checkpoint } from '../cancel.ts';
import type { Layer } from '../chain/layer.ts';
import { type ClusterscopeError, CorruptError, LimitError } from '../errors.ts';
import type { Finding } from '../findings.ts';
import { hex, hexAlt } from '../format.ts';
import { MAX_SAFE_OFFSET } from '../limits.ts';
import type { Qcow2Image } from '../qcow2/image.ts';
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
  readonly errors: readonly ClusterscopeError[];
  readonly findings: readonly Finding[];
  readonly length: number;
}

/** Cancellation lives in core/cancel.ts; re-exported for the callers that import it from here. */
export { type Cancellation, CancelledError };

export type Progress = (done: number, total: number) => void;

/**
 * Partial result: `status` holds the extents covering [0, end) so far (a live view: read it
 * before the scan resumes, copy what you keep). Called after each L2 table is decoded, so a
 * caller can show the first part of the map while the rest is read; throttle on your side.
 */
export type Partial = (status: LayerStatus, end: number) => void;

export interface LayerStatusOptions {
  /** L1 table to scan instead of the active one (an internal snapshot's), as u32 pairs. */
  readonly l1?: Uint32Array;
  /** Virtual size to scan instead of the image's (a snapshot's disk size). */
  readonly length?: number;
  readonly onProgress?: Progress;
  readonly onPartial?: Partial;
  readonly signal?: Cancellation;
}

export async function layerStatus(layer: Layer, opts: LayerStatusOptions = {}): Promise<LayerStatus> {
  if (layer.format === 'raw') {
    const b = new ExtentBuilder(layer.name);
    b.push(0, layer.fileSize, KIND_RAW_DATA, 0, 0, 0);
    b.push(layer.fileSize, layer.length - layer.fileSize, KIND_RAW_EOF_TAIL, 0, 0, layer.fileSize);
    return { extents: b.finish(), errors: [], findings: [], length: layer.length };
  }
  return qcow2Status(layer, opts);
}

async function qcow2Status(img: Qcow2Image, opts: LayerStatusOptions): Promise<LayerStatus> {
  const h = img.header;
  const file = img.name;
  const cs = h.clusterSize;
  const length = opts.length ?? img.length;
  const l1 = opts.l1 ?? img.l1;
  const l1Count = l1.length >>> 1;
  const l2Span = cs * h.l2Entries; // guest bytes one L2 table maps
  const fmt = entryFormat(h);
  const out = new ExtentBuilder(file);
  const errors: ClusterscopeError[] = [];
  const findings: Finding[] = [];
  const fileSize = img.source.size;

  const fail = (start: number, len: number, err: ClusterscopeError, lookAheadFloor?: number) => {
    if (lookAheadFloor !== undefined) {
      // qcow2_get_subcluster_range_type() looks at the next entry while extending a run, so an
      // INVALID entry fails the query of the run before it (same L2 table), not only its own
      // (reference §3.3, "look-ahead errors"). Report the error from where that query began.
      const from = out.lastRunStart(start, lookAheadFloor);
      const prev = out.count > 0 ? out.kind[out.count - 1] : undefined;
      if (from < start && prev !== KIND_COMPRESSED && prev !== KIND_ERROR) {
        out.truncate(from);
        len += start - from;
        start = from;
      }
    }
    out.push(start, len, KIND_ERROR, 0, 0, errors.length);
    errors.push(err);
  };

  // Pass 1: the L2 tables the scan will read (allocated, aligned, inside the file).
  const wanted: number[] = [];
  const l1Needed = Math.min(l1Count, Math.ceil(length / l2Span));
  for (let i = 0; i < l1Needed; i++) {
    const off = entryOffset(l1[2 * i]!, l1[2 * i + 1]!);
    if (off && off % cs === 0 && off < fileSize && off <= MAX_SAFE_OFFSET) wanted.push(off);
  }
  const reader = new TableReader(img.source, wanted, cs, {
    structure: 'L2 tables',
    ...(opts.signal && { signal: opts.signal }),
  });
  const total = wanted.length;
  let done = 0;

  for (let i = 0; i < l1Needed; i++) {
    // Also the scan's yield point: a table read once and shared by every L1 entry is never
    // waited for again, so without a pause here the loop would hold the thread to its end.
    await checkpoint(opts.signal);
    const base = i * l2Span;
    const span = Math.min(l2Span, length - base);
    const l2Offset = entryOffset(l1[2 * i]!, l1[2 * i + 1]!);
    if (l2Offset === 0) {
      out.push(base, span, KIND_UNALLOCATED_PLAIN, 0, 0, NO_HOST);
      continue;
    }
    const where = { file, structure: `L2 table (L1[${i}])`, offset: l2Offset };
    if (l2Offset % cs) {
      // qcow2_get_host_offset(): "L2 table offset ... unaligned" is a corruption event (EIO).
      fail(
        base,
        span,
        new CorruptError(where, `L2 table offset ${hex(l2Offset)} unaligned (L1 index: ${hexAlt(i)})`),
      );
      continue;
    }
    if (l2Offset >= fileSize) {
      findings.push({
        ...where,
        message: `lies past end of file (size ${hex(fileSize)}); QEMU reads it as zeros, so the range is unallocated`,
      });
      out.push(base, span, KIND_UNALLOCATED_PLAIN, 0, 0, NO_HOST);
      continue;
    }
    const table = await reader.table(l2Offset);
    scanL2(img, table, i, l2Offset, base, span, fmt, out, fail, findings, fileSize);
    done++;
    opts.onProgress?.(done, total);
    opts.onPartial?.({ extents: out, errors, findings, length }, base + span);
  }
  if (l1Needed * l2Span < length) {
    // Past the L1 table's end everything is unallocated (QEMU: l1_index >= l1_size).
    out.push(l1Needed * l2Span, length - l1Needed * l2Span, KIND_UNALLOCATED_PLAIN, 0, 0, NO_HOST);
  }
  return { extents: out.finish(), errors, findings, length };
}

/** Classifies the entries of one L2 table (qcow2_get_subcluster_type(), reference §3.1-3.3). */
function scanL2(
  img: Qcow2Image,
  t: Uint8Array,
  l1Index: number,
  l2Offset: number,
  base: number,
  span: number,
  fmt: EntryFormat,
  out: ExtentBuilder,
  fail: (start: number, len: number, err: ClusterscopeError, lookAheadFloor?: number) => void,
  findings: Finding[],
  fileSize: number,
): void {
  const h = img.header;
  const file = img.name;
  const cs = h.clusterSize;
  const ext = fmt.extendedL2;
  const hasDataFile = fmt.dataFile;
  const stride = h.l2EntryBytes;
  const n = Math.ceil(span / cs);
  const scSize = cs / 32;
  // Entries are read in place and classified by the codec's functions on halves: the fast path
  // below skips runs of contiguous entries without classifying them, which a bulk decode of the
  // whole table first would not (a 1 TiB preallocated image has 16 Mi entries, 2048 runs).
  const dv = new DataView(t.buffer, t.byteOffset, t.byteLength);
  let pastEofReported = false;

  const run = new RunAccumulator(out);
  const emit = (start: number, len: number, kind: number, host: number) => run.add(start, len, kind, host);
  const failHere = (start: number, len: number, err: ClusterscopeError, lookAhead = false) => {
    run.flush();
    fail(start, len, err, lookAhead ? base : undefined);
  };
  // QEMU's "(L2 offset: %#" PRIx64 ", L2 index: %#x)" of qcow2_get_host_offset()'s corruption events.
  const l2At = (j: number) => `(L2 offset: ${hex(l2Offset)}, L2 index: ${hexAlt(j)})`;
  const entryWhere = (j: number) => ({
    file,
    structure: `L2 entry (L1[${l1Index}], L2[${j}])`,
    offset: l2Offset + j * stride,
  });

  for (let j = 0; j < n; j++) {
    const at = j * stride;
    const hi = dv.getUint32(at);
    const lo = dv.getUint32(at + 4);
    const type = clusterType(hi, lo, fmt);
    const guest = base + j * cs;
    const len = guest + cs <= base + span ? cs : base + span - guest;
    // The bitmap's first (big-endian) word holds the zero bits (spec "Extended L2 Entries").
    const zeroBits = ext ? dv.getUint32(at + 8) : 0;
    const allocBits = ext ? dv.getUint32(at + 12) : 0;
    if (type === QCOW2_CLUSTER_COMPRESSED) {
      if (hasDataFile) {
        failHere(
          guest,
          len,
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
        new CorruptError(entryWhere(j), `Zero cluster entry found in pre-v3 image ${l2At(j)}`),
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
    const host = entryOffset(hi, lo);
    if (host % cs) {
      failHere(
        guest,
        len,
        new CorruptError(entryWhere(j), `Cluster allocation offset ${hexAlt(host)} unaligned ${l2At(j)}`),
      );
      continue;
    }
    if (hasDataFile && host !== guest) {
      failHere(
        guest,
        len,
        new CorruptError(
          entryWhere(j),
          `External data file host cluster offset ${hexAlt(host)} does not match guest cluster offset: ${hexAlt(guest)}, L2 index: ${hexAlt(j)})`,
        ),
      );
      continue;
    }
    if (host > MAX_SAFE_OFFSET - cs) {
      failHere(
        guest,
        len,
        new LimitError(entryWhere(j), `host offset ${hex(host)} exceeds 2^53 (MAX_SAFE_OFFSET)`),
      );
      continue;
    }
    if (!hasDataFile && host >= fileSize && !pastEofReported) {
      pastEofReported = true;
      findings.push({
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
      let nextHi = hi;
      let nextLo = lo;
      let k = j + 1;
      let h = host;
      while (k < n) {
        nextLo = (nextLo + cs) >>> 0;
        if (nextLo < cs) nextHi = (nextHi + 1) >>> 0; // carry into the high half
        h += cs;
        if (dv.getUint32(k * stride) !== nextHi || dv.getUint32(k * stride + 4) !== nextLo) break;
        if (!hasDataFile && h >= fileSize) break;
        if (h > MAX_SAFE_OFFSET - cs || (hasDataFile && h !== base + k * cs)) break;
        k++;
      }
      if (k > j + 1) {
        const until = Math.min(base + k * cs, base + span);
        run.add(guest + len, until - guest - len, kind, host + len);
        j = k - 1;
      }
      continue;
    }
    if (bitmapInvalid(type, allocBits, zeroBits)) {
      failHere(
        guest,
        len,
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
}

/**
 * The run being built while scanning an L2 table: entries that continue it (same kind,
 * adjacent, host offsets continuing) extend it in registers; anything else flushes it to the
 * ExtentBuilder. A class rather than closures so V8 keeps the hot loop monomorphic.
 */
class RunAccumulator {
  kind = -1;
  start = 0;
  len = 0;
  host = NO_HOST;
  constructor(private readonly out: ExtentBuilder) {}

  add(start: number, len: number, kind: number, host: number): void {
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
}

const hex32 = (v: number) => v.toString(16).padStart(8, '0');
