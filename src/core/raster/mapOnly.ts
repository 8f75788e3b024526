/**
 * The raster of a map opened without its image (map files, a link's map): each class is read
 * from the best map that states it, as the image's own raster would show it (chain.ts):
 *   qemu-img map: data, zero, absent (6.1+ "present"), compressed, top and depth;
 *   NBD base:allocation: hole (6.0 rule), hole (5.2 rule), and data/zero when there is no qemu-img map;
 *   qemu:allocation-depth: depth.
 * What no map states is left out (an nbdinfo base:allocation map knows nothing of "absent"), and
 * a lane no map fills says so.
 */
import { ALLOCATION_DEPTH_ID, baseAllocationId, qemuImgMapId } from '../interpret/ids.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import { MAP_COMPRESSED, MAP_DATA, MAP_DEPTH_SHIFT, MAP_PRESENT, MAP_ZERO } from '../interpret/qemuImgMap.ts';
import { QEMU_5_2, QEMU_6_0, QEMU_7_2, QEMU_8_2 } from '../interpret/releases.ts';
import { Binner, MAX_BINS } from './bins.ts';
import { depthValueClass, mapValueClass, nbdValueClass } from './chain.ts';
import {
  C_ABSENT,
  C_COMPRESSED,
  C_DATA,
  C_DEPTH,
  C_HOLE,
  C_HOLE_52,
  C_TOP,
  C_ZERO,
  chainClassCount,
} from './classes.ts';
import type { LaneRuns } from './lanes.ts';

/** What a map file says, by the interpretation it is. */
export type MapRole = 'map' | 'map-6.0' | 'nbd' | 'nbd-5.2' | 'depth' | 'other';

export function mapRole(id: string): MapRole {
  if (id === qemuImgMapId(QEMU_6_0)) return 'map-6.0';
  if (id === qemuImgMapId(QEMU_7_2) || id === qemuImgMapId(QEMU_8_2)) return 'map';
  if (id === baseAllocationId(QEMU_6_0)) return 'nbd';
  if (id === baseAllocationId(QEMU_5_2)) return 'nbd-5.2';
  if (id === ALLOCATION_DEPTH_ID) return 'depth';
  return 'other';
}

export interface MapEntry {
  readonly id: string;
  readonly extents: Interpreted;
}

export class MapRaster {
  readonly classes: number;
  private readonly map?: MapEntry & { readonly hasPresent: boolean };
  private readonly nbd?: MapEntry;
  private readonly nbd52?: MapEntry;
  private readonly depth?: MapEntry;

  constructor(
    maps: readonly MapEntry[],
    readonly layerCount: number,
  ) {
    this.classes = chainClassCount(layerCount);
    const first = (...roles: MapRole[]) => maps.find((m) => roles.includes(mapRole(m.id)));
    const map = first('map', 'map-6.0');
    if (map) this.map = { ...map, hasPresent: mapRole(map.id) === 'map' };
    const nbd = first('nbd');
    if (nbd) this.nbd = nbd;
    const nbd52 = first('nbd-5.2');
    if (nbd52) this.nbd52 = nbd52;
    const depth = first('depth');
    if (depth) this.depth = depth;
  }

