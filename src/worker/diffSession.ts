/**
 * One computed diff in the worker: both sides' statuses (views built from the opened chain,
 * viewSource.ts), their interpretations, the diff (core/diff), and the answers the diff view
 * asks for: bins for the heatmap, lanes for the tracks, reasons for a window of the list,
 * exports. Everything bulk is typed arrays sized by pixels or extents, never by clusters.
 */
import type { Diff } from '../core/diff/diff.ts';
import { formatDiffCsv, formatDiffJson } from '../core/diff/export.ts';
import { type DiffSide, diffSides, explainDifference, topClusterSize } from '../core/diff/reason.ts';
import { type CatalogueEntry, catalogueEntry } from '../core/interpret/catalogue.ts';
import type { Interpreted } from '../core/interpret/interpretation.ts';
import { formatNative } from '../core/interpret/native.ts';
import {
  describeView,
  formatView,
  parseView,
  type ViewSource,
  viewStatus,
} from '../core/interpret/viewSource.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import { diffBins, diffFields, diffLanes } from './diffGrid.ts';
import type { DiffExportFormat, DiffSideSpec, DiffSideSummary, DiffSummary } from './diffProtocol.ts';
import type { Session } from './session.ts';

export class DiffSpecError extends Error {
  override readonly name = 'DiffSpecError';
}

interface Side extends DiffSide {
  readonly entry: CatalogueEntry;
  readonly view: ViewSource;
  readonly computed: Interpreted;
  /** The `diffOpen` id of the chain read; undefined for the page's image. */
  readonly chain: number | undefined;
}

function resolveSpec(spec: DiffSideSpec): { entry: CatalogueEntry; view: ViewSource } {
  const entry = catalogueEntry(spec.interp);
  if (!entry) throw new DiffSpecError(`unknown interpretation '${spec.interp}'`);
  let view = parseView(spec.view);
  // As the CLI does: the content view means nothing unscanned, so scan for it.
  if (entry.needsZeroScan && !view.zeroScan) view = { ...view, zeroScan: true };
  return { entry, view };
}

/**
 * Statuses by view text, so A and B under one view (and the chain as opened) are built once.
 * Lives as long as the session.
 */
export class ViewCache {
  private readonly byView = new Map<string, Promise<ChainStatus>>();
  constructor(readonly session: Session) {
    this.byView.set('', Promise.resolve(session.status));
  }
  status(v: ViewSource, signal?: AbortSignal): Promise<ChainStatus> {
    const key = formatView(v);
    let p = this.byView.get(key);
    if (!p) {
      p = viewStatus(this.session.chain, v, signal ? { signal } : {});
      this.byView.set(key, p);
      // A cancelled or failed build is not kept: the next request tries again.
      p.catch(() => this.byView.delete(key));
    }
    return p;
  }
}

const summary = (s: Side): DiffSideSummary => ({
  interp: s.entry.id,
  title: s.entry.interpretation.title,
  view: formatView(s.view),
  viewWords: describeView(s.view),
  provenance: s.entry.provenance,
  file: s.status.chain.layers[0]?.name ?? '',
  length: s.status.length,
  legend: s.entry.interpretation.legend.map((l) => ({ value: l.value, label: l.label })),
  nativeFormats: s.entry.nativeFormats,
  ...(s.chain !== undefined && { chain: s.chain }),
  ...(s.status.error && { error: s.status.error.message }),
});

/** Extended L2 on a side's top layer. */
const extendedL2 = (st: ChainStatus): boolean => {
  const top = st.chain.layers[0];
  return top?.format === 'qcow2' && top.header.extendedL2;
};

export class DiffSession {
  private constructor(
    readonly openId: number,
    readonly a: Side,
    readonly b: Side,
    readonly diff: Diff,
  ) {}

  /** `views(spec)` is the view cache of the chain the side names (the page's or a second image's). */
  static async compute(
    openId: number,
    views: (spec: DiffSideSpec) => ViewCache,
    specA: DiffSideSpec,
    specB: DiffSideSpec,
    signal?: AbortSignal,
  ): Promise<DiffSession> {
    const ra = resolveSpec(specA);
    const rb = resolveSpec(specB);
    const [sa, sb] = await Promise.all([
      views(specA).status(ra.view, signal),
      views(specB).status(rb.view, signal),
    ]);
    const side = (r: typeof ra, st: ChainStatus, chain: number | undefined): Side => ({
      ...r,
      interpretation: r.entry.interpretation,
      status: st,
      computed: r.entry.interpretation.compute(st),
      chain,
    });
    const a = side(ra, sa, specA.chain);
    const b = side(rb, sb, specB.chain);
    return new DiffSession(openId, a, b, diffSides(a, b));
  }

  /** The summary for the UI, with copies of the extent arrays the caller may transfer. */
  summary(): DiffSummary {
    return {
      a: summary(this.a),
      b: summary(this.b),
      ...diffFields(this.diff),
      clusterSize: topClusterSize(this.a.status),
      subclusters:
        topClusterSize(this.a.status) === topClusterSize(this.b.status) &&
        (extendedL2(this.a.status) || extendedL2(this.b.status)),
    };
  }

  /** Heatmap bins of [start, end) (diffGrid.ts diffBins). */
  bins(start: number, end: number, n: number): { classes: number; fractions: Float32Array } {
    return diffBins(this.diff, start, end, n);
  }

  /** Lanes A, B and the difference, `px` columns each (diffGrid.ts diffLanes). */
  lanes(start: number, end: number, px: number): Uint8Array {
    const lane = (s: Side) => ({ extents: s.computed, legend: s.entry.interpretation.legend });
    return diffLanes(lane(this.a), lane(this.b), this.diff, start, end, px);
  }

  reason(i: number): string {
    return explainDifference(this.diff, i, this.a, this.b);
  }

  reasons(from: number, to: number): string[] {
    const out: string[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.diff.count); i++) out.push(this.reason(i));
    return out;
  }

  export(format: DiffExportFormat): { text: string; error?: string } {
    const info = (s: Side) => ({
      interpretation: s.entry.id,
      title: s.entry.interpretation.title,
      view: formatView(s.view),
      file: s.status.chain.layers[0]?.name ?? '',
    });
    const opts = { a: info(this.a), b: info(this.b), reason: (i: number) => this.reason(i) };
    if (format === 'diff-json') return { text: formatDiffJson(this.diff, opts) };
    if (format === 'diff-csv') return { text: formatDiffCsv(this.diff, opts) };
    const s = format.startsWith('a:') ? this.a : this.b;
    const nf = format.slice(2) as Parameters<typeof formatNative>[2];
    const r = formatNative(s.entry, s.status, nf, undefined, s.computed);
    return r.error !== undefined ? { text: r.text, error: r.error } : { text: r.text };
  }
}
