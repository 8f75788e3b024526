/**
 * An interpretation turns resolved chain status into what one tool, in one release, reports:
 * a pure function from ChainStatus to its own extents, with a legend and an explanation in
 * words for any offset (ARCHITECTURE.md).
 */
import type { Extents } from '../status/extents.ts';
import type { ChainStatus } from '../status/resolve.ts';
import type { Meaning } from './facts.ts';

export interface LegendEntry {
  readonly value: number;
  readonly label: string;
  readonly description: string;
}

/** Extents of one interpretation: a 32-bit value per extent, plus a host offset where it has one. */
export interface Interpreted {
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly value: Uint32Array;
  /** Host offset of the first byte, -1 for none (qemu-img map's "offset"). */
  readonly host: Float64Array;
  /** Deciding layer of the first byte (0 = top), for file names. */
  readonly layer: Uint16Array;
}

/**
 * One tool's answer. As a Meaning (facts.ts) it also says which facts about a byte its values
 * tell, so a diff can compare meanings rather than encodings.
 */
export interface Interpretation extends Meaning {
  readonly id: string;
  readonly title: string;
  readonly legend: readonly LegendEntry[];
  /** Label for a value not in the legend (e.g. "backing depth 7"). */
  label(value: number): string;
  compute(status: ChainStatus): Interpreted;
  /** Why the byte at `offset` got its value: which flag, which layer, which rule, which release. */
  explain(status: ChainStatus, offset: number): string;
}

/**
 * Collapses resolved extents into an interpretation's extents: `valueAt` maps a resolved
 * extent to the value; adjacent extents merge when values are equal and, if `keepHost`, host
 * offsets continue (qemu-img map's entry_mergeable()); otherwise hosts are dropped.
 */
export function collapse(e: Extents, valueAt: (i: number) => number, keepHost: boolean): Interpreted {
  const n = e.count;
  const start = new Float64Array(n);
  const length = new Float64Array(n);
  const value = new Uint32Array(n);
  const host = new Float64Array(n);
  const layer = new Uint16Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = valueAt(i);
    const h = keepHost ? e.host[i]! : -1;
    if (m > 0) {
      const j = m - 1;
      const hj = host[j]!;
      if (
        value[j] === v &&
        start[j]! + length[j]! === e.start[i] &&
        (h < 0 ? hj < 0 : hj >= 0 && hj + length[j]! === h) &&
        (!keepHost || layer[j] === e.layer[i])
      ) {
        length[j]! += e.length[i]!;
        continue;
      }
    }
    start[m] = e.start[i]!;
    length[m] = e.length[i]!;
    value[m] = v;
    host[m] = h;
    layer[m] = e.layer[i]!;
    m++;
  }
  return {
    count: m,
    start: start.slice(0, m),
    length: length.slice(0, m),
    value: value.slice(0, m),
    host: host.slice(0, m),
    layer: layer.slice(0, m),
  };
}

/**
 * The legend of what `x` holds: the interpretation's legend, then each value it does not list
 * (a backing depth past those named, say) in ascending order with `label(value)`, so every value
 * shown has a label and a colour of its own.
 */
export function presentLegend(i: Pick<Interpretation, 'legend' | 'label'>, x: Interpreted): LegendEntry[] {
  const listed = new Set(i.legend.map((l) => l.value));
  const more = new Set<number>();
  for (let k = 0; k < x.count; k++) {
    const v = x.value[k]!;
    if (!listed.has(v)) more.add(v);
  }
  return [
    ...i.legend,
    ...[...more]
      .sort((p, q) => p - q)
      .map((value) => ({ value, label: i.label(value), description: i.label(value) })),
  ];
}
