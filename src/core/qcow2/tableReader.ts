/**
 * The one reader of cluster-sized tables (L2 tables, refcount blocks) for scans that visit
 * many of them: block status and check. It reads them with as few requests as the layout
 * allows (ARCHITECTURE.md: slice size decides the speed). The tables are sorted by file
 * offset and cut into groups of neighbours no further apart than the source's coalescing gap
 * and no larger than MAX_READ_BYTES; each group is read once and dropped once its last table
 * has been handed out. While the scan decodes one group, the next TABLE_PREFETCH_GROUPS groups
 * (in the order the scan will ask for them) are already being read, within the live-bytes
 * budget. If a hostile layout keeps too many groups alive, the least recently read is dropped
 * and read again later if needed.
 *
 * A table at or past the end of the file is the shared all-zero `zeroTable`, with no read:
 * QEMU's bdrv_pread() pads a read past EOF with zeros, and a scan can skip an all-zero table
 * by identity. A table that starts inside the file and ends past it is zero-padded likewise.
 */
import { type Cancellation, throwIfCancelled } from '../cancel.ts';
import { LimitError } from '../errors.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { MAX_METADATA_BYTES, MAX_READ_BYTES, READ_COALESCE_GAP } from '../limits.ts';
import { readTable } from './image.ts';

/** Bytes of read-ahead groups kept alive at once (tables handed out in an order unlike the file's). */
export const TABLE_READER_LIVE_BYTES = 64 * 1024 * 1024;

/**
 * Group reads kept in flight ahead of the scan. A read's cost is mostly latency, not bytes:
 * in Chromium every Blob read waits ~6 ms for the browser process, so a 1 TiB
 * preallocation=metadata image (2048 L2 tables 512 MiB apart, none coalescible) took ~12 s
 * read one at a time. The window is refilled only once half of it has been used, so the reads
 * start in bursts a source can serve as one request (BlobSource reads the reads started in one
 * turn as one composite Blob: 2048 tables in ~2 s instead of ~12 s on a loaded 2-core
 * machine). Memory stays bounded by TABLE_READER_LIVE_BYTES; a local pread source answers at
 * once, so the window costs it nothing.
 */
export const TABLE_PREFETCH_GROUPS = 256;

/** Earlier names, kept for their callers. */
export const L2_READER_LIVE_BYTES = TABLE_READER_LIVE_BYTES;
export const L2_PREFETCH_GROUPS = TABLE_PREFETCH_GROUPS;

export interface TableReaderOptions {
  /** What the tables are, for errors: "L2 tables", "refcount blocks". */
  readonly structure?: string;
  /** Checked before every table is handed out: an aborted scan ends with CancelledError. */
  readonly signal?: Cancellation;
  /** Group reads in flight ahead of the scan (default: the source's prefetchGroups, else TABLE_PREFETCH_GROUPS). */
  readonly window?: number;
}

interface Group {
  readonly offset: number;
  span: number;
  remaining: number;
  bytes?: Promise<Uint8Array>;
}

export class TableReader {
  private readonly groupOf = new Map<number, Group>();
  /** Groups in the order the scan first asks for them. */
  private readonly order: Group[] = [];
  private readonly orderIndex = new Map<Group, number>();
  private readonly live = new Set<Group>();
  private liveBytes = 0;
  private readonly window: number;
  private readonly structure: string;
  private readonly signal: Cancellation | undefined;
  /** What a table at or past EOF reads as; one shared instance, so a scan can test identity. */
  readonly zeroTable: Uint8Array;
  /** Requests and bytes read, for progress reports and benchmarks. */
  reads = 0;
  bytesRead = 0;

