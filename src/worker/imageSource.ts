/**
 * An opened image chain as a source (source.ts): its resolved status for each view, built once
 * and kept (the chain as opened, backing: null, an internal snapshot's L1, zero-scanned), each
 * view's interpretations computed on first use. While the open goes on, the default view is the
 * partial map so far; choosing a snapshot asks for a view, it replaces nothing.
 */

import { checkpoint } from '../core/cancel.ts';
import type { Chain } from '../core/chain/chain.ts';
import { describeChain, hostFileName } from '../core/chain/describe.ts';
import type { Layer } from '../core/chain/layer.ts';
import type { CheckResult } from '../core/check/result.ts';
import type { Finding } from '../core/findings.ts';
import { binarySize, hex } from '../core/format.ts';
import { dirtyBitmapEntry } from '../core/interpret/bitmap.ts';
import { type CatalogueEntry, catalogueEntry } from '../core/interpret/catalogue.ts';
import { type HostHoleReport, hostHoleReport } from '../core/interpret/hostHoles.ts';
import { dirtyBitmapName } from '../core/interpret/ids.ts';
import type { Interpretation, Interpreted } from '../core/interpret/interpretation.ts';
import { allocationDepth, baseAllocation, formatNbdinfo } from '../core/interpret/nbd.ts';
import {
  formatMapJson,
  MAP_DATA,
  MAP_DEPTH_SHIFT,
  MAP_PRESENT,
  MAP_ZERO,
  qemuImgMap,
} from '../core/interpret/qemuImgMap.ts';
import { QEMU_5_2 } from '../core/interpret/releases.ts';
import {
  describeView,
  formatView,
  parseView,
  type ViewSource,
  viewStatus,
} from '../core/interpret/viewSource.ts';
import { plainError, plainFinding } from '../core/plainError.ts';
import { entryDetail } from '../core/qcow2/lookup.ts';
import { readSnapshotL1, readSnapshots, type Snapshot } from '../core/qcow2/snapshots.ts';
import { binChain, CHAIN_LANE_NAMES, chainLanes, mappedEnd } from '../core/raster/chain.ts';
import { chainClassKeys } from '../core/raster/classes.ts';
import type { LaneRuns } from '../core/raster/lanes.ts';
import { runAt } from '../core/runs/runs.ts';
import type { LinkMap } from '../core/share/mapCodec.ts';
import { describeResolved, resolvedAt } from '../core/status/describe.ts';
import { flagNames } from '../core/status/flags.ts';
import { kindName } from '../core/status/kinds.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import { isZeroScanned, zeroScanReport } from '../core/status/zeroScan.ts';
import type { FindingInfo } from '../protocol/errors.ts';
import type {
  ExportFormat,
  ExportResult,
  Hit,
  HostMapBins,
  ImageReport,
  InterpretationValue,
  L2EntryInfo,
  RowsPage,
  SnapshotName,
} from '../protocol/results.ts';
import type {
  BitmapInfo,
  ChainInfo,
  HostHoleInfo,
  LayerInfo,
  SourceId,
  ViewInfo,
} from '../protocol/source.ts';
import {
  bitmapInfos,
  bitmapInterpretations,
  bitmapLaneInfos,
  bitmapLaneRuns,
  bitmapRaster,
  exportedBitmap,
  hitBitmaps,
  loadSourceBitmaps,
  type SourceBitmap,
} from './bitmaps.ts';
import { MAX_FINDINGS_LISTED, MAX_SNAPSHOT_CHOICES, VIEWS_KEPT } from './budgets.ts';
import type { DroppedChain } from './chainFiles.ts';
import { fingerprintLayer } from './fingerprint.ts';
import { hostMapBins, imageReport } from './imageReport.ts';
import { listPage, type RowsQuery, rowsPage } from './rows.ts';
import { exportError, type MapSource, type SideData, SourceError } from './source.ts';

