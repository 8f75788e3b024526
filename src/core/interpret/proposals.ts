/**
 * Two answers QEMU never gave: proposals from the June 2021 qemu-devel threads that followed
 * commit 0da9856851 (reference §5.2, §5.3). They are here because they are the clearest way to
 * see what the released contexts leave out; every title and explain() says they were not merged.
 *
 * 1. HOLE derived from OFFSET_VALID — **proposed, not merged**. The follow-up patch
 *    "qemu-{img,nbd}: Don't report zeroed cluster as a hole" (June 2021) was rejected (§5.2).
 *    The reference names the patch but does not spell out its rule; the rule implemented is the
 *    one issue 4 states ("DATA when the offset is valid, else ALLOCATED"), read as:
 *
 *        HOLE = OFFSET_VALID ? !DATA : !ALLOCATED        ZERO = ZERO
 *
 *    on the resolved chain status as qemu-nbd's walk sees it (§3.7: the range past a short
 *    backing file is ZERO|ALLOCATED with no offset). So a range with a host offset keeps the
 *    6.0 meaning (raw-file holes and ZERO_ALLOC stay `3 hole,zero`, as 0da9856851 wanted),
 *    while a range without one falls back to the 5.2 meaning (ZERO_PLAIN is `2 zero` again,
 *    which is what oVirt needed). Consequences that differ from both releases: an encrypted
 *    image never has OFFSET_VALID (§3.4), so its ZERO_ALLOC clusters read `2 zero` here.
 *
 * 2. qemu:joint-allocation — **proposed, never merged** (Eric Blake, "[PATCH 2/2] nbd: Add new
 *    qemu:joint-allocation metadata context", 9 June 2021, dropped 14 June; §5.3):
 *
 *        bit 0 NBD_STATE_HOLE, bit 1 NBD_STATE_ZERO   exactly as base:allocation 6.0+
 *        bit 2 NBD_STATE_LOCAL                        qemu:allocation-depth == 1
 *        bit 3 NBD_STATE_BACKING                      qemu:allocation-depth >= 2 (depth not conveyed)
 *
 *    The posting's example (top.qcow2 with "backing": null): 3, 4, 7, 3.
 */
import { describeResolved, resolvedAt } from '../status/describe.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_OFFSET_VALID,
  BDRV_BLOCK_ZERO,
} from '../status/flags.ts';
import type { ChainStatus } from '../status/resolve.ts';
import {
  bit,
  FACT_DATA,
  FACT_DEPTH,
  FACT_HOLE,
  FACT_LOCAL,
  FACT_PRESENT,
  FACT_ZERO,
  UNKNOWN,
} from './facts.ts';
import { collapse, type Interpretation } from './interpretation.ts';
import {
  BASE_ALLOCATION_LABELS,
  baseAllocationValue,
  depthLabel,
  NBD_STATE_HOLE,
  NBD_STATE_ZERO,
  nbdDepth,
  nbdFlags,
} from './nbd.ts';
import { QEMU_5_2, QEMU_6_0 } from './releases.ts';

/** The June 2021 proposal's base:allocation value for resolved flags (module doc, rule 1). */
export const holeFromOffsetValidValue = (flags: number): number => {
  const hole = flags & BDRV_BLOCK_OFFSET_VALID ? !(flags & BDRV_BLOCK_DATA) : !(flags & BDRV_BLOCK_ALLOCATED);
  return (hole ? NBD_STATE_HOLE : 0) | (flags & BDRV_BLOCK_ZERO ? NBD_STATE_ZERO : 0);
};

export const holeFromOffsetValid: Interpretation = {
  id: 'nbd-base-allocation-proposed-2021-06',
  title: 'NBD base:allocation, HOLE from OFFSET_VALID (June 2021 proposal; proposed, not merged)',
  legend: [
    { value: 0, label: 'data', description: 'neither bit: data stored in the image' },
    {
      value: 1,
      label: 'hole',
      description: 'NBD_STATE_HOLE: with a host offset, no DATA; without one, no layer owns it',
    },
    { value: 2, label: 'zero', description: 'NBD_STATE_ZERO: reads as zeroes' },
    { value: 3, label: 'hole,zero', description: 'both bits' },
  ],
  label: (v) => BASE_ALLOCATION_LABELS[v] ?? String(v),
  // HOLE is either rule's, so each value tells half: a HOLE (no DATA with an offset, not
  // ALLOCATED without one) always lacks DATA; no HOLE (DATA, or ALLOCATED) is always owned.
  facts: [FACT_HOLE, FACT_ZERO, FACT_DATA, FACT_PRESENT],
  factsOf: (v) => {
    const hole = v & NBD_STATE_HOLE;
    return [hole, (v & NBD_STATE_ZERO) >>> 1, hole ? 0 : UNKNOWN, hole ? UNKNOWN : 1];
  },
  compute: (st) => collapse(st.extents, (i) => holeFromOffsetValidValue(nbdFlags(st, i)), false),
  explain(st, offset) {
    const r = resolvedAt(st, offset);
    if (!r) return describeResolved(st, offset);
    const f = nbdFlags(st, r.index);
    const v = holeFromOffsetValidValue(f);
    const hole = (v & NBD_STATE_HOLE) !== 0;
    const rule =
      f & BDRV_BLOCK_OFFSET_VALID
        ? `block status has OFFSET_VALID, so HOLE follows DATA (as 6.0+): ${hole ? 'HOLE because there is no DATA' : 'no HOLE because there is DATA'}`
        : `block status has no OFFSET_VALID, so HOLE follows ALLOCATED (as 5.2): ${hole ? 'HOLE because no layer owns the range' : 'no HOLE because a layer owns the range'}`;
    const zero = v & NBD_STATE_ZERO ? 'ZERO because block status has ZERO' : 'no ZERO';
    const same52 = v === baseAllocationValue(f, QEMU_5_2);
    const same60 = v === baseAllocationValue(f, QEMU_6_0);
    const cmp = same52 && same60 ? 'as 5.2 and 6.0' : same52 ? 'as 5.2, unlike 6.0' : 'as 6.0, unlike 5.2';
    return `proposed base:allocation ${v} (${BASE_ALLOCATION_LABELS[v]}; June 2021 proposal, not merged): ${rule}; ${zero}; ${cmp}. ${describeResolved(st, offset)}`;
  },
};

