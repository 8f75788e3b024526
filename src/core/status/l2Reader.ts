/**
 * Reads the L2 tables a scan needs, in guest order, with as few requests as the layout
 * allows (ARCHITECTURE.md: slice size decides the speed). The tables are sorted by file
 * offset and cut into groups of neighbours no further apart than the source's coalescing gap
 * and no larger than MAX_READ_BYTES; each group is read once, when its first table is
 * needed, and dropped once its last table has been handed out. If a hostile layout keeps too
 * many groups alive, the least recently read is dropped and read again later if needed.
 */
import { LimitError } from '../errors.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { MAX_METADATA_BYTES, MAX_READ_BYTES, READ_COALESCE_GAP } from '../limits.ts';
import { readTable } from '../qcow2/image.ts';

/** Bytes of read-ahead groups kept alive at once (tables handed out in an order unlike the file's). */
export const L2_READER_LIVE_BYTES = 64 * 1024 * 1024;

interface Group {
  readonly offset: number;
  span: number;
  remaining: number;
  bytes?: Uint8Array;
}

export class L2Reader {
  private readonly groupOf = new Map<number, Group>();
  private readonly live = new Set<Group>();
  private liveBytes = 0;
  /** Requests and bytes read, for progress reports and benchmarks. */
  reads = 0;
  bytesRead = 0;

  /** `offsets`: the file offset of every table the scan will ask for, once per use. */
  constructor(
    private readonly src: ByteSource,
    offsets: readonly number[],
    private readonly tableBytes: number,
  ) {
    const uses = new Map<number, number>();
    for (const o of offsets) uses.set(o, (uses.get(o) ?? 0) + 1);
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
  }

  /** The table at `offset` as bytes: a view into its group's single read. */
  async table(offset: number): Promise<Uint8Array> {
    const g = this.groupOf.get(offset)!;
    if (!g.bytes) {
      while (this.liveBytes + g.span > L2_READER_LIVE_BYTES && this.live.size > 0) {
        const oldest = this.live.values().next().value!;
        this.drop(oldest);
      }
      g.bytes = await readTable(this.src, g.offset, g.span);
      this.reads++;
      this.bytesRead += g.span;
      if (this.bytesRead > MAX_METADATA_BYTES) {
        throw new LimitError(
          { file: this.src.name, structure: 'L2 tables' },
          'more than MAX_METADATA_BYTES of metadata read',
        );
      }
      this.live.add(g);
      this.liveBytes += g.span;
    }
    const view = g.bytes.subarray(offset - g.offset, offset - g.offset + this.tableBytes);
    if (--g.remaining === 0) this.drop(g);
    return view;
  }

  private drop(g: Group): void {
    if (!g.bytes) return;
    delete g.bytes;
    this.live.delete(g);
    this.liveBytes -= g.span;
  }
}
