/**
 * The reason for a difference, in words, from both interpretations' explain() at the start of
 * the differing extent: which (sub)cluster type in which layer, and the rule each side applied
 * ("cluster 2: ZERO_PLAIN in top.qcow2 ...; A reports zero: no HOLE because block status has
 * ALLOCATED ...; B reports hole,zero: HOLE because block status has no DATA ..."). Reasons are
 * made on demand, one extent at a time, so a diff of a million extents costs no strings until
 * someone reads them.
 */
import { hex } from '../format.ts';
import type { Interpretation, Interpreted } from '../interpret/interpretation.ts';
import { describeResolved } from '../status/describe.ts';
import type { ChainStatus } from '../status/resolve.ts';
import { type Diff, type DiffMode, diffInterpreted, NO_VALUE } from './diff.ts';

export interface DiffSide {
  readonly interpretation: Interpretation;
  readonly status: ChainStatus;
  /** Computed extents, if the caller has them already. */
  readonly computed?: Interpreted;
}

/** Diffs two sides over their statuses' virtual sizes, by meaning unless `mode` is 'values'. */
export function diffSides(a: DiffSide, b: DiffSide, mode: DiffMode = 'meaning'): Diff {
  return diffInterpreted(
    a.computed ?? a.interpretation.compute(a.status),
    b.computed ?? b.interpretation.compute(b.status),
    {
      labelA: (v) => a.interpretation.label(v),
      labelB: (v) => b.interpretation.label(v),
      lengthA: a.status.length,
      lengthB: b.status.length,
      meaningA: a.interpretation,
      meaningB: b.interpretation,
      mode,
    },
  );
}

/** Cluster size of a status's top layer (512 for a raw top: its request alignment). */
export const topClusterSize = (st: ChainStatus): number => {
  const top = st.chain.layers[0];
  return top?.format === 'qcow2' ? top.header.clusterSize : 512;
};

/** "cluster 2" or "clusters 2-5", plus the guest byte range. */
export function clusterRange(start: number, length: number, clusterSize: number): string {
  const first = Math.floor(start / clusterSize);
  const last = Math.floor((start + length - 1) / clusterSize);
  const unit = clusterSize === 512 ? 'sector' : 'cluster';
  const which = first === last ? `${unit} ${first}` : `${unit}s ${first}-${last}`;
  return `${which} [${hex(start)}, ${hex(start + length)})`;
}

/** The rule part of an explain(): the text before its shared describeResolved() sentence. */
function rulePart(i: Interpretation, st: ChainStatus, offset: number): string {
  const full = i.explain(st, offset);
  const resolved = describeResolved(st, offset);
  return full.replace(resolved, ' ').replace(/\s+/g, ' ').trim();
}

/** The reason for differing extent `index` of `d`, a diff of `a` against `b`. */
export function explainDifference(d: Diff, index: number, a: DiffSide, b: DiffSide): string {
  const s = d.start[index]!;
  const kind = d.kinds[d.kind[index]!]!;
  const where = clusterRange(s, d.length[index]!, topClusterSize(a.status));
  if (kind.valueA === null || kind.valueB === null) {
    // A tail: one image is longer than the other.
    const [tag, x, otherTag, otherLength] =
      kind.id === 'a-only' ? ['A', a, 'B', d.lengthB] : ['B', b, 'A', d.lengthA];
    const name = x.status.chain.layers[0]?.name ?? tag;
    return `${where}: only ${tag} (${name}) reaches here; ${otherTag} ends at ${hex(otherLength)}. ${describeResolved(x.status, s)} ${tag} (${x.interpretation.title}): ${rulePart(x.interpretation, x.status, s)}`;
  }
  const side = (tag: string, x: DiffSide, v: number, label: string): string => {
    if (v === NO_VALUE) {
      const why = x.status.error?.message ?? 'no extent covers this offset';
      return `${tag} (${x.interpretation.title}) has no answer: ${why}`;
    }
    return `${tag} (${x.interpretation.title}) reports ${label}: ${rulePart(x.interpretation, x.status, s)}`;
  };
  const ra = describeResolved(a.status, s);
  const rb = describeResolved(b.status, s);
  const resolved = ra === rb ? ra : `A: ${ra} B: ${rb}`;
  const facts = kind.factsLabel ? ` They differ in ${kind.factsLabel}.` : '';
  return `${where}: ${resolved} ${side('A', a, kind.valueA, kind.labelA)} ${side('B', b, kind.valueB, kind.labelB)}${facts}`;
}