  /**
   * `offsets`: the file offset of every table the scan will ask for, once per use, in scan
   * order. `tableBytes`: the size of one table (a cluster).
   */
  constructor(
    private readonly src: ByteSource,
    offsets: readonly number[],
    private readonly tableBytes: number,
    opts: TableReaderOptions = {},
  ) {
    this.window = opts.window ?? src.prefetchGroups ?? TABLE_PREFETCH_GROUPS;
    this.structure = opts.structure ?? 'tables';
    this.signal = opts.signal;
    this.zeroTable = new Uint8Array(tableBytes);
    const uses = new Map<number, number>();
    for (const o of offsets) if (o < src.size) uses.set(o, (uses.get(o) ?? 0) + 1);
    const sorted = [...uses.keys()].sort((a, b) => a - b);
    const gap = src.coalesceGap ?? READ_COALESCE_GAP;
    let g: Group | undefined;
    for (const o of sorted) {
      if (!g || o - (g.offset + g.span) > gap || o + tableBytes - g.offset > MAX_READ_BYTES) {
        g = { offset: o, span: 0, remaining: 0 };
      }
      g.span = o + tableBytes - g.offset;
      g.remaining += uses.get(o)!;
      this.groupOf.set(o, g);
    }
    for (const o of offsets) {
      const grp = this.groupOf.get(o);
      if (grp && !this.orderIndex.has(grp)) {
        this.orderIndex.set(grp, this.order.length);
        this.order.push(grp);
      }
    }
  }

  /** The table at `offset` as bytes: a view into its group's single read (or zeroTable past EOF). */
  async table(offset: number): Promise<Uint8Array> {
    throwIfCancelled(this.signal);
    const g = this.groupOf.get(offset);
    if (!g) {
      if (offset >= this.src.size) return this.zeroTable;
      throw new RangeError(`table at ${offset} was not announced to the reader`);
    }
    let pending = g.bytes;
    if (pending) this.prefetch(g);
    else pending = this.demand(g);
    const bytes = await pending;
    const view = bytes.subarray(offset - g.offset, offset - g.offset + this.tableBytes);
    if (--g.remaining === 0) this.drop(g);
    return view;
  }

  /**
   * Reads a group the scan waits for. The prefetch starts once it has arrived, so that the first
   * table (and the first partial map) does not share the source with the whole window: in
   * Chromium a 16 MiB window read in flight beside it delayed the first table by ~150 ms.
   */
  private demand(g: Group): Promise<Uint8Array> {
    while (this.liveBytes + g.span > TABLE_READER_LIVE_BYTES && this.live.size > 0) {
      const oldest = this.live.values().next().value!;
      this.drop(oldest);
    }
    this.load(g);
    g.bytes!.then(
      () => this.prefetch(g),
      () => {},
    );
    return g.bytes!;
  }

  /** Starts the next groups in scan order, as long as they fit the live budget without evicting. */
  private prefetch(g: Group): void {
    const from = this.orderIndex.get(g)!;
    const end = Math.min(from + this.window, this.order.length - 1);
    let ahead = 0;
    for (let k = from + 1; k <= end; k++) if (this.order[k]!.bytes) ahead++;
    if (ahead >= this.window / 2 || ahead === end - from) return;
    for (let k = from + 1; k <= end; k++) {
      const h = this.order[k]!;
      if (h.bytes || h.remaining === 0) continue;
      if (this.liveBytes + h.span > TABLE_READER_LIVE_BYTES) break;
      this.load(h);
    }
  }

  private load(g: Group): void {
    this.reads++;
    this.bytesRead += g.span;
    if (this.bytesRead > MAX_METADATA_BYTES) {
      throw new LimitError(
        { file: this.src.name, structure: this.structure },
        'more than MAX_METADATA_BYTES of metadata read',
      );
    }
    const p = readTable(this.src, g.offset, g.span);
    // A prefetched read may fail before anyone awaits it; the scan sees the error when it asks.
    p.catch(() => {});
    g.bytes = p;
    this.live.add(g);
    this.liveBytes += g.span;
  }

  private drop(g: Group): void {
    if (!g.bytes) return;
    delete g.bytes;
    this.live.delete(g);
    this.liveBytes -= g.span;
  }
}
