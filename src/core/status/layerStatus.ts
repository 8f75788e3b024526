/**
 * Block status of one layer on its own, over its whole length: what QEMU's driver answers
 * for each (sub)cluster (qcow2_co_block_status(), reference §3.1-3.4), as extents of
 * (kind, host offset). The chain walk (resolve.ts) adds ALLOCATED and the synthesized ZERO.
 *
 * L2 tables are read whole, neighbours coalesced into one read (READ_COALESCE_GAP,
 * MAX_READ_BYTES), and decoded from typed arrays without an object per entry.
 */

import type { Layer } from '../chain/layer.ts';
import { type ClusterscopeError, CorruptError, hex, LimitError } from '../errors.ts';
import type { Finding } from '../findings.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { MAX_METADATA_BYTES, MAX_READ_BYTES, MAX_SAFE_OFFSET, READ_COALESCE_GAP } from '../limits.ts';
import { INCOMPAT_DATA_FILE } from '../qcow2/header.ts';
import { entryOffset, type Qcow2Image, readTable, toU32Pairs } from '../qcow2/image.ts';
import { ExtentBuilder, type Extents, NO_HOST } from './extents.ts';
import {
  KIND_COMPRESSED,
  KIND_ERROR,
  KIND_NORMAL,
  KIND_RAW_DATA,
  KIND_RAW_EOF_TAIL,
  KIND_UNALLOCATED_ALLOC,
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

export type Progress = (done: number, total: number) => void;

/** Structural subset of AbortSignal, so core needs no DOM or Node types. */
export interface Cancellation {
  readonly aborted: boolean;
}

export interface LayerStatusOptions {
  /** L1 table to scan instead of the active one (an internal snapshot's), as u32 pairs. */
  readonly l1?: Uint32Array;
  /** Virtual size to scan instead of the image's (a snapshot's disk size). */
  readonly length?: number;
  readonly onProgress?: Progress;
  readonly signal?: Cancellation;
}

export class CancelledError extends Error {
  override readonly name = 'CancelledError';
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

interface TableRef {
  readonly l1Index: number;
  readonly offset: number;
}

/**
 * Reads L2 tables in guest order with read-ahead: a read that fetches table T also fetches
 * the tables that follow T in the file within READ_COALESCE_GAP, up to MAX_READ_BYTES.
 */
class L2Reader {
  private readonly byOffset: TableRef[];
  private readonly pos = new Map<number, number>();
  private readonly cache = new Map<number, Uint32Array>();
  tablesRead = 0;
  bytesRead = 0;

  constructor(
    private readonly src: ByteSource,
    refs: TableRef[],
    private readonly tableBytes: number,
  ) {
    this.byOffset = [...refs].sort((a, b) => a.offset - b.offset);
    for (const [i, r] of this.byOffset.entries()) this.pos.set(r.offset, i);
  }

  async table(offset: number): Promise<Uint32Array> {
    const hit = this.cache.get(offset);
    if (hit) {
      this.cache.delete(offset);
      return hit;
    }
    const first = this.pos.get(offset)!;
    let last = first;
    while (last + 1 < this.byOffset.length) {
      const next = this.byOffset[last + 1]!.offset;
      const end = this.byOffset[last]!.offset + this.tableBytes;
      if (next - end > READ_COALESCE_GAP || next + this.tableBytes - offset > MAX_READ_BYTES) break;
      last++;
    }
    const span = this.byOffset[last]!.offset + this.tableBytes - offset;
    const bytes = await readTable(this.src, offset, span);
    this.bytesRead += span;
    if (this.bytesRead > MAX_METADATA_BYTES) {
      throw new LimitError(
        { file: this.src.name, structure: 'L2 tables' },
        'more than MAX_METADATA_BYTES of metadata',
      );
    }
    for (let i = first; i <= last; i++) {
      const o = this.byOffset[i]!.offset;
      const t = toU32Pairs(bytes.subarray(o - offset, o - offset + this.tableBytes));
      this.tablesRead++;
      if (o === offset) continue;
      this.cache.set(o, t);
    }
    return toU32Pairs(bytes.subarray(0, this.tableBytes));
  }
}

async function qcow2Status(img: Qcow2Image, opts: LayerStatusOptions): Promise<LayerStatus> {
  const h = img.header;
  const file = img.name;
  const cs = h.clusterSize;
  const length = opts.length ?? img.length;
  const l1 = opts.l1 ?? img.l1;
  const l1Count = l1.length >>> 1;
  const l2Span = cs * h.l2Entries; // guest bytes one L2 table maps
  const hasDataFile = (h.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n;
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

  // Pass 1: which L1 entries point to an L2 table, and which of those are usable.
  const refs: TableRef[] = [];
  const l1Needed = Math.min(l1Count, Math.ceil(length / l2Span));
  for (let i = 0; i < l1Needed; i++) {
    const off = entryOffset(l1[2 * i]!, l1[2 * i + 1]!);
    if (off && off % cs === 0 && off <= MAX_SAFE_OFFSET) refs.push({ l1Index: i, offset: off });
  }
  const reader = new L2Reader(img.source, refs, cs);
  const total = refs.length;
  let done = 0;

  for (let i = 0; i < l1Needed; i++) {
    if (opts.signal?.aborted) throw new CancelledError('cancelled');
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
        new CorruptError(where, `L2 table offset ${hex(l2Offset)} unaligned (L1 index: ${hex(i)})`),
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
    scanL2(img, table, i, l2Offset, base, span, hasDataFile, out, fail, findings, fileSize);
    done++;
    opts.onProgress?.(done, total);
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
  t: Uint32Array,
  l1Index: number,
  l2Offset: number,
  base: number,
  span: number,
  hasDataFile: boolean,
  out: ExtentBuilder,
  fail: (start: number, len: number, err: ClusterscopeError, lookAheadFloor?: number) => void,
  findings: Finding[],
  fileSize: number,
): void {
  const h = img.header;
  const file = img.name;
  const cs = h.clusterSize;
  const ext = h.extendedL2;
  const words = ext ? 4 : 2;
  const n = Math.ceil(span / cs);
  const scSize = cs / 32;
  let pastEofReported = false;
  for (let j = 0; j < n; j++) {
    const hi = t[j * words]!;
    const lo = t[j * words + 1]!;
    const guest = base + j * cs;
    const len = Math.min(cs, base + span - guest);
    if (hi === 0 && lo === 0 && (!ext || (t[j * 4 + 2] === 0 && t[j * 4 + 3] === 0))) {
      out.push(guest, len, KIND_UNALLOCATED_PLAIN, 0, 0, NO_HOST);
      continue;
    }
    const entryWhere = () => ({
      file,
      structure: `L2 entry (L1[${l1Index}], L2[${j}])`,
      offset: l2Offset + j * h.l2EntryBytes,
    });
    if (hi & 0x40000000) {
      if (hasDataFile) {
        fail(
          guest,
          len,
          new CorruptError(entryWhere(), 'Compressed cluster entry found in image with external data file'),
        );
        continue;
      }
      out.push(guest, len, KIND_COMPRESSED, 0, 0, NO_HOST);
      continue;
    }
    const host = entryOffset(hi, lo);
    const copied = (hi & 0x80000000) !== 0;
    if (!ext && lo & 1) {
      if (h.version === 2) {
        fail(guest, len, new CorruptError(entryWhere(), 'Zero cluster entry found in pre-v3 image'));
        continue;
      }
      if (host === 0) {
        out.push(guest, len, KIND_ZERO_PLAIN, 0, 0, NO_HOST);
        continue;
      }
    }
    const allocated = host !== 0 || (hasDataFile && copied);
    if (!allocated) {
      if (!ext) {
        out.push(guest, len, KIND_UNALLOCATED_PLAIN, 0, 0, NO_HOST);
        continue;
      }
      const alloc = t[j * 4 + 3]!;
      const zero = t[j * 4 + 2]!;
      if (alloc) {
        fail(
          guest,
          len,
          new CorruptError(
            entryWhere(),
            `Invalid cluster entry found (L2 bitmap 0x${hex32(zero)}${hex32(alloc)}: allocation bits set in an unallocated cluster)`,
          ),
        );
        continue;
      }
      pushSubclusters(
        out,
        guest,
        len,
        scSize,
        (k) => ((zero >>> k) & 1 ? KIND_ZERO_PLAIN : KIND_UNALLOCATED_PLAIN),
        NO_HOST,
      );
      continue;
    }
    // A host cluster: NORMAL, ZERO_ALLOC, or with subclusters any of NORMAL/ZERO_ALLOC/UNALLOCATED_ALLOC.
    if (host % cs) {
      fail(
        guest,
        len,
        new CorruptError(
          entryWhere(),
          `Cluster allocation offset ${hex(host)} unaligned (L2 offset: ${hex(guest)})`,
        ),
      );
      continue;
    }
    if (hasDataFile && host !== guest) {
      fail(
        guest,
        len,
        new CorruptError(
          entryWhere(),
          `External data file host cluster offset ${hex(host)} does not match guest cluster offset: ${hex(guest)}`,
        ),
      );
      continue;
    }
    if (host > MAX_SAFE_OFFSET - cs) {
      fail(
        guest,
        len,
        new LimitError(entryWhere(), `host offset ${hex(host)} exceeds 2^53 (MAX_SAFE_OFFSET)`),
      );
      continue;
    }
    if (!hasDataFile && host >= fileSize && !pastEofReported) {
      pastEofReported = true;
      findings.push({
        ...entryWhere(),
        message: `data cluster at ${hex(host)} lies past end of file (size ${hex(fileSize)}); QEMU reports it as data and reads zeros`,
      });
    }
    if (!ext) {
      out.push(guest, len, lo & 1 ? KIND_ZERO_ALLOC : KIND_NORMAL, 0, 0, host);
      continue;
    }
    const alloc = t[j * 4 + 3]!;
    const zero = t[j * 4 + 2]!;
    if (alloc & zero) {
      fail(
        guest,
        len,
        new CorruptError(
          entryWhere(),
          `Invalid cluster entry found (L2 bitmap 0x${hex32(zero)}${hex32(alloc)}: a subcluster is both allocated and zero)`,
        ),
      );
      continue;
    }
    pushSubclusters(
      out,
      guest,
      len,
      scSize,
      (k) => ((zero >>> k) & 1 ? KIND_ZERO_ALLOC : (alloc >>> k) & 1 ? KIND_NORMAL : KIND_UNALLOCATED_ALLOC),
      host,
    );
  }
}

const hex32 = (v: number) => v.toString(16).padStart(8, '0');

function pushSubclusters(
  out: ExtentBuilder,
  guest: number,
  len: number,
  scSize: number,
  kindOf: (k: number) => number,
  host: number,
): void {
  for (let k = 0; k < 32 && k * scSize < len; k++) {
    const kind = kindOf(k);
    const h =
      host === NO_HOST || kind === KIND_ZERO_PLAIN || kind === KIND_UNALLOCATED_PLAIN
        ? NO_HOST
        : host + k * scSize;
    out.push(guest + k * scSize, Math.min(scSize, len - k * scSize), kind, 0, 0, h);
  }
}
