/**
 * What qemu-nbd serves and nbdinfo --map prints (reference §5): the `base:allocation`
 * context in the semantics of QEMU 6.0+ and of 5.2 and older, and `qemu:allocation-depth`.
 * Both walk the chain as bdrv_co_common_block_status_above() does; a byte past the end of a
 * shorter backing file is ZERO|ALLOCATED attributed to that backing layer (§3.7).
 */
import { decimal } from '../format.ts';
import { describeResolved, resolvedAt } from '../status/describe.ts';
import { BDRV_BLOCK_ALLOCATED, BDRV_BLOCK_DATA, BDRV_BLOCK_ZERO } from '../status/flags.ts';
import { type ChainStatus, SYNTH_BEYOND_BACKING_EOF } from '../status/resolve.ts';
import { AsciiWriter } from './asciiWriter.ts';
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
import { ALLOCATION_DEPTH_ID, baseAllocationId } from './ids.ts';
import { collapseBy, type Interpretation, type Interpreted } from './interpretation.ts';
import { QEMU_6_0, QEMU_NEWEST } from './releases.ts';

export const NBD_STATE_HOLE = 1;
export const NBD_STATE_ZERO = 2;
/** qemu-nbd 6.0 (commit 0da9856851) made HOLE mean "not DATA" instead of "not ALLOCATED". */
export const RELEASE_HOLE_IS_NOT_DATA = QEMU_6_0;

/** Resolved flags as the NBD walk sees them: the synthesized beyond-EOF case is ZERO|ALLOCATED. */
export const nbdFlagsOf = (f: number): number =>
  f & SYNTH_BEYOND_BACKING_EOF ? BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED : f;

export const nbdFlags = (st: ChainStatus, i: number): number => nbdFlagsOf(st.extents.flags[i]!);

/** qemu:allocation-depth of resolved flags and layer: 1 = top, N = the N-th layer, 0 = found in no layer. */
export function nbdDepthOf(f: number, layer: number): number {
  if (f & SYNTH_BEYOND_BACKING_EOF) return layer + 2;
  return f & BDRV_BLOCK_ALLOCATED ? layer + 1 : 0;
}

export const nbdDepth = (st: ChainStatus, i: number): number =>
  nbdDepthOf(st.extents.flags[i]!, st.extents.layer[i]!);

export const baseAllocationValue = (flags: number, release: number): number => {
  const hole =
    release >= RELEASE_HOLE_IS_NOT_DATA ? !(flags & BDRV_BLOCK_DATA) : !(flags & BDRV_BLOCK_ALLOCATED);
  return (hole ? NBD_STATE_HOLE : 0) | (flags & BDRV_BLOCK_ZERO ? NBD_STATE_ZERO : 0);
};

/** nbdinfo's words for base:allocation values (libnbd >= 1.8.1; "data" was "allocated"). */
export const BASE_ALLOCATION_LABELS = ['data', 'hole', 'zero', 'hole,zero'] as const;

export function baseAllocation(release = QEMU_NEWEST): Interpretation {
  const newer = release >= RELEASE_HOLE_IS_NOT_DATA;
  const extentValue = (flags: number) => baseAllocationValue(nbdFlagsOf(flags), release);
  return {
    id: baseAllocationId(release),
    title: `NBD base:allocation (qemu-nbd ${newer ? '6.0 and newer' : '5.2 and older'})`,
    legend: [
      { value: 0, label: 'data', description: 'neither bit: data stored in the image' },
      {
        value: 1,
        label: 'hole',
        description: `NBD_STATE_HOLE: ${newer ? 'no host storage (not DATA)' : 'not allocated in the chain'}`,
      },
      { value: 2, label: 'zero', description: 'NBD_STATE_ZERO: reads as zeroes' },
      { value: 3, label: 'hole,zero', description: 'both bits' },
    ],
    label: (v) => BASE_ALLOCATION_LABELS[v] ?? String(v),
    // The HOLE bit itself, and what it stands for under this release's rule: not DATA (6.0+) or
    // not ALLOCATED (5.2 and older).
    facts: [FACT_HOLE, FACT_ZERO, newer ? FACT_DATA : FACT_PRESENT],
    factsOf: (v) => [v & NBD_STATE_HOLE, (v & NBD_STATE_ZERO) >>> 1, bit(!(v & NBD_STATE_HOLE))],
    extentValue,
    keepsHost: false,
    compute: (st) => collapseBy(st.extents, extentValue, false),
    explain(st, offset) {
      const r = resolvedAt(st, offset);
      if (!r) return describeResolved(st, offset);
      const flags = nbdFlags(st, r.index);
      const v = baseAllocationValue(flags, release);
      const hole = (v & NBD_STATE_HOLE) !== 0;
      const holeRule = newer
        ? hole
          ? `HOLE because block status has no DATA: no host storage backs this range (qemu-nbd 6.0+, commit 0da9856851)`
          : `no HOLE because block status has DATA: host storage backs this range (qemu-nbd 6.0+)`
        : hole
          ? `HOLE because block status has no ALLOCATED: no layer of the chain owns this range (qemu-nbd 5.2 and older)`
          : `no HOLE because block status has ALLOCATED: a layer owns this range (qemu-nbd 5.2 and older)`;
      const zeroRule =
        v & NBD_STATE_ZERO
          ? 'ZERO because block status has ZERO'
          : 'no ZERO because block status has no ZERO';
      const synth = r.beyondBackingEof
        ? ' The walk reached past the end of the backing file, which QEMU answers as ZERO|ALLOCATED.'
        : '';
      return `base:allocation ${v} (${BASE_ALLOCATION_LABELS[v]}): ${holeRule}; ${zeroRule}. ${describeResolved(st, offset)}${synth}`;
    },
  };
}

