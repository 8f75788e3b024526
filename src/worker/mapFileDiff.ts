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
import type { DiffExportFormat, DiffSideSpec, DiffSideSummary, DiffSummary } from './diffProtocol.ts';
import { LANE_AGREE, LANE_NONE, LANE_OTHER } from './diffProtocol.ts';
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

/** Index of the first run ending after `pos`. */
function firstEndingAfter(start: Float64Array, length: Float64Array, count: number, pos: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (start[m]! + length[m]! <= pos) lo = m + 1;
    else hi = m;
  }
  return lo;
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
    const d = this.diff;
    return {
      a: this.sideSummary(this.a),
      b: this.sideSummary(this.b),
      kinds: d.kinds.map((k) => ({
        index: k.index,
        id: k.id,
        label: k.label,
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
      clusterSize: this.clusterSize,
      subclusters: false,
      count: d.count,
      start: d.start.slice(),
      length: d.length.slice(),
      kind: d.kind.slice(),
    };
  }

  /** Per bin, the fraction of its bytes where A and B agree (class 0) and in each kind (1 + k), as DiffSession.bins(). */
  bins(start: number, end: number, n: number): { classes: number; fractions: Float32Array } {
    const d = this.diff;
    const classes = 1 + d.kinds.length;
    const out = new Float32Array(Math.max(0, n) * classes);
    if (n <= 0 || end <= start) return { classes, fractions: out };
    const span = end - start;
    const binStart = (k: number) => start + (span * k) / n;
    const binOf = (pos: number) => Math.min(n - 1, Math.max(0, Math.floor(((pos - start) * n) / span)));
    const add = (from: number, to: number, cls: number, sign: number) => {
      if (to <= from) return;
      for (let k = binOf(from); k < n; k++) {
        const x = Math.max(from, binStart(k));
        const y = Math.min(to, binStart(k + 1));
        if (y <= x) break;
        out[k * classes + cls]! += sign * (y - x);
      }
    };
    add(Math.max(start, 0), Math.min(end, d.overlap), 0, 1);
    for (let i = firstEndingAfter(d.start, d.length, d.count, start); i < d.count && d.start[i]! < end; i++) {
      const s = Math.max(start, d.start[i]!);
      const e = Math.min(end, d.start[i]! + d.length[i]!);
      add(s, e, 1 + d.kind[i]!, 1);
      add(s, Math.min(e, d.overlap), 0, -1);
    }
    for (let k = 0; k < n; k++) {
      const w = binStart(k + 1) - binStart(k);
      for (let c = 0; c < classes; c++) out[k * classes + c] = Math.max(0, out[k * classes + c]! / w);
    }
    return { classes, fractions: out };
  }

  /** Lanes A, B and the difference, `px` columns each, as DiffSession.lanes(). */
  lanes(start: number, end: number, px: number): Uint8Array {
    const out = new Uint8Array(3 * px).fill(LANE_NONE);
    if (px <= 0 || end <= start) return out;
    const span = (end - start) / px;
    const side = (s: MapSide, lane: number) => {
      const m = s.extents;
      const legend = s.entry.interpretation.legend;
      const best = new Float64Array(px);
      for (
        let i = firstEndingAfter(m.start, m.length, m.count, start);
        i < m.count && m.start[i]! < end;
        i++
      ) {
        const a = Math.max(start, m.start[i]!);
        const b = Math.min(end, m.start[i]! + m.length[i]!);
        const j = legend.findIndex((l) => l.value === m.value[i]);
        const cat = j < 0 || j >= LANE_OTHER ? LANE_OTHER : j;
        for (let p = Math.floor((a - start) / span); p < px; p++) {
          const x = Math.max(a, start + p * span);
          const y = Math.min(b, start + (p + 1) * span);
          if (y <= x) break;
          if (y - x > best[p]!) {
            best[p] = y - x;
            out[lane * px + p] = cat;
          }
        }
      }
    };
    side(this.a, 0);
    side(this.b, 1);
    const d = this.diff;
    const nk = d.kinds.length || 1;
    const bytes = new Float64Array(px * nk);
    for (let p = 0; p < px; p++) if (start + p * span < d.overlap) out[2 * px + p] = LANE_AGREE;
    for (let i = firstEndingAfter(d.start, d.length, d.count, start); i < d.count && d.start[i]! < end; i++) {
      const a = Math.max(start, d.start[i]!);
      const b = Math.min(end, d.start[i]! + d.length[i]!);
      const k = d.kind[i]!;
      for (let p = Math.floor((a - start) / span); p < px; p++) {
        const x = Math.max(a, start + p * span);
        const y = Math.min(b, start + (p + 1) * span);
        if (y <= x) break;
        bytes[p * nk + k]! += y - x;
        const cur = out[2 * px + p]!;
        if (cur >= LANE_OTHER || bytes[p * nk + k]! > bytes[p * nk + cur]!)
          out[2 * px + p] = Math.min(k, 252);
      }
    }
    return out;
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