/** What the inspector states for every cluster, and a plain link map carries. */
export const INTERPRETATIONS: readonly Interpretation[] = [
  qemuImgMap(),
  baseAllocation(),
  baseAllocation(QEMU_5_2),
  allocationDepth,
];
const MAP = INTERPRETATIONS[0]!;

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
        ...(l.dataFileName !== undefined && { dataFile: l.dataFileName }),
        snapshots: l.header.nbSnapshots,
        encrypted: l.encrypted,
      };

export const gridClusterSize = (chain: Chain): number => {
  const top = chain.layers[0]!;
  return top.format === 'qcow2' ? top.header.clusterSize : 512;
};

const extendedL2 = (chain: Chain): boolean => {
  const top = chain.layers[0]!;
  return top.format === 'qcow2' && top.header.extendedL2;
};

/** A zero-scanned view's host holes: none left to guess (the scan read what the holes would be). */
const SCANNED: HostHoleReport = {
  exposures: [],
  bytes: 0,
  scan: { bytes: 0, maxExtraBytes: 0, pastEofBytes: 0, notReadBytes: 0, layers: [] },
  summary: '',
};

/** One view's status, with its interpretations (and its host-hole report) made on first use. */
class View {
  private readonly computed = new Map<string, Interpreted>();
  private holes?: HostHoleReport;
  constructor(
    readonly key: string,
    readonly status: ChainStatus,
    /** The top's L1 the view reads through, when not the active one (a snapshot's). */
    readonly topL1?: Uint32Array,
  ) {}
  interp(i: Interpretation): Interpreted {
    let m = this.computed.get(i.id + i.title);
    if (!m) {
      m = i.compute(this.status);
      this.computed.set(i.id + i.title, m);
    }
    return m;
  }
  /** Where host holes could change QEMU's answer (none once the view is zero-scanned: the scan answered). */
  hostHoles(): HostHoleReport {
    this.holes ??= isZeroScanned(this.status) ? SCANNED : hostHoleReport(this.status);
    return this.holes;
  }
  private readonly memos = new Map<string, unknown>();
  /** Anything else the view computes once (a bitmap's raster). */
  memo<T>(key: string, make: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, make());
    return this.memos.get(key) as T;
  }
}

const boolCell = (b: boolean) => (b ? 'yes' : 'no');

/** The first MAX_FINDINGS_LISTED findings for the page, and one more counting the rest. */
function listedFindings(all: readonly Finding[]): FindingInfo[] {
  const listed = all.slice(0, MAX_FINDINGS_LISTED).map(plainFinding);
  if (all.length > MAX_FINDINGS_LISTED) {
    listed.push({
      file: all[0]!.file,
      structure: 'findings',
      message: `${all.length - MAX_FINDINGS_LISTED} more findings not listed (MAX_FINDINGS_LISTED ${MAX_FINDINGS_LISTED})`,
    });
  }
  return listed;
}

export class ImageSource implements MapSource {
  private views = new Map<string, Promise<View>>();
  /** Who hears a view's content scan progress (every caller waiting on that view's build). */
  private scanListeners = new Map<string, Set<(done: number, total: number) => void>>();
  private current: View;
  private complete = false;
  private end: number;
  private fp?: string;
  /** The last qemu-img check's result (the host map marks leaked and shared clusters). */
  private checked?: CheckResult;
  /** Persistent bitmaps of every layer (bitmaps.ts), read once the open is done. */
  private bitmapList: SourceBitmap[] = [];
  private bitmapSummary: BitmapInfo[] = [];
  private bitmapsOmitted = 0;

  constructor(
    readonly id: SourceId,
    readonly dropped: DroppedChain,
    status: ChainStatus,
  ) {
    this.current = new View('', status);
    this.views.set('', Promise.resolve(this.current));
    this.end = mappedEnd(status);
  }

  get chain(): Chain {
    return this.dropped.chain;
  }

  get status(): ChainStatus {
    return this.current.status;
  }

  /** A newer part of the open's map (partial: extents over [0, end)), or the whole of it (complete). */
  update(status: ChainStatus, complete: boolean, end = mappedEnd(status)): void {
    this.current = new View('', status);
    this.views.set('', Promise.resolve(this.current));
    this.complete = complete;
    this.end = complete ? mappedEnd(status) : end;
  }

