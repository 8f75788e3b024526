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
  /**
   * The value of one resolved extent from its block-status flags, deciding layer and kind, where
   * the value depends on nothing else: such an interpretation can be computed while the status
   * streams (status/stream.ts, interpret/mapStream.ts) instead of from a whole ChainStatus.
   */
  readonly extentValue?: (flags: number, layer: number, kind: number) => number;
  /** Whether extents merge only where host offsets continue (qemu-img map's "offset"). */
  readonly keepsHost?: boolean;
  /** Why the byte at `offset` got its value: which flag, which layer, which rule, which release. */
  explain(status: ChainStatus, offset: number): string;
}

/** Receives merged extents: `last` when no extent follows (the map ends with this one). */
export type CollapsedEmit = (
  start: number,
  length: number,
  value: number,
  host: number,
  layer: number,
  last: boolean,
) => void;

/**
 * Merges an interpretation's extents as they arrive: adjacent extents join when values are
 * equal and, if `keepHost`, host offsets continue and the layer is the same (qemu-img map's
 * entry_mergeable()); otherwise hosts are dropped. The entry being extended is held back until
 * one arrives that cannot join it, as qemu-img map holds `curr` until it knows `next`.
 */
export class Collapser {
  /** Entries emitted so far. */
  count = 0;
  private pending = false;
  private start = 0;
  private length = 0;
  private value = 0;
  private host = -1;
  private layer = 0;

  constructor(
    private readonly keepHost: boolean,
    private readonly emit: CollapsedEmit,
  ) {}

  push(start: number, length: number, value: number, host: number, layer: number): void {
    const h = this.keepHost ? host : -1;
    if (
      this.pending &&
      this.value === value &&
      this.start + this.length === start &&
      (h < 0 ? this.host < 0 : this.host >= 0 && this.host + this.length === h) &&
      (!this.keepHost || this.layer === layer)
    ) {
      this.length += length;
      return;
    }
    if (this.pending) {
      this.count++;
      this.emit(this.start, this.length, this.value, this.host, this.layer, false);
    }
    this.pending = true;
    this.start = start;
    this.length = length;
    this.value = value;
    this.host = h;
    this.layer = layer;
  }

  /** Emits the entry held back, as the last. */
  finish(): void {
    if (!this.pending) return;
    this.pending = false;
    this.count++;
    this.emit(this.start, this.length, this.value, this.host, this.layer, true);
  }

  /** Forgets the entry held back: qemu-img never prints it when a later query fails (§4.6). */
  drop(): void {
    this.pending = false;
  }
}

/**
 * Collapses resolved extents into an interpretation's extents: `valueAt` maps a resolved
 * extent to the value (see Collapser for the merge rule).
 */
export function collapse(e: Extents, valueAt: (i: number) => number, keepHost: boolean): Interpreted {
  const n = e.count;
  const start = new Float64Array(n);
  const length = new Float64Array(n);
  const value = new Uint32Array(n);
  const host = new Float64Array(n);
  const layer = new Uint16Array(n);
  let m = 0;
  const c = new Collapser(keepHost, (s, l, v, h, y) => {
    start[m] = s;
    length[m] = l;
    value[m] = v;
    host[m] = h;
    layer[m] = y;
    m++;
  });
  for (let i = 0; i < n; i++) c.push(e.start[i]!, e.length[i]!, valueAt(i), e.host[i]!, e.layer[i]!);
  c.finish();
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

/** compute() of an interpretation with `extentValue`: its value per resolved extent, collapsed. */
export const collapseBy = (
  e: Extents,
  extentValue: (flags: number, layer: number, kind: number) => number,
  keepHost: boolean,
): Interpreted => collapse(e, (i) => extentValue(e.flags[i]!, e.layer[i]!, e.kind[i]!), keepHost);
