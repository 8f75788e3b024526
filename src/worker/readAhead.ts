/**
 * Read-ahead for L2 tables that core reads one at a time. Core's L2Reader coalesces tables that
 * lie close together in the file into one read, but a table with no neighbour within
 * READ_COALESCE_GAP (preallocation=metadata spaces them 512 MiB apart) costs one Blob read
 * each, and in Chromium each read waits ~6 ms: 2048 tables of a 1 TiB image took 14 s in turn.
 * Those isolated tables are read in L1 order, so the worker keeps the next few in flight.
 */
import type { Layer } from '../core/chain/layer.ts';
import { MAX_SAFE_OFFSET, READ_COALESCE_GAP } from '../core/limits.ts';
import { entryOffset } from '../core/qcow2/image.ts';

/** L2 tables of a qcow2 layer that core will read alone, in the order it reads them. */
export function isolatedL2Tables(layer: Layer): { offsets: number[]; tableBytes: number } {
  if (layer.format !== 'qcow2') return { offsets: [], tableBytes: 0 };
  const cs = layer.header.clusterSize;
  const n = Math.min(layer.l1.length >>> 1, Math.ceil(layer.length / (cs * layer.header.l2Entries)));
  const inOrder: number[] = [];
  for (let i = 0; i < n; i++) {
    const off = entryOffset(layer.l1[2 * i]!, layer.l1[2 * i + 1]!);
    if (off && off % cs === 0 && off <= MAX_SAFE_OFFSET && off < layer.source.size) inOrder.push(off);
  }
  const byFile = [...new Set(inOrder)].sort((a, b) => a - b);
  const isolated = new Set<number>();
  for (let k = 0; k < byFile.length; k++) {
    const prevEnd = k > 0 ? byFile[k - 1]! + cs : -Infinity;
    const next = k + 1 < byFile.length ? byFile[k + 1]! : Infinity;
    if (byFile[k]! - prevEnd > READ_COALESCE_GAP && next - (byFile[k]! + cs) > READ_COALESCE_GAP) {
      isolated.add(byFile[k]!);
    }
  }
  return { offsets: inOrder.filter((o) => isolated.has(o)), tableBytes: cs };
}

export type Reader = (offset: number, length: number) => Promise<Uint8Array>;

/** Serves planned reads from fetches started `depth` reads ahead; anything else goes straight through. */
export class ReadAhead {
  private readonly pos = new Map<number, number>();
  private readonly inFlight = new Map<number, Promise<Uint8Array>>();

  constructor(
    private readonly read: Reader,
    private readonly offsets: readonly number[],
    private readonly bytes: number,
    private readonly depth = 16,
  ) {
    for (const [i, o] of offsets.entries()) if (!this.pos.has(o)) this.pos.set(o, i);
  }

  take(offset: number, length: number): Promise<Uint8Array> | undefined {
    const i = this.pos.get(offset);
    if (i === undefined || length !== this.bytes) return undefined;
    for (let k = i + 1; k <= i + this.depth && k < this.offsets.length; k++) {
      const o = this.offsets[k]!;
      if (!this.inFlight.has(o)) this.inFlight.set(o, this.read(o, this.bytes));
    }
    const hit = this.inFlight.get(offset);
    this.inFlight.delete(offset);
    return hit;
  }
}
