/**
 * The raster of a diff (core/diff): heatmap bins of where A and B agree and of each kind of
 * disagreement, and three lanes (A's values, B's values, the difference), over one class list:
 *   agree, kind-0 .. kind-(K-1), a-0 .. a-(LA-1), a-other, b-0 .. b-(LB-1), b-other
 * where a-i is the i-th value of A's legend. Bytes past both sides' ends are in no class.
 */
import type { Diff } from '../diff/diff.ts';
import type { Interpreted, LegendEntry } from '../interpret/interpretation.ts';
import type { Runs } from '../runs/runs.ts';
import { binRuns } from './bins.ts';
import type { LaneRuns } from './lanes.ts';

export const D_AGREE = 0;
export const D_KIND = 1;

export interface DiffRasterSide {
  readonly extents: Interpreted;
  readonly legend: readonly Pick<LegendEntry, 'value'>[];
}

export class DiffRaster {
  readonly classes: number;
  readonly keys: readonly string[];
  private readonly aBase: number;
  private readonly bBase: number;
  /** Agreement between the differences (within the overlap) and each difference: the diff's picture. */
  private readonly runs: ClassRuns;

  constructor(
    d: Diff,
    private readonly a: DiffRasterSide,
    private readonly b: DiffRasterSide,
  ) {
    const k = d.kinds.length;
    this.aBase = D_KIND + k;
    this.bBase = this.aBase + a.legend.length + 1;
    this.classes = this.bBase + b.legend.length + 1;
    this.runs = gapsAndDifferences(d);
    this.keys = [
      'agree',
      ...d.kinds.map((_, i) => `kind-${i}`),
      ...a.legend.map((_, i) => `value-${i}`),
      'value-other',
      ...b.legend.map((_, i) => `value-${i}`),
      'value-other',
    ];
  }

  /** Per bin: the share where A and B agree (D_AGREE) and in each kind k (D_KIND + k). */
  bins(start: number, end: number, n: number): Float32Array {
    const r = this.runs;
    return binRuns(
      r,
      this.classes,
      (i, cls) => {
        cls[0] = r.cls[i]!;
        return 1;
      },
      start,
      end,
      n,
    );
  }

  /** Lanes A, B and the difference. */
  laneRuns(): LaneRuns[] {
    const side = (s: DiffRasterSide, base: number): LaneRuns => {
      const index = new Map(s.legend.map((l, i) => [l.value, i]));
      return { runs: s.extents, classOf: (i) => base + (index.get(s.extents.value[i]!) ?? s.legend.length) };
    };
    const r = this.runs;
    return [side(this.a, this.aBase), side(this.b, this.bBase), { runs: r, classOf: (i) => r.cls[i]! }];
  }
}

/** The difference lane as runs: agreement between the differences (within the overlap), each difference its kind. */
interface ClassRuns extends Runs {
  readonly cls: Int32Array;
}

function gapsAndDifferences(d: Diff): ClassRuns {
  const cap = 2 * d.count + 1;
  const start = new Float64Array(cap);
  const length = new Float64Array(cap);
  const cls = new Int32Array(cap);
  let m = 0;
  let pos = 0;
  const reach = Math.max(d.lengthA, d.lengthB);
  for (let i = 0; i <= d.count; i++) {
    const s = i < d.count ? d.start[i]! : reach;
    const gapEnd = Math.min(s, d.overlap);
    if (gapEnd > pos) {
      start[m] = pos;
      length[m] = gapEnd - pos;
      cls[m++] = D_AGREE;
    }
    if (i === d.count) break;
    start[m] = s;
    length[m] = Math.min(d.length[i]!, reach - s);
    cls[m++] = D_KIND + d.kind[i]!;
    pos = s + d.length[i]!;
  }
  return { count: m, start, length, cls };
}
