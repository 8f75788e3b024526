/**
 * A map without its image (issue 5): the extents of one or more interpretations, from map
 * files (core/import/mapFile.ts) or from a link (core/share/mapCodec.ts), answering the same
 * bin, track and hit requests as an image's Session. Each heatmap class is read from the best
 * source that has it:
 *   qemu-img map: data, zero, present (absent), compressed, depth (top, allocation depth);
 *   NBD base:allocation: hole (6.0+ rule: not data), and data/zero when there is no qemu-img map;
 *   qemu:allocation-depth: allocation depth.
 * What no source says is left out (an nbdinfo base:allocation map knows nothing of "absent").
 */

import { LimitError } from '../core/errors.ts';
import { type ImportedMap, MAX_MAP_FILE_BYTES, parseMapFile } from '../core/import/mapFile.ts';
import { catalogueEntry } from '../core/interpret/catalogue.ts';
import { ALLOCATION_DEPTH_ID, baseAllocationId, qemuImgMapId } from '../core/interpret/ids.ts';
import type { Interpreted } from '../core/interpret/interpretation.ts';
import { formatNbdinfo } from '../core/interpret/nbd.ts';
import {
  formatMapJson,
  MAP_COMPRESSED,
  MAP_DATA,
  MAP_DEPTH_SHIFT,
  MAP_PRESENT,
  MAP_ZERO,
} from '../core/interpret/qemuImgMap.ts';
import { QEMU_5_2, QEMU_6_0, QEMU_7_2, QEMU_8_2 } from '../core/interpret/releases.ts';
import {
  decodeLinkMap,
  encodeLinkMap,
  type LinkMapEntry,
  MAX_LINK_MAP_CHARS,
  MAX_MAP_FILE_MAP_CHARS,
} from '../core/share/mapCodec.ts';
import type { MapOnlyInfo, MapOpenMeta, MapSource } from './mapFileProtocol.ts';
import {
  BIN_ABSENT,
  BIN_COMPRESSED,
  BIN_DATA,
  BIN_DEPTH,
  BIN_HOLE,
  BIN_HOLE_52,
  BIN_TOP,
  BIN_ZERO,
  binClassCount,
  type ChainInfo,
  type HitDetail,
  type LayerInfo,
  TRACK_ABSENT,
  TRACK_DEPTH,
  TRACK_NONE,
} from './protocol.ts';
import { lane, mapCategory, nbdCategory } from './tracks.ts';

type Role = 'map' | 'map-old' | 'nbd' | 'nbd52' | 'depth' | 'other';

const roleOf = (id: string): Role => {
  if (id === qemuImgMapId(QEMU_6_0)) return 'map-old';
  if (id === qemuImgMapId(QEMU_7_2) || id === qemuImgMapId(QEMU_8_2)) return 'map';
  if (id === baseAllocationId(QEMU_6_0)) return 'nbd';
  if (id === baseAllocationId(QEMU_5_2)) return 'nbd52';
  if (id === ALLOCATION_DEPTH_ID) return 'depth';
  return 'other';
};

interface Source extends LinkMapEntry {
  readonly name: string;
  readonly role: Role;
}

const gridCluster = (m: Interpreted | undefined): number => {
  let s = 16; // 64 KiB, qcow2's default
  if (!m) return 2 ** s;
  for (let i = 0; i < m.count && s > 9; i++) {
    while (s > 9 && (m.start[i]! % 2 ** s !== 0 || m.length[i]! % 2 ** s !== 0)) s--;
  }
  return 2 ** s;
};

export class MapSession {
  readonly length: number;
  readonly layerCount: number;
  private readonly map?: Source;
  private readonly nbd?: Source;
  private readonly nbd52?: Source;
  private readonly depth?: Source;

  constructor(
    private readonly sources: readonly Source[],
    private readonly meta: MapOnlyInfo,
    length: number,
    layerCount: number,
  ) {
    this.length = length;
    this.layerCount = Math.max(1, layerCount);
    const first = (...roles: Role[]) => sources.find((s) => roles.includes(s.role));
    const map = first('map', 'map-old');
    const nbd = first('nbd');
    const nbd52 = first('nbd52');
    const depth = first('depth');
    if (map) this.map = map;
    if (nbd) this.nbd = nbd;
    if (nbd52) this.nbd52 = nbd52;
    if (depth) this.depth = depth;
  }

  info(): ChainInfo {
    const layers: LayerInfo[] = Array.from({ length: this.layerCount }, (_, d) => ({
      name: this.meta.files[d] ?? (d === 0 ? 'top (depth 0)' : `depth ${d}`),
      format: 'qcow2',
      virtualSize: this.length,
      fileSize: 0,
    }));
    return {
      layers,
      length: this.length,
      clusterSize: Math.min(this.length || 512, gridCluster((this.map ?? this.nbd ?? this.depth)?.extents)),
      findings: [],
      rejected: [],
      unused: [],
      extents: {
        count: 0,
        start: new Float64Array(),
        length: new Float64Array(),
        kind: new Uint8Array(),
        flags: new Uint8Array(),
        layer: new Uint16Array(),
        host: new Float64Array(),
      },
      mapOnly: this.meta,
    };
  }

