/**
 * The diff view's grid answers, from a diff and its two sides' extents: bins for the heatmap and
 * three lanes (A, B, the difference) for the tracks. One implementation for a diff of images
 * (diffSession.ts) and of maps without the image (mapFileDiff.ts).
 */
import type { Diff } from '../core/diff/diff.ts';
import type { Interpretation, Interpreted } from '../core/interpret/interpretation.ts';
import { type DiffSummary, LANE_AGREE, LANE_NONE, LANE_OTHER } from './diffProtocol.ts';

/** The diff's part of a DiffSummary, with copies of the extent arrays the caller may transfer. */
export function diffFields(d: Diff): Omit<DiffSummary, 'a' | 'b' | 'clusterSize' | 'subclusters'> {
  return {
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
    count: d.count,
    start: d.start.slice(),
    length: d.length.slice(),
    kind: d.kind.slice(),
  };
}

/** Index of the first run ending after `pos`. */
export function firstEndingAfter(
  start: Float64Array,
  length: Float64Array,
  count: number,
  pos: number,
): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (start[m]! + length[m]! <= pos) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/**
 * Bins of [start, end): per bin, the fraction of its bytes where A and B agree (class 0) and
 * in each kind of disagreement (class 1 + k). Bytes past both sides' ends are in no class.
 */
export function diffBins(
  d: Diff,
  start: number,
  end: number,
  n: number,
): { classes: number; fractions: Float32Array } {
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
  // Agreement: the overlap, minus what differs inside it.
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

/** One side of a diff as the lanes need it: its extents and the legend their values index. */
export interface LaneSide {
  readonly extents: Interpreted;
  readonly legend: Interpretation['legend'];
}

/**
 * Three lanes of `px` columns: A's and B's values (legend index, majority of the column's
 * bytes) and the difference (the kind with most bytes in the column, so a difference of one
 * cluster in a 1 TiB column still shows; LANE_AGREE where none differs).
 */
export function diffLanes(
  a: LaneSide,
  b: LaneSide,
  d: Diff,
  start: number,
  end: number,
  px: number,
): Uint8Array {
  const out = new Uint8Array(3 * px).fill(LANE_NONE);
  if (px <= 0 || end <= start) return out;
  const span = (end - start) / px;
  const side = (s: LaneSide, lane: number) => {
    const m = s.extents;
    const idx = (v: number) => {
      const j = s.legend.findIndex((l) => l.value === v);
      return j < 0 || j >= LANE_OTHER ? LANE_OTHER : j;
    };
    const best = new Float64Array(px);
    for (let i = firstEndingAfter(m.start, m.length, m.count, start); i < m.count && m.start[i]! < end; i++) {
      const x0 = Math.max(start, m.start[i]!);
      const x1 = Math.min(end, m.start[i]! + m.length[i]!);
      const cat = idx(m.value[i]!);
      for (let p = Math.floor((x0 - start) / span); p < px; p++) {
        const x = Math.max(x0, start + p * span);
        const y = Math.min(x1, start + (p + 1) * span);
        if (y <= x) break;
        // Runs are disjoint and a column holds few categories: keep the longest piece.
        if (y - x > best[p]!) {
          best[p] = y - x;
          out[lane * px + p] = cat;
        }
      }
    }
  };
  side(a, 0);
  side(b, 1);
  const reach = Math.max(d.lengthA, d.lengthB);
  const nk = d.kinds.length || 1;
  const bytes = new Float64Array(px * nk);
  for (let p = 0; p < px; p++) if (start + p * span < d.overlap) out[2 * px + p] = LANE_AGREE;
  for (let i = firstEndingAfter(d.start, d.length, d.count, start); i < d.count && d.start[i]! < end; i++) {
    const x0 = Math.max(start, d.start[i]!);
    const x1 = Math.min(end, reach, d.start[i]! + d.length[i]!);
    const k = d.kind[i]!;
    for (let p = Math.floor((x0 - start) / span); p < px; p++) {
      const x = Math.max(x0, start + p * span);
      const y = Math.min(x1, start + (p + 1) * span);
      if (y <= x) break;
      const j = p * nk + k;
      bytes[j]! += y - x;
      const cur = out[2 * px + p]!;
      if (cur >= LANE_OTHER || bytes[j]! > bytes[p * nk + cur]!) out[2 * px + p] = Math.min(k, 252);
    }
  }
  return out;
}