export const depthLabel = (v: number): string =>
  v === 0 ? 'absent' : v === 1 ? 'local' : `backing depth ${v}`;

export const allocationDepth: Interpretation = {
  id: ALLOCATION_DEPTH_ID,
  title: 'NBD qemu:allocation-depth',
  legend: [
    { value: 0, label: 'absent', description: 'no layer of the chain allocates it' },
    { value: 1, label: 'local', description: 'the top layer owns it' },
    { value: 2, label: 'backing depth 2', description: "the top's backing file owns it" },
  ],
  label: depthLabel,
  // Depth N >= 1 is layer N - 1 in qemu-img map's counting; 0 (absent) names no layer.
  facts: [FACT_PRESENT, FACT_LOCAL, FACT_DEPTH],
  factsOf: (d) => [bit(d > 0), bit(d === 1), d > 0 ? d - 1 : UNKNOWN],
  extentValue: nbdDepthOf,
  keepsHost: false,
  compute: (st) => collapseBy(st.extents, nbdDepthOf, false),
  explain(st, offset) {
    const r = resolvedAt(st, offset);
    if (!r) return describeResolved(st, offset);
    const d = nbdDepth(st, r.index);
    const why = r.beyondBackingEof
      ? `the range lies past the end of layer ${r.layer + 2}, which QEMU treats as owned (zero) by that short layer`
      : d === 0
        ? 'no layer allocates it'
        : `layer ${d} is the first, counting the top as 1, whose block status has ALLOCATED`;
    return `qemu:allocation-depth ${d} (${depthLabel(d)}): ${why}. ${describeResolved(st, offset)}`;
  },
};

/**
 * nbdinfo --map text, line by line: printf("%10" PRIu64 "  %10" PRIu64 "  %3" PRIu32 "  %s\n")
 * (libnbd info/map.c), numbers printed exactly past 2^53.
 */
export class NbdinfoTextWriter {
  constructor(
    readonly w: AsciiWriter,
    private readonly label: (v: number) => string,
  ) {}
  begin(): void {}
  entry(start: number, length: number, v: number): void {
    this.w.text(
      `${decimal(start).padStart(10)}  ${decimal(length).padStart(10)}  ${String(v).padStart(3)}  ${this.label(v)}\n`,
    );
  }
  end(_count: number): void {}
}

/** nbdinfo --map --json, row by row: "[\n", rows joined by ",\n", "\n]\n". */
export class NbdinfoJsonWriter {
  constructor(
    readonly w: AsciiWriter,
    private readonly label: (v: number) => string,
  ) {}
  begin(): void {
    this.w.text('[\n');
  }
  entry(start: number, length: number, v: number, last: boolean): void {
    this.w.text(
      `{ "offset": ${decimal(start)}, "length": ${decimal(length)}, "type": ${v}, "description": "${this.label(v)}"}${last ? '' : ',\n'}`,
    );
  }
  end(_count: number): void {
    this.w.text('\n]\n');
  }
}

/** nbdinfo --map text of a computed map. */
export function formatNbdinfo(m: Interpreted, label: (v: number) => string): string {
  const tw = new NbdinfoTextWriter(new AsciiWriter(), label);
  for (let i = 0; i < m.count; i++) tw.entry(m.start[i]!, m.length[i]!, m.value[i]!);
  return new TextDecoder().decode(tw.w.result());
}

/** nbdinfo --map --json text of a computed map. */
export function formatNbdinfoJson(m: Interpreted, label: (v: number) => string): string {
  const jw = new NbdinfoJsonWriter(new AsciiWriter(), label);
  jw.begin();
  for (let i = 0; i < m.count; i++) jw.entry(m.start[i]!, m.length[i]!, m.value[i]!, i === m.count - 1);
  jw.end(m.count);
  return new TextDecoder().decode(jw.w.result());
}

export type { Interpreted };
