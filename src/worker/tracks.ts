/**
 * Extent lanes for the genome-browser-like track view: one lane per chain layer (that layer's
 * own block status, before the chain walk) and one per interpretation. Each lane is reduced to
 * one category per pixel column (the category covering most bytes of the column), so the
 * answer is `lanes x px` bytes whatever the image size.
 */
import type { Interpreted } from '../core/interpret/interpretation.ts';
import { MAP_COMPRESSED, MAP_DATA, MAP_PRESENT, MAP_ZERO } from '../core/interpret/qemuImgMap.ts';
import {
  KIND_COMPRESSED,
  KIND_ERROR,
  KIND_NORMAL,
  KIND_RAW_DATA,
  KIND_RAW_EOF_TAIL,
  KIND_ZERO_ALLOC,
  KIND_ZERO_PLAIN,
} from '../core/status/kinds.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import {
  TRACK_ABSENT,
  TRACK_COMPRESSED,
  TRACK_DATA,
  TRACK_DEPTH,
  TRACK_ERROR,
  TRACK_HOLE,
  TRACK_NONE,
  TRACK_ZERO,
} from './protocol.ts';

interface Runs {
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
}

export function lane(
  runs: Runs,
  cat: (i: number) => number,
  start: number,
  end: number,
  px: number,
  ncat: number,
) {
  const acc = new Float64Array(px * ncat);
  const span = (end - start) / px;
  let i = 0;
  let lo = 0;
  let hi = runs.count;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (runs.start[m]! + runs.length[m]! <= start) lo = m + 1;
    else hi = m;
  }
  for (i = lo; i < runs.count && runs.start[i]! < end; i++) {
    const a = Math.max(start, runs.start[i]!);
    const b = Math.min(end, runs.start[i]! + runs.length[i]!);
    const c = cat(i);
    for (let p = Math.floor((a - start) / span); p < px; p++) {
      const ps = start + p * span;
      const x = Math.max(a, ps);
      const y = Math.min(b, ps + span);
      if (y <= x) break;
      acc[p * ncat + c]! += y - x;
    }
  }
  const out = new Uint8Array(px).fill(TRACK_NONE);
  for (let p = 0; p < px; p++) {
    let best = -1;
    let bestBytes = 0;
    for (let c = 0; c < ncat; c++) {
      if (acc[p * ncat + c]! > bestBytes) {
        bestBytes = acc[p * ncat + c]!;
        best = c;
      }
    }
    if (best >= 0) out[p] = best;
  }
  return out;
}

const kindCategory = (k: number): number =>
  k === KIND_NORMAL || k === KIND_RAW_DATA
    ? TRACK_DATA
    : k === KIND_ZERO_ALLOC || k === KIND_ZERO_PLAIN || k === KIND_RAW_EOF_TAIL
      ? TRACK_ZERO
      : k === KIND_COMPRESSED
        ? TRACK_COMPRESSED
        : k === KIND_ERROR
          ? TRACK_ERROR
          : TRACK_ABSENT;

export const mapCategory = (v: number): number =>
  v & MAP_COMPRESSED
    ? TRACK_COMPRESSED
    : v & MAP_DATA
      ? TRACK_DATA
      : v & MAP_ZERO && v & MAP_PRESENT
        ? TRACK_ZERO
        : TRACK_ABSENT;

/** base:allocation: 0 data, 1 hole, 2 zero, 3 hole,zero. */
export const nbdCategory = (v: number): number => (v === 0 ? TRACK_DATA : v === 2 ? TRACK_ZERO : TRACK_HOLE);

/**
 * Lanes, top layer first, then qemu-img map, NBD base:allocation (6.0+), allocation depth.
 * `interps` are the session's computed [qemu-img map, base:allocation 6.0, ..., depth].
 */
export function computeTracks(
  st: ChainStatus,
  map: Interpreted,
  nbd: Interpreted,
  depth: Interpreted,
  start: number,
  end: number,
  px: number,
): Uint8Array[] {
  const ncat = TRACK_DEPTH + st.chain.layers.length + 2;
  const lanes = st.layerStatus.map((ls) =>
    lane(ls.extents, (i) => kindCategory(ls.extents.kind[i]!), start, end, px, ncat),
  );
  lanes.push(lane(map, (i) => mapCategory(map.value[i]!), start, end, px, ncat));
  lanes.push(lane(nbd, (i) => nbdCategory(nbd.value[i]!), start, end, px, ncat));
  lanes.push(
    lane(depth, (i) => (depth.value[i] ? TRACK_DEPTH + depth.value[i]! : TRACK_ABSENT), start, end, px, ncat),
  );
  return lanes;
}
