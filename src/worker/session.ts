/**
 * What the worker keeps for one opened chain: the resolved status, each interpretation's
 * extents (computed once), and refcount readers made on first use. Answers bin and hit-test
 * requests from them.
 */
import type { Chain } from '../core/chain/chain.ts';
import type { Layer } from '../core/chain/layer.ts';
import type { Interpretation, Interpreted } from '../core/interpret/interpretation.ts';
import { allocationDepth, baseAllocation, formatNbdinfo } from '../core/interpret/nbd.ts';
import { formatMapJson, qemuImgMap } from '../core/interpret/qemuImgMap.ts';
import { QEMU_5_2 } from '../core/interpret/releases.ts';
import { encodeLinkMap, type LinkMapEntry } from '../core/share/mapCodec.ts';
import { describeResolved, resolvedAt } from '../core/status/describe.ts';
import { flagNames } from '../core/status/flags.ts';
import { kindName } from '../core/status/kinds.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import { binStatus, mappedEnd } from './bins.ts';
import type { DroppedChain } from './chainFiles.ts';
import { toErrorInfo, toFindingInfo } from './errorInfo.ts';
import { l2EntryAt } from './l2Lookup.ts';
import { fingerprintLayer } from './mapFileIdentity.ts';
import type { ChainInfo, ExportFormat, HitDetail, InterpretationValue, LayerInfo } from './protocol.ts';
import { computeTracks } from './tracks.ts';

export const INTERPRETATIONS: readonly Interpretation[] = [
  qemuImgMap(),
  baseAllocation(),
  baseAllocation(QEMU_5_2),
  allocationDepth,
];

const layerInfo = (l: Layer): LayerInfo =>
  l.format === 'raw'
    ? { name: l.name, format: 'raw', virtualSize: l.length, fileSize: l.fileSize }
    : {
        name: l.name,
        format: 'qcow2',
        virtualSize: l.length,
        fileSize: l.source.size,
        clusterSize: l.header.clusterSize,
        version: l.header.version,
        extendedL2: l.header.extendedL2,
        compressionType: l.header.compressionType,
        ...(l.backingName !== undefined && { backingName: l.backingName }),
        ...(l.backingFormat !== undefined && { backingFormat: l.backingFormat }),
        snapshots: l.header.nbSnapshots,
        encrypted: l.encrypted,
      };

export const gridClusterSize = (chain: Chain): number => {
  const top = chain.layers[0]!;
  return top.format === 'qcow2' ? top.header.clusterSize : 512;
};

/** Index of the interval of `m` that holds `pos`, or -1. */
function findIn(m: Interpreted, pos: number): number {
  let lo = 0;
  let hi = m.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (pos < m.start[mid]!) hi = mid - 1;
    else if (pos >= m.start[mid]! + m.length[mid]!) lo = mid + 1;
    else return mid;
  }
  return -1;
}

export class Session {
  private readonly computed: readonly Interpreted[];
  /** fnv1a64 of the top's header + L1 table, once fingerprint() has run (permalinks). */
  private fp?: string;

  constructor(
    readonly dropped: DroppedChain,
    readonly status: ChainStatus,
  ) {
    this.computed = INTERPRETATIONS.map((i) => i.compute(status));
  }

  get chain(): Chain {
    return this.status.chain;
  }

  async fingerprint(): Promise<string> {
    this.fp ??= await fingerprintLayer(this.status.chain.layers[0]!);
    return this.fp;
  }

  /** The interpretations' extents in link form (core/share/mapCodec.ts), for "Copy link with map"; `extra`: the diff's sides. */
  shareMap(extra: readonly LinkMapEntry[] = []): string {
    const maps = [...INTERPRETATIONS.map((i, k) => ({ id: i.id, extents: this.computed[k]! })), ...extra];
    return encodeLinkMap({ length: this.status.length, layerCount: this.status.chain.layers.length, maps });
  }

  /** Chain info for the UI, with copies of the extent arrays the caller may transfer. */
  info(): ChainInfo {
    const st = this.status;
    const e = st.extents;
    return {
      layers: st.chain.layers.map(layerInfo),
      length: st.length,
      clusterSize: gridClusterSize(st.chain),
      ...(this.fp !== undefined && { fingerprint: this.fp }),
      ...(this.dropped.missingBacking && { missingBacking: this.dropped.missingBacking }),
      ...(st.error && { error: toErrorInfo(st.error), errorAt: mappedEnd(st) }),
      findings: [
        ...st.chain.layers.flatMap((l) => (l.format === 'qcow2' ? l.findings : [])),
        ...st.findings,
      ].map(toFindingInfo),
      rejected: this.dropped.rejected,
      unused: this.dropped.unused,
      extents: {
        count: e.count,
        start: e.start.slice(),
        length: e.length.slice(),
        kind: e.kind.slice(),
        flags: e.flags.slice(),
        layer: e.layer.slice(),
        host: e.host.slice(),
      },
    };
  }

  /** qemu-img map --output=json, or nbdinfo --map of base:allocation, as `release` prints them. */
  export(format: ExportFormat, release: number): string {
    if (format === 'qemu-img-map-json')
      return formatMapJson(qemuImgMap(release).compute(this.status), release);
    const nbd = baseAllocation(release);
    return formatNbdinfo(nbd.compute(this.status), nbd.label);
  }

  /** Track lanes for [start, end) at `px` columns, packed lane after lane. */
  tracks(start: number, end: number, px: number): { lanes: number; values: Uint8Array } {
    const c = this.computed;
    const lanes = computeTracks(this.status, c[0]!, c[1]!, c[3]!, start, end, px);
    const values = new Uint8Array(lanes.length * px);
    for (const [i, l] of lanes.entries()) values.set(l, i * px);
    return { lanes: lanes.length, values };
  }

  bins(start: number, end: number, n: number): Float32Array {
    return binStatus(this.status, start, end, n);
  }

  async hit(offset: number): Promise<HitDetail | undefined> {
    const st = this.status;
    if (!(offset >= 0 && offset < st.length)) return undefined;
    const cs = gridClusterSize(st.chain);
    const top = st.chain.layers[0]!;
    const clusterStart = offset - (offset % cs);
    const r = resolvedAt(st, offset);
    const deepest = r ? r.layer : 0;
    const entries = [];
    for (let li = 0; li <= deepest && li < st.chain.layers.length; li++) {
      const e = await l2EntryAt(st.chain.layers[li]!, li, offset);
      if (e) entries.push(e);
    }
    const values: InterpretationValue[] = r
      ? INTERPRETATIONS.map((interp, k) => {
          const m = this.computed[k]!;
          const i = findIn(m, offset);
          const value = i < 0 ? 0 : m.value[i]!;
          return {
            id: interp.id,
            title: interp.title,
            value,
            label: interp.label(value),
            explain: interp.explain(st, offset),
          };
        })
      : [];
    const sub = top.format === 'qcow2' && top.header.extendedL2;
    return {
      offset,
      clusterStart,
      clusterEnd: Math.min(clusterStart + cs, st.length),
      clusterIndex: Math.floor(offset / cs),
      ...(sub && { subclusterIndex: Math.floor((offset % cs) / (cs / 32)) }),
      layer: r?.layer ?? 0,
      layerName: r?.layerName ?? top.name,
      kind: r ? kindName(r.kind) : 'INVALID',
      flags: r ? flagNames(r.flags) : '-',
      hostOffset: r?.host ?? -1,
      entries,
      values,
      summary: r
        ? describeResolved(st, offset)
        : `QEMU refuses to read here: ${st.error?.message ?? 'past the end of the mapped range'}`,
    };
  }
}