  bins(start: number, end: number, n: number): Float32Array {
    const classes = binClassCount(this.layerCount);
    const out = new Float32Array(n * classes);
    if (n <= 0 || end <= start) return out;
    const span = end - start;
    const binStart = (b: number) => start + (span * b) / n;
    const add = (m: Interpreted, cls: (v: number) => readonly number[]) => {
      let lo = 0;
      let hi = m.count;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (m.start[mid]! + m.length[mid]! <= start) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < m.count && m.start[i]! < end; i++) {
        const c = cls(m.value[i]!);
        if (c.length === 0) continue;
        const from = Math.max(start, m.start[i]!);
        const to = Math.min(end, m.start[i]! + m.length[i]!);
        for (let b = Math.min(n - 1, Math.floor(((from - start) * n) / span)); b < n; b++) {
          const a = Math.max(from, binStart(b));
          const z = Math.min(to, binStart(b + 1));
          if (z <= a) break;
          for (const k of c) out[b * classes + k]! += z - a;
        }
      }
    };
    const map = this.map;
    if (map) {
      const hasPresent = map.role === 'map';
      add(map.extents, (v) => {
        const c: number[] = [];
        const present = hasPresent ? v & MAP_PRESENT : 1;
        const depth = v >>> MAP_DEPTH_SHIFT;
        if (v & MAP_DATA) c.push(BIN_DATA);
        if (v & MAP_ZERO) c.push(BIN_ZERO);
        if (!present) c.push(BIN_ABSENT);
        if (present && depth === 0) c.push(BIN_TOP);
        if (v & MAP_COMPRESSED) c.push(BIN_COMPRESSED);
        if (!this.nbd && !(v & MAP_DATA)) c.push(BIN_HOLE);
        if (!this.nbd52 && !present) c.push(BIN_HOLE_52);
        if (!this.depth && hasPresent)
          c.push(BIN_DEPTH + (present ? Math.min(depth + 1, this.layerCount) : 0));
        return c;
      });
    }
    // base:allocation: bit 0 NBD_STATE_HOLE, bit 1 NBD_STATE_ZERO.
    const nbdData = this.nbd ?? this.nbd52;
    if (nbdData && !map) {
      add(nbdData.extents, (v) => [...(v & 1 ? [] : [BIN_DATA]), ...(v & 2 ? [BIN_ZERO] : [])]);
    }
    if (this.nbd) add(this.nbd.extents, (v) => (v & 1 ? [BIN_HOLE] : []));
    if (this.nbd52) add(this.nbd52.extents, (v) => (v & 1 ? [BIN_HOLE_52] : []));
    if (this.depth) add(this.depth.extents, (v) => [BIN_DEPTH + Math.min(v, this.layerCount)]);
    for (let b = 0; b < n; b++) {
      const w = binStart(b + 1) - binStart(b);
      for (let c = 0; c < classes; c++) out[b * classes + c]! /= w;
    }
    return out;
  }

  /** Lanes as Session.tracks: a lane per layer (what the map says that layer decides), then qemu-img map, NBD, depth. */
  tracks(start: number, end: number, px: number): { lanes: number; values: Uint8Array } {
    const ncat = TRACK_DEPTH + this.layerCount + 2;
    const none = () => new Uint8Array(px).fill(TRACK_NONE);
    const lanes: Uint8Array[] = [];
    const map = this.map;
    for (let d = 0; d < this.layerCount; d++) {
      if (map?.role !== 'map') {
        lanes.push(none());
        continue;
      }
      const m = map.extents;
      const mine = (i: number) => m.value[i]! & MAP_PRESENT && m.value[i]! >>> MAP_DEPTH_SHIFT === d;
      const l = lane(m, (i) => (mine(i) ? mapCategory(m.value[i]!) : TRACK_ABSENT), start, end, px, ncat);
      lanes.push(l);
    }
    lanes.push(
      map ? lane(map.extents, (i) => mapCategory(map.extents.value[i]!), start, end, px, ncat) : none(),
    );
    const nbd = this.nbd ?? this.nbd52;
    lanes.push(
      nbd ? lane(nbd.extents, (i) => nbdCategory(nbd.extents.value[i]!), start, end, px, ncat) : none(),
    );
    const depth = this.depth;
    lanes.push(
      depth
        ? lane(
            depth.extents,
            (i) =>
              depth.extents.value[i]
                ? TRACK_DEPTH + Math.min(depth.extents.value[i]!, this.layerCount)
                : TRACK_ABSENT,
            start,
            end,
            px,
            ncat,
          )
        : none(),
    );
    const values = new Uint8Array(lanes.length * px);
    for (const [i, l] of lanes.entries()) values.set(l, i * px);
    return { lanes: lanes.length, values };
  }

  async hit(offset: number): Promise<HitDetail | undefined> {
    if (!(offset >= 0 && offset < this.length)) return undefined;
    const cs = this.info().clusterSize;
    const clusterStart = offset - (offset % cs);
    const values = this.sources.map((s) => {
      const m = s.extents;
      let lo = 0;
      let hi = m.count - 1;
      let v = 0;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (offset < m.start[mid]!) hi = mid - 1;
        else if (offset >= m.start[mid]! + m.length[mid]!) lo = mid + 1;
        else {
          v = m.value[mid]!;
          break;
        }
      }
      const interp = catalogueEntry(s.id)?.interpretation;
      return {
        id: s.id,
        title: interp?.title ?? s.id,
        value: v,
        label: interp?.label(v) ?? String(v),
        explain: `As ${s.name} says; without the image, clusterscope cannot say why.`,
      };
    });
    return {
      offset,
      clusterStart,
      clusterEnd: Math.min(clusterStart + cs, this.length),
      clusterIndex: Math.floor(offset / cs),
      layer: 0,
      layerName: this.meta.files[0] ?? '',
      kind: 'MAP',
      flags: '-',
      hostOffset: -1,
      entries: [],
      values,
      summary: `From ${this.sources.map((s) => s.name).join(', ')}: ${values.map((v) => `${v.title}: ${v.label}`).join('; ')}`,
    };
  }

  /** The map's own formats, as far as the map knows them (no host offsets from a link). */
  export(format: 'qemu-img-map-json' | 'nbdinfo-map', release: number): string {
    if (format === 'qemu-img-map-json' && this.map) return formatMapJson(this.map.extents, release);
    const nbd = this.nbd ?? this.nbd52;
    if (format === 'nbdinfo-map' && nbd)
      return formatNbdinfo(nbd.extents, (v) => catalogueEntry(nbd.id)?.interpretation.label(v) ?? String(v));
    return '';
  }

  /** The extents a source of this map gives for interpretation `id` (a diff side's INTERP@VIEW). */
  extentsOf(id: string): Interpreted | undefined {
    return this.sources.find((s) => s.id === id)?.extents;
  }

  /** The interpretation ids this map carries. */
  get ids(): readonly string[] {
    return this.sources.map((s) => s.id);
  }

  /** The link form of this map: all its sources. */
  shareMap(): string {
    return encodeLinkMap({ length: this.length, layerCount: this.layerCount, maps: this.sources });
  }
}