  /** Reads every layer's persistent bitmaps and the bits QEMU would read (after the open). */
  async loadBitmaps(): Promise<void> {
    const { list, omitted } = await loadSourceBitmaps(this.chain);
    this.bitmapList = list;
    this.bitmapsOmitted = omitted;
    this.bitmapSummary = bitmapInfos(list, this.status, this.laneCount());
  }

  /** Lanes before the bitmaps': each layer, then the chain's three interpretations. */
  private laneCount(): number {
    return this.chain.layers.length + CHAIN_LANE_NAMES.length;
  }

  async fingerprint(): Promise<string> {
    this.fp ??= await fingerprintLayer(this.chain.layers[0]!);
    return this.fp;
  }

  info(): ChainInfo {
    const st = this.status;
    const layers = st.chain.layers;
    return {
      kind: 'image',
      id: this.id,
      layers: layers.map(layerInfo),
      length: st.length,
      clusterSize: gridClusterSize(st.chain),
      subclusters: extendedL2(st.chain),
      classes: chainClassKeys(layers.length),
      lanes: [
        ...layers.map((l) => ({ name: l.name })),
        ...CHAIN_LANE_NAMES.map((name) => ({ name })),
        ...bitmapLaneInfos(this.bitmapList, layers.length),
      ],
      ...(this.bitmapSummary.length > 0 && { bitmaps: this.bitmapSummary }),
      ...(this.bitmapsOmitted > 0 && { bitmapsOmitted: this.bitmapsOmitted }),
      complete: this.complete,
      mappedEnd: this.end,
      ...(this.fp !== undefined && { fingerprint: this.fp }),
      ...(this.dropped.missingBacking && { missingBacking: this.dropped.missingBacking }),
      ...(st.error && { error: plainError(st.error), errorAt: mappedEnd(st) }),
      findings: listedFindings([
        ...layers.flatMap((l) => (l.format === 'qcow2' ? l.findings : [])),
        ...st.findings,
      ]),
      rejected: this.dropped.rejected,
      unused: this.dropped.unused,
      ...(this.dropped.probedRaw !== undefined && { probedRaw: this.dropped.probedRaw }),
      files: describeChain(st.chain),
    };
  }

  /**
   * The view `key` names, built once and kept while it is among the VIEWS_KEPT used last besides
   * the chain as opened (a failed or cancelled build is not kept).
   */
  private viewOf(key: string, signal: AbortSignal): Promise<View> {
    const v = parseView(key);
    const canon = formatView(v);
    let p = this.views.get(canon);
    if (p) {
      // Most recently used last: the map's insertion order is the eviction order.
      this.views.delete(canon);
      this.views.set(canon, p);
      return p;
    }
    p = this.build(canon, v, signal);
    this.views.set(canon, p);
    p.catch(() => {
      if (this.views.get(canon) === p) this.views.delete(canon);
    });
    for (const k of this.views.keys()) {
      if (this.views.size <= VIEWS_KEPT + 1) break;
      if (k !== '') this.views.delete(k);
    }
    return p;
  }

  /** How many views are kept now, the chain as opened included (for tests). */
  get viewsKept(): number {
    return this.views.size;
  }

  private async build(key: string, v: ViewSource, signal: AbortSignal): Promise<View> {
    if (!this.complete)
      throw new SourceError('views other than the chain as opened wait until the open is done');
    const status = await viewStatus(this.chain, v, {
      signal,
      onScanProgress: (done, total) => {
        for (const f of this.scanListeners.get(key) ?? []) f(done, total);
      },
    });
    const top = this.chain.layers[0]!;
    let topL1: Uint32Array | undefined;
    if (v.snapshot !== undefined && top.format === 'qcow2') {
      const snaps = await readSnapshots(top);
      const snap = snaps.find((s) => s.name === v.snapshot) ?? snaps.find((s) => s.id === v.snapshot);
      if (snap) topL1 = await readSnapshotL1(top, snap);
    }
    return new View(key, status, topL1);
  }

