/**
 * A diff of two sides as a source (source.ts): each side an interpretation under a view of any
 * source that can be a side (an image, or a map carrying it), compared by core/diff. It answers
 * bins and lanes (core/raster/diff.ts), the differing extents as rows with their reasons (made
 * one page at a time: a million-extent diff costs a screenful of words), a hit, the diff's
 * exports and, when both sides read one source, a link map carrying A and B.
 */
import { type Diff, type DiffMode, diffInterpreted } from '../core/diff/diff.ts';
import { formatDiffCsv, formatDiffJson } from '../core/diff/export.ts';
import { meaningNotes } from '../core/diff/meaning.ts';
import { clusterRange, explainDifference } from '../core/diff/reason.ts';
import { sizeNote } from '../core/diff/sizes.ts';
import { binarySize, hex } from '../core/format.ts';
import { type LegendEntry, presentLegend } from '../core/interpret/interpretation.ts';
import { formatNative } from '../core/interpret/native.ts';
import { formatView } from '../core/interpret/viewSource.ts';
import { D_KIND, DiffRaster } from '../core/raster/diff.ts';
import type { LaneRuns } from '../core/raster/lanes.ts';
import { runAt } from '../core/runs/runs.ts';
import type { LinkMap } from '../core/share/mapCodec.ts';
import type { ExportFormat, ExportResult, Hit, RowsPage } from '../protocol/results.ts';
import type { DiffInfo, DiffSide, DiffSideSummary, SourceId, ViewInfo } from '../protocol/source.ts';
import { type RowsQuery, rowsPage } from './rows.ts';
import { type MapSource, noViews, type SideData, SourceError } from './source.ts';

/** The id a side's extents travel under in a link map: the CLI's INTERP@VIEW. */
export const sideId = (s: SideData): string => {
  const view = formatView(s.view);
  return view ? `${s.entry.id}@${view}` : s.entry.id;
};

interface Side extends SideData {
  readonly source: SourceId;
  /** The interpretation's legend and every other value this side holds (presentLegend). */
  readonly legend: readonly LegendEntry[];
}

export class DiffSource implements MapSource {
  readonly reads: readonly SourceId[];
  private readonly raster: DiffRaster;

  private constructor(
    readonly id: SourceId,
    private readonly a: Side,
    private readonly b: Side,
    private readonly d: Diff,
    private readonly share0: (signal: AbortSignal) => Promise<LinkMap>,
  ) {
    this.reads = [a.source, b.source];
    const side = (x: Side) => ({ extents: x.extents, legend: x.legend });
    this.raster = new DiffRaster(d, side(a), side(b));
  }

  /** Reads both sides (`sourceOf` finds an open source by id) and diffs them. */
  static async create(
    id: SourceId,
    a: DiffSide,
    b: DiffSide,
    sourceOf: (id: SourceId) => MapSource,
    signal: AbortSignal,
    mode: DiffMode = 'meaning',
    progress?: (phase: string, done: number, total: number) => void,
  ): Promise<DiffSource> {
    const read = async (tag: string, s: DiffSide): Promise<Side> => {
      const src = sourceOf(s.source);
      if (!src.side) throw new SourceError(`${tag} cannot read source ${s.source}: it is itself a diff`);
      try {
        const data = await src.side(
          s.interp,
          s.view,
          signal,
          progress && ((phase, done, total) => progress(`${tag}: ${phase}`, done, total)),
        );
        return { ...data, source: s.source, legend: presentLegend(data.entry.interpretation, data.extents) };
      } catch (e) {
        if (e instanceof SourceError) throw new SourceError(e.message.replace('for ', `for ${tag} = `));
        throw e;
      }
    };
    const [sa, sb] = await Promise.all([read('A', a), read('B', b)]);
    const d = diffInterpreted(sa.extents, sb.extents, {
      labelA: (v) => sa.entry.interpretation.label(v),
      labelB: (v) => sb.entry.interpretation.label(v),
      lengthA: sa.length,
      lengthB: sb.length,
      meaningA: sa.entry.interpretation,
      meaningB: sb.entry.interpretation,
      mode,
    });
    const base = sourceOf(a.source);
    return new DiffSource(id, sa, sb, d, (sig) => base.share(sig));
  }

  private summary(s: Side): DiffSideSummary {
    return {
      interp: s.entry.id,
      title: s.entry.interpretation.title,
      view: formatView(s.view),
      viewWords: s.viewWords,
      provenance: s.entry.provenance,
      file: s.file,
      length: s.length,
      legend: s.legend.map((l) => ({ value: l.value, label: l.label })),
      nativeFormats: s.nativeFormats,
      source: s.source,
      ...(s.status?.error && { error: s.status.error.message }),
    };
  }

  info(): DiffInfo {
    const d = this.d;
    const note = sizeNote(d, binarySize);
    const title = (tag: string, s: Side) => `${tag} (${s.entry.interpretation.title})`;
    return {
      kind: 'diff',
      id: this.id,
      mode: d.mode,
      notes: meaningNotes(d, {
        nameA: title('A', this.a),
        nameB: title('B', this.b),
        clusterSize: this.a.clusterSize,
        bytes: binarySize,
      }),
      length: Math.max(d.lengthA, d.lengthB),
      clusterSize: this.a.clusterSize,
      subclusters: this.a.clusterSize === this.b.clusterSize && (this.a.extendedL2 || this.b.extendedL2),
      classes: this.raster.keys,
      lanes: [this.laneName('A', this.a), this.laneName('B', this.b), 'Difference'].map((name) => ({ name })),
      a: this.summary(this.a),
      b: this.summary(this.b),
      kinds: d.kinds.map((k) => ({
        index: k.index,
        id: k.id,
        label: k.label,
        factsLabel: k.factsLabel,
        labelA: k.labelA,
        labelB: k.labelB,
        bytes: k.bytes,
        extents: k.extents,
      })),
      lengthA: d.lengthA,
      lengthB: d.lengthB,
      overlap: d.overlap,
      bytesDiffering: d.bytesDiffering,
      bytesAgreeing: d.bytesAgreeing,
      count: d.count,
      ...(note !== undefined && { sizeNote: note }),
    };
  }

