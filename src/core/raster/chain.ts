/**
 * The raster of an opened chain: heatmap bins of its resolved status, and lanes (each layer's
 * own status before the chain walk, then qemu-img map, NBD base:allocation and allocation depth)
 * over the same classes (classes.ts). Pure functions of core's status and interpretations.
 */
import type { Cancellation } from '../cancel.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import { nbdDepth, nbdFlags } from '../interpret/nbd.ts';
import { MAP_COMPRESSED, MAP_DATA, MAP_PRESENT, MAP_ZERO } from '../interpret/qemuImgMap.ts';
import { runsEnd } from '../runs/runs.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_COMPRESSED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_ZERO,
} from '../status/flags.ts';
import {
  KIND_COMPRESSED,
  KIND_ERROR,
  KIND_NORMAL,
  KIND_RAW_DATA,
  KIND_RAW_EOF_TAIL,
  KIND_RAW_HOLE,
  KIND_ZERO_ALLOC,
  KIND_ZERO_PLAIN,
} from '../status/kinds.ts';
import type { ChainStatus } from '../status/resolve.ts';
import { Binner, MAX_BINS } from './bins.ts';
import { addBitmapBins, type BitmapRaster, bitmapLane } from './bitmap.ts';
import {
  C_ABSENT,
  C_COMPRESSED,
  C_DATA,
  C_DEPTH,
  C_ERROR,
  C_HOLE,
  C_HOLE_52,
  C_TOP,
  C_ZERO,
  chainClassCount,
} from './classes.ts';
import type { LaneRuns } from './lanes.ts';

/** End of the mapped bytes: where the walk stopped on an error, else the image length. */
export function mappedEnd(st: ChainStatus): number {
  return st.error ? runsEnd(st.extents) : st.length;
}

/** The classes of resolved extent i (heatmap). */
export function chainClassifier(st: ChainStatus): (i: number, cls: Int32Array) => number {
  const e = st.extents;
  return (i, cls) => {
    const f = e.flags[i]!;
    const nf = nbdFlags(st, i);
    let m = 0;
    if (!(f & BDRV_BLOCK_ALLOCATED)) cls[m++] = C_ABSENT;
    else if (f & BDRV_BLOCK_ZERO) cls[m++] = C_ZERO;
    else cls[m++] = C_DATA;
    if (!(nf & BDRV_BLOCK_DATA)) cls[m++] = C_HOLE;
    if (!(nf & BDRV_BLOCK_ALLOCATED)) cls[m++] = C_HOLE_52;
    if (f & BDRV_BLOCK_ALLOCATED && e.layer[i] === 0) cls[m++] = C_TOP;
    if (f & BDRV_BLOCK_COMPRESSED) cls[m++] = C_COMPRESSED;
    cls[m++] = C_DEPTH + nbdDepth(st, i);
    return m;
  };
}

/**
 * Heatmap bins of [start, end) over chainClassKeys(layers), with one bitmap's classes when given;
 * pausing at `signal`'s cancellation points (Binner.addRunsPaced).
 */
export async function binChain(
  st: ChainStatus,
  start: number,
  end: number,
  n: number,
  bitmap?: BitmapRaster,
  signal?: Cancellation,
): Promise<Float32Array> {
  const b = new Binner(
    start,
    end,
    Math.min(Math.max(0, n), MAX_BINS),
    chainClassCount(st.chain.layers.length),
  );
  if (end <= start) return b.fractions;
  await b.addRunsPaced(st.extents, chainClassifier(st), signal);
  if (st.error) b.add(mappedEnd(st), st.length, Int32Array.of(C_ERROR), 1);
  if (bitmap) addBitmapBins(b, bitmap);
  return b.fractions;
}

/** A lane's classes from a layer's own block status (kinds.ts), before the chain walk. */
const kindClass = (k: number): number =>
  k === KIND_NORMAL || k === KIND_RAW_DATA
    ? C_DATA
    : k === KIND_ZERO_ALLOC || k === KIND_ZERO_PLAIN || k === KIND_RAW_EOF_TAIL || k === KIND_RAW_HOLE
      ? C_ZERO
      : k === KIND_COMPRESSED
        ? C_COMPRESSED
        : k === KIND_ERROR
          ? C_ERROR
          : C_ABSENT;

/** qemu-img map values as lane classes: compressed, data, zero (present), else absent. */
export const mapValueClass = (v: number, hasPresent = true): number =>
  v & MAP_COMPRESSED
    ? C_COMPRESSED
    : v & MAP_DATA
      ? C_DATA
      : v & MAP_ZERO && (!hasPresent || v & MAP_PRESENT)
        ? C_ZERO
        : C_ABSENT;

/** base:allocation values (bit 0 HOLE, bit 1 ZERO) as lane classes: data, zero, else hole. */
export const nbdValueClass = (v: number): number => (v === 0 ? C_DATA : v === 2 ? C_ZERO : C_HOLE);

/** allocation-depth values as lane classes: depth d, or absent. */
export const depthValueClass = (v: number, layers: number): number =>
  v ? C_DEPTH + Math.min(v, layers) : C_ABSENT;

/** The interpretations a chain's lanes show, computed once per view. */
export interface ChainLaneMaps {
  readonly map: Interpreted;
  readonly nbd: Interpreted;
  readonly depth: Interpreted;
}

/**
 * Lanes of a chain: each layer (top first), then qemu-img map, NBD base:allocation (6.0+),
 * allocation depth, then one per persistent bitmap (`bitmaps`: their qemu:dirty-bitmap runs;
 * undefined for one QEMU will not read, an in-use bitmap).
 */
export function chainLanes(
  st: ChainStatus,
  maps: ChainLaneMaps,
  bitmaps: readonly (Interpreted | undefined)[] = [],
): (LaneRuns | undefined)[] {
  const layers = st.chain.layers.length;
  const lanes: LaneRuns[] = st.layerStatus.map((ls) => ({
    runs: ls.extents,
    classOf: (i: number) => kindClass(ls.extents.kind[i]!),
  }));
  lanes.push({ runs: maps.map, classOf: (i) => mapValueClass(maps.map.value[i]!) });
  lanes.push({ runs: maps.nbd, classOf: (i) => nbdValueClass(maps.nbd.value[i]!) });
  lanes.push({ runs: maps.depth, classOf: (i) => depthValueClass(maps.depth.value[i]!, layers) });
  return [...lanes, ...bitmaps.map((d) => d && bitmapLane(d))];
}

export const CHAIN_LANE_NAMES = ['qemu-img map', 'NBD base:allocation', 'allocation depth'] as const;
