/**
 * "Written in the top layer": the ranges the top of a chain holds itself (qemu:allocation-depth
 * 1), read as what changed since the top was made. An external snapshot is a checkpoint: the
 * overlay created at that moment receives every later write, write-zeroes and (with a backing
 * file) discard. So it states the same `dirty` fact a persistent bitmap does (facts.ts
 * dirtyFact), and a diff of a bitmap against it asks the question backup tools argue about:
 * what changed since the checkpoint, against what the overlay holds. Where they differ, the
 * reasons say why (a bitmap added later, granules larger than clusters, a discard in an image
 * without a backing file, which leaves nothing allocated).
 */
import { describeResolved, resolvedAt } from '../status/describe.ts';
import { bit, FACT_LOCAL, type Fact, UNKNOWN } from './facts.ts';
import { collapse, type Interpretation } from './interpretation.ts';
import { nbdDepth } from './nbd.ts';

export const WRITTEN_IN_TOP_ID = 'written-in-top';

/** The `dirty` fact as the top layer's allocation tells it. */
export const FACT_WRITTEN_IN_TOP: Fact = {
  id: 'dirty',
  label: 'written since the top layer was made',
  description:
    'the top layer holds the range (qemu:allocation-depth 1): it was written, zeroed or (with a backing file) discarded after the top was created',
  words: (v) => (v === UNKNOWN ? 'does not tell' : v ? 'yes' : 'no'),
};

export const writtenInTop: Interpretation = {
  id: WRITTEN_IN_TOP_ID,
  title: 'written in the top layer (qemu:allocation-depth 1)',
  legend: [
    {
      value: 0,
      label: 'not in top',
      description: 'the top layer does not hold it: a layer below answers, or none',
    },
    { value: 1, label: 'in top', description: 'the top layer holds it: written since the top was made' },
  ],
  label: (v) => (v ? 'in top' : 'not in top'),
  facts: [FACT_LOCAL, FACT_WRITTEN_IN_TOP],
  factsOf: (v) => [bit(v === 1), bit(v === 1)],
  compute: (st) => collapse(st.extents, (i) => bit(nbdDepth(st, i) === 1), false),
  explain(st, offset) {
    const r = resolvedAt(st, offset);
    if (!r) return describeResolved(st, offset);
    const d = nbdDepth(st, r.index);
    const top = st.chain.layers[0]?.name ?? 'the top';
    const why =
      d === 1
        ? `${top} holds the range itself (qemu:allocation-depth 1), so it was written, zeroed or discarded over a backing file after ${top} was made`
        : d === 0
          ? `no layer holds the range (qemu:allocation-depth 0): never written, or discarded in an image without a backing file, which leaves nothing allocated`
          : `${top} does not hold the range: layer ${d} answers (qemu:allocation-depth ${d}), so it was not written in ${top}`;
    return `${why}. ${describeResolved(st, offset)}`;
  },
};