  /** "A (vm.qcow2): qemu-img map (QEMU 7.2) @ backing-null": the file only when the sides read two. */
  private laneName(tag: string, s: Side): string {
    const two = this.a.source !== this.b.source || this.a.file !== this.b.file;
    const view = formatView(s.view);
    return `${tag}${two ? ` (${s.file})` : ''}: ${s.entry.interpretation.title}${view ? ` @ ${view}` : ''}`;
  }

  async view(view: string): Promise<ViewInfo> {
    noViews(view, 'a diff');
    return { view, length: Math.max(this.d.lengthA, this.d.lengthB) };
  }

  async bins(view: string, start: number, end: number, n: number): Promise<Float32Array> {
    noViews(view, 'a diff');
    return this.raster.bins(start, end, n);
  }

  async laneRuns(view: string): Promise<LaneRuns[]> {
    noViews(view, 'a diff');
    return this.raster.laneRuns();
  }

  /** Why extent i differs: from both sides' metadata, or (a map without its image) their values. */
  reason(i: number): string {
    const { a, b, d } = this;
    if (a.status && b.status)
      return explainDifference(
        d,
        i,
        { interpretation: a.entry.interpretation, status: a.status, computed: a.extents },
        { interpretation: b.entry.interpretation, status: b.status, computed: b.extents },
      );
    const kind = d.kinds[d.kind[i]!]!;
    const where = clusterRange(d.start[i]!, d.length[i]!, a.clusterSize);
    return `${where}: A (${a.entry.interpretation.title}) reports ${kind.labelA}; B (${b.entry.interpretation.title}) reports ${kind.labelB}. From the shared map: drop the image to see why.`;
  }

  async hit(view: string, offset: number): Promise<Hit | null> {
    noViews(view, 'a diff');
    const d = this.d;
    const reach = Math.max(d.lengthA, d.lengthB);
    if (!(offset >= 0 && offset < reach)) return null;
    const cs = this.a.clusterSize;
    const clusterStart = offset - (offset % cs);
    const value = (tag: string, s: Side) => {
      const i = runAt(s.extents, offset);
      const v = i < 0 ? 0 : s.extents.value[i]!;
      return {
        id: `${tag}:${sideId(s)}`,
        title: `${tag}: ${s.entry.interpretation.title}`,
        value: v,
        label: i < 0 ? 'no answer' : s.entry.interpretation.label(v),
        explain: s.status ? s.entry.interpretation.explain(s.status, offset) : 'from the shared map',
      };
    };
    const i = runAt(d, offset);
    return {
      offset,
      clusterStart,
      clusterEnd: Math.min(clusterStart + cs, reach),
      clusterIndex: Math.floor(offset / cs),
      entries: [],
      values: [value('A', this.a), value('B', this.b)],
      summary: i < 0 ? 'A and B agree here.' : this.reason(i),
    };
  }

  /** The differing extents, with their kind and reason. */
  async rows(view: string, q: RowsQuery): Promise<RowsPage> {
    noViews(view, 'a diff');
    const d = this.d;
    return rowsPage(d, q, {
      columns: ['where', 'start', 'length', 'kind', 'reason'],
      klass: (i) => D_KIND + d.kind[i]!,
      cells: (i) => [
        clusterRange(d.start[i]!, d.length[i]!, this.a.clusterSize).replace(/ \[.*$/, ''),
        hex(d.start[i]!),
        binarySize(d.length[i]!),
        d.kinds[d.kind[i]!]!.label,
        this.reason(i),
      ],
    });
  }

  async export(view: string, format: ExportFormat): Promise<ExportResult> {
    noViews(view, 'a diff');
    const info = (s: Side) => ({
      interpretation: s.entry.id,
      title: s.entry.interpretation.title,
      view: formatView(s.view),
      file: s.file,
    });
    const opts = { a: info(this.a), b: info(this.b), reason: (i: number) => this.reason(i) };
    if (format === 'diff-json') return { text: formatDiffJson(this.d, opts) };
    if (format === 'diff-csv') return { text: formatDiffCsv(this.d, opts) };
    if (format === 'qemu-img-map-json' || format === 'nbdinfo-map')
      return {
        text: '',
        error: `a diff exports as diff-json, diff-csv or a side's tool output, not ${format}`,
      };
    const s = format.startsWith('a:') ? this.a : this.b;
    const nf = format.slice(2) as Parameters<typeof formatNative>[2];
    if (!s.status)
      return { text: '', error: 'a side in its tool’s own format needs the image, not only its shared map' };
    const r = formatNative(s.entry, s.status, nf, undefined, s.extents);
    return r.error !== undefined ? { text: r.text, error: r.error } : { text: r.text };
  }

  /**
   * The page's maps with A's and B's extents under their INTERP@VIEW ids, so a recipient without
   * the image sees this diff. Only when both sides read one source: a second image is not the
   * page's to share.
   */
  async share(signal: AbortSignal): Promise<LinkMap> {
    const base = await this.share0(signal);
    if (this.a.source !== this.b.source) return base;
    const a = { id: sideId(this.a), extents: this.a.extents };
    const b = { id: sideId(this.b), extents: this.b.extents };
    const extra = a.id === b.id ? [a] : [a, b];
    return { ...base, maps: [...base.maps.filter((e) => !extra.some((x) => x.id === e.id)), ...extra] };
  }
}