export const NBD_STATE_LOCAL = 4;
export const NBD_STATE_BACKING = 8;

/** qemu:joint-allocation value (module doc, rule 2): base:allocation 6.0+ bits plus ownership. */
export function jointAllocationValue(st: ChainStatus, i: number): number {
  const d = nbdDepth(st, i);
  return (
    baseAllocationValue(nbdFlags(st, i), QEMU_6_0) |
    (d === 1 ? NBD_STATE_LOCAL : 0) |
    (d >= 2 ? NBD_STATE_BACKING : 0)
  );
}

/**
 * Words for a value, the way the RFC libnbd decoder joined bit names ("hole,zero,local");
 * with neither HOLE nor ZERO the range is data, as base:allocation 0 is "data".
 */
export function jointAllocationLabel(v: number): string {
  const names: string[] = [];
  if (!(v & (NBD_STATE_HOLE | NBD_STATE_ZERO))) names.push('data');
  if (v & NBD_STATE_HOLE) names.push('hole');
  if (v & NBD_STATE_ZERO) names.push('zero');
  if (v & NBD_STATE_LOCAL) names.push('local');
  if (v & NBD_STATE_BACKING) names.push('backing');
  return names.join(',');
}

export const jointAllocation: Interpretation = {
  id: 'nbd-joint-allocation-proposed-2021-06',
  title: 'NBD qemu:joint-allocation (June 2021 proposal; proposed, never merged)',
  legend: [
    { value: 3, label: 'hole,zero', description: 'no layer owns it; reads as zero' },
    { value: 4, label: 'data,local', description: 'data owned by the top layer' },
    { value: 7, label: 'hole,zero,local', description: 'the top owns it without storage (zero cluster)' },
    { value: 8, label: 'data,backing', description: 'data owned by a backing layer' },
    {
      value: 11,
      label: 'hole,zero,backing',
      description: 'a backing layer owns it without storage (or it lies past a short backing file)',
    },
  ],
  label: jointAllocationLabel,
  // base:allocation 6.0+ bits plus ownership; BACKING does not convey which layer.
  facts: [FACT_HOLE, FACT_ZERO, FACT_DATA, FACT_PRESENT, FACT_LOCAL, FACT_DEPTH],
  factsOf: (v) => [
    v & NBD_STATE_HOLE,
    (v & NBD_STATE_ZERO) >>> 1,
    bit(!(v & NBD_STATE_HOLE)),
    bit((v & (NBD_STATE_LOCAL | NBD_STATE_BACKING)) !== 0),
    bit((v & NBD_STATE_LOCAL) !== 0),
    v & NBD_STATE_LOCAL ? 0 : UNKNOWN,
  ],
  compute: (st) => collapse(st.extents, (i) => jointAllocationValue(st, i), false),
  explain(st, offset) {
    const r = resolvedAt(st, offset);
    if (!r) return describeResolved(st, offset);
    const v = jointAllocationValue(st, r.index);
    const d = nbdDepth(st, r.index);
    const base = v & (NBD_STATE_HOLE | NBD_STATE_ZERO);
    const own =
      d === 0
        ? 'neither LOCAL nor BACKING because qemu:allocation-depth is 0 (absent)'
        : d === 1
          ? 'LOCAL because qemu:allocation-depth is 1 (the top owns it)'
          : `BACKING because qemu:allocation-depth is ${d} (${depthLabel(d)}; the depth itself is not conveyed)`;
    return `proposed qemu:joint-allocation ${v} (${jointAllocationLabel(v)}; June 2021 proposal, never merged): HOLE/ZERO bits ${base} (${BASE_ALLOCATION_LABELS[base]}) as base:allocation 6.0+; ${own}. ${describeResolved(st, offset)}`;
  },
};