  /** The view `key`, with `progress` hearing its content scan (if it scans) while it is built. */
  private async viewHeard(
    key: string,
    signal: AbortSignal,
    progress?: (phase: string, done: number, total: number) => void,
  ): Promise<View> {
    const canon = formatView(parseView(key));
    const listen = progress && ((done: number, total: number) => progress('content scan', done, total));
    if (!listen) return this.viewOf(key, signal);
    const set = this.scanListeners.get(canon) ?? new Set();
    set.add(listen);
    this.scanListeners.set(canon, set);
    try {
      return await this.viewOf(key, signal);
    } finally {
      set.delete(listen);
    }
  }

  async view(
    key: string,
    signal: AbortSignal,
    progress?: (phase: string, done: number, total: number) => void,
  ): Promise<ViewInfo> {
    const v = await this.viewHeard(key, signal, progress);
    const st = v.status;
    const scan = zeroScanReport(st);
    return {
      view: v.key,
      length: st.length,
      ...(st.error && { error: plainError(st.error), errorAt: mappedEnd(st) }),
      ...(scan && {
        scan: {
          bytesRead: scan.bytesRead,
          plannedBytes: scan.plan.bytes,
          heuristics: scan.heuristics.map((h) => ({
            name: h.name,
            fires: h.fires,
            realClusters: h.realClusters,
            realClustersExact: h.realClustersExact,
            threshold: h.threshold,
            refcounted: h.refcounted,
          })),
        },
      }),
    };
  }

  /** Where host holes could change QEMU's answer in this view, and what a content scan would read. */
  async hostHoles(view: string, signal: AbortSignal): Promise<HostHoleInfo> {
    const r = (await this.viewOf(view, signal)).hostHoles();
    return {
      summary: r.summary,
      bytes: r.bytes,
      exposures: r.exposures.map(({ start: _s, length: _l, layer: _n, ...x }) => x),
      scan: {
        bytes: r.scan.bytes,
        maxExtraBytes: r.scan.maxExtraBytes,
        pastEofBytes: r.scan.pastEofBytes,
        notReadBytes: r.scan.notReadBytes,
      },
    };
  }

  async bins(
    view: string,
    start: number,
    end: number,
    n: number,
    signal: AbortSignal,
    bitmap?: string,
  ): Promise<Float32Array> {
    const v = await this.viewOf(view, signal);
    const raster =
      bitmap === undefined
        ? undefined
        : v.memo(`bitmap:${bitmap}`, () =>
            bitmapRaster(this.bitmapList, v.status, bitmap, (i) => v.interp(i)),
          );
    return binChain(v.status, start, end, n, raster, signal);
  }

  async laneRuns(view: string, signal: AbortSignal): Promise<(LaneRuns | undefined)[]> {
    const v = await this.viewOf(view, signal);
    // Each interpretation is one walk over the view's extents (~0.2 s over PAGE_MAX_EXTENTS):
    // a cancellation point after each lets a newer open through.
    for (const i of INTERPRETATIONS) {
      v.interp(i);
      await checkpoint(signal);
    }
    const [map, nbd, , depth] = INTERPRETATIONS.map((i) => v.interp(i)) as [
      Interpreted,
      Interpreted,
      Interpreted,
      Interpreted,
    ];
    return chainLanes(
      v.status,
      { map, nbd, depth },
      bitmapLaneRuns(this.bitmapList, v.status, (i) => v.interp(i)),
    );
  }

