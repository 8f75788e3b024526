/** Words for resolved status, shared by every interpretation's explain(). */
import { inDataFileWords } from '../chain/describe.ts';
import { hex } from '../format.ts';
import { findExtent } from './extents.ts';
import { flagNames } from './flags.ts';
import { kindName } from './kinds.ts';
import { type ChainStatus, SYNTH_BEYOND_BACKING_EOF } from './resolve.ts';

export interface ResolvedAt {
  readonly index: number;
  readonly kind: number;
  readonly flags: number;
  readonly layer: number;
  readonly layerName: string;
  readonly host: number;
  readonly beyondBackingEof: boolean;
}

export function resolvedAt(st: ChainStatus, offset: number): ResolvedAt | undefined {
  const i = findExtent(st.extents, offset);
  if (i < 0) return undefined;
  const e = st.extents;
  const host = e.host[i]! < 0 ? -1 : e.host[i]! + (offset - e.start[i]!);
  return {
    index: i,
    kind: e.kind[i]!,
    flags: e.flags[i]! & ~SYNTH_BEYOND_BACKING_EOF,
    layer: e.layer[i]!,
    layerName: st.chain.layers[e.layer[i]!]?.name ?? '?',
    host,
    beyondBackingEof: (e.flags[i]! & SYNTH_BEYOND_BACKING_EOF) !== 0,
  };
}

/** One sentence: which layer decided the byte, as which (sub)cluster type, with which flags. */
export function describeResolved(st: ChainStatus, offset: number): string {
  const r = resolvedAt(st, offset);
  if (!r) return `offset ${hex(offset)} is past the end of the image (${hex(st.length)})`;
  const where = `${kindName(r.kind)} in ${r.layerName} (layer ${r.layer}${r.layer === 0 ? ', the top' : ''})`;
  // With an external data file the offset is in that file, not in the qcow2 file (§2.7).
  const layer = st.chain.layers[r.layer];
  const host = r.host >= 0 ? ` at host offset ${hex(r.host)}${layer ? inDataFileWords(layer) : ''}` : '';
  let why: string;
  if (r.beyondBackingEof) {
    const backing = st.chain.layers[r.layer + 1]?.name ?? 'the backing file';
    why = `unallocated there and past the end of ${backing}, so QEMU reads zeroes`;
  } else if (!(r.flags & 0x10)) {
    why =
      st.chain.noBacking && r.layer === 0
        ? 'unallocated and opened with backing: null, so it reads as zero but is not owned'
        : 'unallocated in every layer down to a base with no backing file, so it reads as zero';
  } else {
    why = 'this layer owns the content';
  }
  return `${where}${host}: block status ${flagNames(r.flags)}; ${why}.`;
}