const imported = (name: string, m: ImportedMap): Source => ({
  id: m.interpretationId,
  name,
  role: roleOf(m.interpretationId),
  extents: m.extents,
});

/** Opens map files and/or a link's map as one map-only session. */
export async function openMapSession(sources: readonly MapSource[], meta: MapOpenMeta): Promise<MapSession> {
  const all: Source[] = [];
  let length = 0;
  let layerCount = Math.max(1, meta.files.length);
  let fromLink = false;
  for (const s of sources) {
    if (s.kind === 'link') {
      const lm = decodeLinkMap(s.payload, s.fromFile ? MAX_MAP_FILE_MAP_CHARS : MAX_LINK_MAP_CHARS);
      fromLink = true;
      length = Math.max(length, lm.length);
      layerCount = Math.max(layerCount, lm.layerCount);
      for (const e of lm.maps) all.push({ ...e, name: s.fromFile ?? 'the link', role: roleOf(e.id) });
      continue;
    }
    const name = s.kind === 'file' ? s.file.name : s.name;
    if (s.kind === 'file' && s.file.size > MAX_MAP_FILE_BYTES) {
      throw new LimitError(
        { file: name, structure: 'map file' },
        `larger than ${MAX_MAP_FILE_BYTES} bytes (MAX_MAP_FILE_BYTES)`,
      );
    }
    const text = s.kind === 'file' ? await s.file.text() : s.text;
    const m = parseMapFile(name, text);
    length = Math.max(length, m.length);
    const src = imported(name, m);
    if (src.role === 'map' || src.role === 'map-old') {
      const v = m.extents.value;
      for (let i = 0; i < m.extents.count; i++)
        layerCount = Math.max(layerCount, (v[i]! >>> MAP_DEPTH_SHIFT) + 1);
    }
    if (src.role === 'depth') for (const v of m.extents.value) layerCount = Math.max(layerCount, v);
    all.push(src);
  }
  const info: MapOnlyInfo = {
    fromLink,
    files: meta.files,
    ...(meta.image && { image: meta.image }),
    sources: all.map((s) => ({ name: s.name, interpretation: s.id })),
  };
  return new MapSession(all, info, length, layerCount);
}