  async hit(view: string, offset: number, signal: AbortSignal): Promise<Hit | null> {
    const v = await this.viewOf(view, signal);
    const st = v.status;
    if (!(offset >= 0 && offset < st.length)) return null;
    const cs = gridClusterSize(st.chain);
    const clusterStart = offset - (offset % cs);
    const r = resolvedAt(st, offset);
    const deepest = r ? r.layer : 0;
    const entries: L2EntryInfo[] = [];
    for (let li = 0; li <= deepest && li < st.chain.layers.length; li++) {
      const layer = st.chain.layers[li]!;
      if (layer.format !== 'qcow2') continue;
      const e = await entryDetail(layer, offset, li === 0 ? (v.topL1 ?? layer.l1) : layer.l1);
      if (!e) continue;
      entries.push({
        layer: li,
        name: e.name,
        l1Index: e.l1Index,
        l2Index: e.l2Index,
        l2TableOffset: e.l2TableOffset,
        type: e.type,
        ...(e.raw !== undefined && { raw: e.raw }),
        ...(e.hostOffset !== undefined && { hostOffset: e.hostOffset, hostFile: hostFileName(layer) }),
        ...(e.refcount !== undefined && { refcount: e.refcount }),
      });
    }
    const values: InterpretationValue[] = r
      ? [...INTERPRETATIONS, ...bitmapInterpretations(this.bitmapList, st)].map((interp) => {
          const m = v.interp(interp);
          const i = runAt(m, offset);
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
    const top = st.chain.layers[0]!;
    const sub = top.format === 'qcow2' && top.header.extendedL2;
    // Marked where QEMU likely answers otherwise (where it only may, its heuristic would not look).
    const hole = v.hostHoles().exposures.find((x) => x.likely && runAt(x, offset) >= 0);
    return {
      offset,
      clusterStart,
      clusterEnd: Math.min(clusterStart + cs, st.length),
      clusterIndex: Math.floor(offset / cs),
      ...(sub && { subclusterIndex: Math.floor((offset % cs) / (cs / 32)) }),
      ...(r && {
        owner: { layer: r.layer, name: r.layerName, kind: kindName(r.kind), flags: flagNames(r.flags) },
        ...(r.host >= 0 && { hostOffset: r.host, hostFile: hostFileName(st.chain.layers[r.layer]!) }),
      }),
      ...(hole && {
        hostHole: { rule: hole.rule, qemuWould: hole.qemuWould, likely: hole.likely, why: hole.why },
      }),
      entries,
      values,
      ...(this.bitmapList.length > 0 && { bitmaps: hitBitmaps(this.bitmapList, st, offset) }),
      summary: r
        ? describeResolved(st, offset)
        : `QEMU refuses to read here: ${st.error?.message ?? 'past the end of the mapped range'}`,
    };
  }

  /** qemu-img map rows (merged as qemu-img merges them) of the view, clipped to the range. */
  async rows(view: string, q: RowsQuery, signal: AbortSignal): Promise<RowsPage> {
    const m = (await this.viewOf(view, signal)).interp(MAP);
    return rowsPage(m, q, {
      columns: ['start', 'length', 'depth', 'present', 'zero', 'data', 'offset'],
      cells: (i, start, length) => {
        const x = m.value[i]!;
        const present = (x & MAP_PRESENT) !== 0;
        const host = m.host[i]!;
        return [
          hex(start),
          binarySize(length),
          present ? String(x >>> MAP_DEPTH_SHIFT) : '—',
          boolCell(present),
          boolCell((x & MAP_ZERO) !== 0),
          boolCell((x & MAP_DATA) !== 0),
          host >= 0 ? hex(host + (start - m.start[i]!)) : '—',
        ];
      },
    });
  }

  async export(
    view: string,
    format: ExportFormat,
    release: number,
    signal: AbortSignal,
  ): Promise<ExportResult> {
    const st = (await this.viewOf(view, signal)).status;
    if (format === 'qemu-img-map-json')
      return { text: formatMapJson(qemuImgMap(release).compute(st), release) };
    if (format === 'nbdinfo-map') {
      const nbd = baseAllocation(release);
      return { text: formatNbdinfo(nbd.compute(st), nbd.label) };
    }
    return exportError(format, 'an image');
  }

  async share(signal: AbortSignal): Promise<LinkMap> {
    const v = await this.viewOf('', signal);
    return {
      length: v.status.length,
      layerCount: this.chain.layers.length,
      maps: INTERPRETATIONS.map((i) => ({ id: i.id, extents: v.interp(i) })),
    };
  }

  /** A catalogue entry, or the dirty bitmap an id names as qemu-nbd -B would find it in the view. */
  private entryFor(interp: string, st: ChainStatus): CatalogueEntry {
    const entry = catalogueEntry(interp);
    if (entry) return entry;
    const name = dirtyBitmapName(interp);
    if (name === undefined) throw new SourceError(`unknown interpretation '${interp}'`);
    const b = exportedBitmap(this.bitmapList, st, name);
    if (!b)
      throw new SourceError(`no bitmap '${name}' in this chain (qemu-nbd: Bitmap '${name}' is not found)`);
    if (!b.loaded) throw new SourceError(b.problem ?? `bitmap '${name}' could not be read`);
    return dirtyBitmapEntry(b.loaded);
  }

  async side(
    interp: string,
    view: string,
    signal: AbortSignal,
    progress?: (phase: string, done: number, total: number) => void,
  ): Promise<SideData> {
    let vs = parseView(view);
    // As the CLI does: the content view means nothing unscanned, so scan for it.
    if (catalogueEntry(interp)?.needsZeroScan && !vs.zeroScan) vs = { ...vs, zeroScan: true };
    const v = await this.viewHeard(formatView(vs), signal, progress);
    const st = v.status;
    const entry = this.entryFor(interp, st);
    return {
      entry,
      view: vs,
      extents: v.interp(entry.interpretation),
      status: st,
      file: st.chain.layers[0]?.name ?? '',
      length: st.length,
      clusterSize: gridClusterSize(st.chain),
      extendedL2: extendedL2(st.chain),
      viewWords: describeView(vs),
      nativeFormats: entry.nativeFormats,
    };
  }

  /** The Image panel's report on the top layer; `check`: run qemu-img check whatever it reads. */
  async report(
    check: boolean,
    signal?: AbortSignal,
    progress?: (phase: string, done: number, total: number) => void,
  ): Promise<ImageReport> {
    if (!this.complete) throw new SourceError('the image report waits until the open is done');
    const r = await imageReport(this.status, check ? 'always' : 'auto', undefined, {
      ...(signal && { signal }),
      ...(progress && {
        onProgress: (done: number, total: number) => progress('qemu-img check', done, total),
      }),
    });
    if (r.checked) this.checked = r.checked;
    return r.report;
  }

  /** The host-file map of the top file (qcow2 tops only), with what the last check found. */
  async hostmap(px: number): Promise<HostMapBins[]> {
    const top = this.chain.layers[0]!;
    if (top.format !== 'qcow2' || !this.complete) return [];
    return hostMapBins(
      top,
      this.status.layerStatus[0]!.extents,
      this.checked,
      this.chain.dataFiles?.get(0),
      px,
    );
  }

  /** The internal snapshots of the top (none for a raw top). */
  private async snapshotList(): Promise<readonly Snapshot[]> {
    const top = this.chain.layers[0];
    if (top?.format !== 'qcow2' || top.header.nbSnapshots === 0) return [];
    return readSnapshots(top);
  }

  /** The first MAX_SNAPSHOT_CHOICES internal snapshots a `snapshot:NAME` view can name. */
  async snapshots(): Promise<SnapshotName[]> {
    return (await this.snapshotList())
      .slice(0, MAX_SNAPSHOT_CHOICES)
      .map((x) => ({ id: x.id, name: x.name }));
  }

  /**
   * A page of the internal snapshots as rows, from row `from` or from the one `at` names (by
   * tag, else by ID, as a `snapshot:NAME` view finds it; an empty page when none has it).
   */
  async snapshotRows(q: { from?: number; at?: string; count: number }): Promise<RowsPage> {
    const list = await this.snapshotList();
    let from = q.from ?? 0;
    let count = q.count;
    if (q.at !== undefined) {
      const i = list.findIndex((x) => x.name === q.at);
      from = i >= 0 ? i : list.findIndex((x) => x.id === q.at);
      if (from < 0) count = 0;
    }
    // "VM size" as qemu-img snapshot -l heads it (the saved VM state).
    const cols = ['ID', 'Tag', 'Date', 'Disk size', 'VM size'];
    return listPage(list.length, Math.max(0, from), count, cols, (i) => {
      const x = list[i]!;
      return [
        x.id,
        x.name,
        new Date(x.dateSec * 1000).toISOString().replace('T', ' ').slice(0, 19),
        x.diskSize !== undefined ? binarySize(x.diskSize) : '—',
        binarySize(x.vmStateSize),
      ];
    });
  }
}