  bins(start: number, end: number, n: number): Float32Array {
    const b = new Binner(start, end, Math.min(Math.max(0, n), MAX_BINS), this.classes);
    if (end <= start) return b.fractions;
    const L = this.layerCount;
    const map = this.map;
    if (map) {
      const v = map.extents.value;
      b.addRuns(map.extents, (i, cls) => {
        const x = v[i]!;
        // 6.0 printed no "present": an unallocated cluster reads as a zero one there.
        const present = map.hasPresent ? x & MAP_PRESENT : 1;
        const depth = x >>> MAP_DEPTH_SHIFT;
        let m = 0;
        cls[m++] = !present ? C_ABSENT : x & MAP_ZERO ? C_ZERO : C_DATA;
        if (present && depth === 0) cls[m++] = C_TOP;
        if (x & MAP_COMPRESSED) cls[m++] = C_COMPRESSED;
        if (!this.nbd && !(x & MAP_DATA)) cls[m++] = C_HOLE;
        if (!this.nbd52 && map.hasPresent && !present) cls[m++] = C_HOLE_52;
        if (!this.depth && map.hasPresent) cls[m++] = C_DEPTH + (present ? Math.min(depth + 1, L) : 0);
        return m;
      });
    }
    // base:allocation: bit 0 NBD_STATE_HOLE, bit 1 NBD_STATE_ZERO.
    const nbdContent = map ? undefined : (this.nbd ?? this.nbd52);
    if (nbdContent) {
      const v = nbdContent.extents.value;
      b.addRuns(nbdContent.extents, (i, cls) => {
        const x = v[i]!;
        if (x & 2) cls[0] = C_ZERO;
        else if (!(x & 1)) cls[0] = C_DATA;
        else return 0;
        return 1;
      });
    }
    const bit = (e: MapEntry | undefined, c: number) => {
      if (!e) return;
      const v = e.extents.value;
      b.addRuns(e.extents, (i, cls) => {
        if (!(v[i]! & 1)) return 0;
        cls[0] = c;
        return 1;
      });
    };
    bit(this.nbd, C_HOLE);
    bit(this.nbd52, C_HOLE_52);
    if (this.depth) {
      const v = this.depth.extents.value;
      b.addRuns(this.depth.extents, (i, cls) => {
        cls[0] = C_DEPTH + Math.min(v[i]!, L);
        return 1;
      });
    }
    return b.fractions;
  }

  /** Lane names and notes as the image's (chain.ts): a lane per layer, then qemu-img map, NBD, depth. */
  laneNotes(): (string | undefined)[] {
    const perLayer = this.map?.hasPresent
      ? undefined
      : 'this map does not say which layer holds what (a qemu-img map of QEMU 6.1 or later does)';
    return [
      ...Array.from({ length: this.layerCount }, () => perLayer),
      this.map ? undefined : 'no qemu-img map among the maps opened',
      this.nbd || this.nbd52 ? undefined : 'no nbdinfo --map (base:allocation) among the maps opened',
      this.depth || this.map?.hasPresent
        ? undefined
        : 'no nbdinfo --map=qemu:allocation-depth among the maps opened',
    ];
  }

  /** The lanes (names as laneNotes): undefined where the maps do not tell. */
  laneRuns(): (LaneRuns | undefined)[] {
    const L = this.layerCount;
    const map = this.map;
    const lanes: (LaneRuns | undefined)[] = [];
    for (let d = 0; d < L; d++) {
      if (!map?.hasPresent) {
        lanes.push(undefined);
        continue;
      }
      const v = map.extents.value;
      lanes.push({
        runs: map.extents,
        classOf: (i) =>
          v[i]! & MAP_PRESENT && v[i]! >>> MAP_DEPTH_SHIFT === d ? mapValueClass(v[i]!) : C_ABSENT,
      });
    }
    lanes.push(
      map && { runs: map.extents, classOf: (i) => mapValueClass(map.extents.value[i]!, map.hasPresent) },
    );
    const nbd = this.nbd ?? this.nbd52;
    lanes.push(nbd && { runs: nbd.extents, classOf: (i) => nbdValueClass(nbd.extents.value[i]!) });
    const depth = this.depth;
    if (depth)
      lanes.push({ runs: depth.extents, classOf: (i) => depthValueClass(depth.extents.value[i]!, L) });
    else if (map?.hasPresent) {
      // qemu-img map's depth is the layer's index; allocation depth is one more (0: absent).
      const v = map.extents.value;
      lanes.push({
        runs: map.extents,
        classOf: (i) => depthValueClass(v[i]! & MAP_PRESENT ? (v[i]! >>> MAP_DEPTH_SHIFT) + 1 : 0, L),
      });
    } else lanes.push(undefined);
    return lanes;
  }

  /** The grid's cell at full zoom: the largest power of two (512 to 64 KiB) every extent is a multiple of. */
  clusterSize(length: number): number {
    const m = (this.map ?? this.nbd ?? this.nbd52 ?? this.depth)?.extents;
    let s = 16;
    if (m) {
      for (let i = 0; i < m.count && s > 9; i++) {
        while (s > 9 && (m.start[i]! % 2 ** s !== 0 || m.length[i]! % 2 ** s !== 0)) s--;
      }
    }
    return Math.min(length || 512, 2 ** s);
  }
}
