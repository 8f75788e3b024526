/**
 * The diff view for a map without its image (issue 5, "Copy link with map" while comparing):
 * the link carries A's and B's extents under their INTERP@VIEW ids (mapFileHandler.ts), and the
 * recipient's diff is computed from them by the same core/diff as the sender's, so the legend
 * counts the same bytes. It answers what the diff view asks (diffProtocol.ts): the summary, bins,
 * lanes, reasons (values only: without the image's metadata there is no why) and the diff's
 * exports; a side's own tool output needs the image.
 */
import { type Diff, diffInterpreted } from '../core/diff/diff.ts';
import { formatDiffCsv, formatDiffJson } from '../core/diff/export.ts';
import { clusterRange } from '../core/diff/reason.ts';
import { type CatalogueEntry, catalogueEntry } from '../core/interpret/catalogue.ts';
import type { Interpreted } from '../core/interpret/interpretation.ts';
import { describeView, formatView, parseView } from '../core/interpret/viewSource.ts';
import { diffBins, diffFields, diffLanes } from './diffGrid.ts';
import type { DiffExportFormat, DiffSideSpec, DiffSideSummary, DiffSummary } from './diffProtocol.ts';
import type { MapSession } from './mapFileSession.ts';

/** The id a diff side's extents travel under in a link map: the CLI's INTERP@VIEW (state/diff.ts formatSide). */
export function diffSideId(s: DiffSideSpec): string {
  const view = formatView(parseView(s.view));
  return view ? `${s.interp}@${view}` : s.interp;
}

interface MapSide {
  readonly spec: DiffSideSpec;
  readonly entry: CatalogueEntry;
  readonly extents: Interpreted;
}

export class MapDiff {
  /** The map's grid and top layer name (MapSession.info() walks the extents to find the grid: once). */
  private readonly clusterSize: number;
  private readonly file: string;

  private constructor(
    readonly openId: number,
    private readonly map: MapSession,
    private readonly a: MapSide,
    private readonly b: MapSide,
    readonly diff: Diff,
  ) {
    const info = map.info();
    this.clusterSize = info.clusterSize;
    this.file = info.layers[0]?.name ?? 'map';
  }

  /** Throws an Error saying what the map carries when A or B is not among its extents. */
  static compute(openId: number, map: MapSession, specA: DiffSideSpec, specB: DiffSideSpec): MapDiff {
    const side = (tag: string, spec: DiffSideSpec): MapSide => {
      const entry = catalogueEntry(spec.interp);
      if (!entry) throw new Error(`unknown interpretation '${spec.interp}'`);
      if (spec.chain !== undefined)
        throw new Error(`${tag} reads a second image, which this map does not carry`);
      const id = diffSideId(spec);
      const extents = map.extentsOf(id);
      if (!extents) {
        const carried = map.ids.filter((x) => catalogueEntry(x.split('@')[0]!) !== undefined);
        throw new Error(
          `this map was shared without its image and carries no extents for ${tag} = ${id}` +
            (carried.length > 1
              ? `; it carries ${carried.join(', ')}`
              : '; it was shared without a comparison ("Copy link with map" while comparing carries A and B)'),
        );
      }
      return { spec, entry, extents };
    };
    const a = side('A', specA);
    const b = side('B', specB);
    const diff = diffInterpreted(a.extents, b.extents, {
      labelA: (v) => a.entry.interpretation.label(v),
      labelB: (v) => b.entry.interpretation.label(v),
      lengthA: map.length,
      lengthB: map.length,
    });
    return new MapDiff(openId, map, a, b, diff);
  }

  private sideSummary(s: MapSide): DiffSideSummary {
    const view = parseView(s.spec.view);
    return {
      interp: s.entry.id,
      title: s.entry.interpretation.title,
      view: formatView(view),
      viewWords: `${describeView(view)} (from the shared map)`,
      provenance: s.entry.provenance,
      file: this.file,
      length: this.map.length,
      legend: s.entry.interpretation.legend.map((l) => ({ value: l.value, label: l.label })),
      // A side's own tool output (qemu-img map, nbdinfo) needs the image's metadata.
      nativeFormats: [],
    };
  }

  summary(): DiffSummary {
    return {
      a: this.sideSummary(this.a),
      b: this.sideSummary(this.b),
      ...diffFields(this.diff),
      clusterSize: this.clusterSize,
      subclusters: false,
    };
  }

  /** Heatmap bins, as DiffSession.bins() (diffGrid.ts). */
  bins(start: number, end: number, n: number): { classes: number; fractions: Float32Array } {
    return diffBins(this.diff, start, end, n);
  }

  /** Lanes A, B and the difference, as DiffSession.lanes() (diffGrid.ts). */
  lanes(start: number, end: number, px: number): Uint8Array {
    const lane = (s: MapSide) => ({ extents: s.extents, legend: s.entry.interpretation.legend });
    return diffLanes(lane(this.a), lane(this.b), this.diff, start, end, px);
  }

  /** What each side reports; the why (which L2 entry, which rule) needs the image. */
  reason(i: number): string {
    const d = this.diff;
    const s = d.start[i]!;
    const kind = d.kinds[d.kind[i]!]!;
    const where = clusterRange(s, d.length[i]!, this.clusterSize);
    const tA = this.a.entry.interpretation.title;
    const tB = this.b.entry.interpretation.title;
    return `${where}: A (${tA}) reports ${kind.labelA}; B (${tB}) reports ${kind.labelB}. From the shared map: drop the image to see why.`;
  }

  reasons(from: number, to: number): string[] {
    const out: string[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.diff.count); i++) out.push(this.reason(i));
    return out;
  }

  export(format: DiffExportFormat): { text: string; error?: string } {
    const info = (s: MapSide) => ({
      interpretation: s.entry.id,
      title: s.entry.interpretation.title,
      view: formatView(parseView(s.spec.view)),
      file: this.file,
    });
    const opts = { a: info(this.a), b: info(this.b), reason: (i: number) => this.reason(i) };
    if (format === 'diff-json') return { text: formatDiffJson(this.diff, opts) };
    if (format === 'diff-csv') return { text: formatDiffCsv(this.diff, opts) };
    return { text: '', error: 'a side in its tool’s own format needs the image, not only its shared map' };
  }
}
