/**
 * A map without its image as a source (source.ts): the extents of one or more interpretations,
 * from map files (core/import/mapFile.ts) or a link (core/share/mapCodec.ts). It answers what an
 * image's source answers, as far as the maps tell (core/raster/mapOnly.ts), in words that say
 * which file said it and what only the image could tell.
 */
import { LimitError } from '../core/errors.ts';
import { binarySize, hex } from '../core/format.ts';
import { MAX_MAP_FILE_BYTES, parseMapFile } from '../core/import/mapFile.ts';
import { catalogueEntry } from '../core/interpret/catalogue.ts';
import { formatNbdinfo } from '../core/interpret/nbd.ts';
import { formatMapJson, MAP_DEPTH_SHIFT } from '../core/interpret/qemuImgMap.ts';
import { describeView, formatView, parseView } from '../core/interpret/viewSource.ts';
import { MAX_CHAIN_DEPTH } from '../core/limits.ts';
import { CHAIN_LANE_NAMES } from '../core/raster/chain.ts';
import { chainClassKeys } from '../core/raster/classes.ts';
import type { LaneRuns } from '../core/raster/lanes.ts';
import { MapRaster, mapRole } from '../core/raster/mapOnly.ts';
import { runAt } from '../core/runs/runs.ts';
import {
  decodeLinkMap,
  type LinkMap,
  type LinkMapEntry,
  MAX_LINK_MAP_CHARS,
  MAX_MAP_FILE_MAP_CHARS,
} from '../core/share/mapCodec.ts';
import type { OpenFrom } from '../protocol/calls.ts';
import type { ExportFormat, ExportResult, Hit, RowsPage } from '../protocol/results.ts';
import type { ChainInfo, LayerInfo, MapOnlyInfo, SourceId, ViewInfo } from '../protocol/source.ts';
import { type RowsQuery, rowsPage } from './rows.ts';
import { exportError, type MapSource, noViews, type SideData, SourceError } from './source.ts';

interface Entry extends LinkMapEntry {
  /** The file (or "the link") it came from. */
  readonly name: string;
}

const titleOf = (id: string): string => catalogueEntry(id.split('@')[0]!)?.interpretation.title ?? id;
const labelOf = (id: string) => {
  const i = catalogueEntry(id.split('@')[0]!)?.interpretation;
  return (v: number) => i?.label(v) ?? String(v);
};

export class MapOnlySource implements MapSource {
  private readonly raster: MapRaster;
  private readonly clusterSize: number;

  private constructor(
    readonly id: SourceId,
    private readonly entries: readonly Entry[],
    private readonly meta: MapOnlyInfo,
    private readonly length: number,
    private readonly layerCount: number,
  ) {
    this.raster = new MapRaster(entries, layerCount);
    this.clusterSize = this.raster.clusterSize(length);
  }

  /** Opens map files and a link's map as one source. */
  static async open(id: SourceId, from: Extract<OpenFrom, { kind: 'maps' }>): Promise<MapOnlySource> {
    const all: Entry[] = [];
    let length = 0;
    let layers = Math.max(1, from.files.length);
    let fromLink = false;
    const deeper = (d: number, name: string) => {
      if (d > MAX_CHAIN_DEPTH)
        throw new LimitError(
          { file: name, structure: 'map' },
          `names a layer at depth ${d}, deeper than a backing chain may be (MAX_CHAIN_DEPTH ${MAX_CHAIN_DEPTH})`,
        );
      layers = Math.max(layers, d);
    };
    for (const s of from.maps) {
      if (s.kind === 'link') {
        const lm = decodeLinkMap(s.payload, s.fromFile ? MAX_MAP_FILE_MAP_CHARS : MAX_LINK_MAP_CHARS);
        fromLink = true;
        length = Math.max(length, lm.length);
        deeper(lm.layerCount, s.fromFile ?? 'the link');
        for (const e of lm.maps) all.push({ ...e, name: s.fromFile ?? 'the link' });
        continue;
      }
      const name = s.kind === 'file' ? s.file.name : s.name;
      if (s.kind === 'file' && s.file.size > MAX_MAP_FILE_BYTES) {
        throw new LimitError(
          { file: name, structure: 'map file' },
          `larger than ${MAX_MAP_FILE_BYTES} bytes (MAX_MAP_FILE_BYTES)`,
        );
      }
      const m = parseMapFile(name, s.kind === 'file' ? await s.file.text() : s.text);
      length = Math.max(length, m.length);
      const role = mapRole(m.interpretationId);
      const v = m.extents.value;
      if (role === 'map' || role === 'map-6.0')
        for (let i = 0; i < m.extents.count; i++) deeper((v[i]! >>> MAP_DEPTH_SHIFT) + 1, name);
      if (role === 'depth') for (let i = 0; i < m.extents.count; i++) deeper(v[i]!, name);
      all.push({ id: m.interpretationId, name, extents: m.extents });
    }
    const meta: MapOnlyInfo = {
      fromLink,
      files: from.files,
      ...(from.image && { image: from.image }),
      sources: all.map((e) => ({ name: e.name, interpretation: e.id, title: titleOf(e.id) })),
    };
    return new MapOnlySource(id, all, meta, length, layers);
  }

  info(): ChainInfo {
    const layers: LayerInfo[] = Array.from({ length: this.layerCount }, (_, d) => ({
      name: this.meta.files[d] ?? (d === 0 ? 'top (depth 0)' : `depth ${d}`),
      format: 'qcow2',
      virtualSize: this.length,
      fileSize: 0,
    }));
    const notes = this.raster.laneNotes();
    return {
      kind: 'map',
      id: this.id,
      layers,
      length: this.length,
      clusterSize: this.clusterSize,
      subclusters: false,
      classes: chainClassKeys(this.layerCount),
      lanes: [...layers.map((l) => l.name), ...CHAIN_LANE_NAMES].map((name, i) => ({
        name,
        ...(notes[i] !== undefined && { note: notes[i] }),
      })),
      complete: true,
      mappedEnd: this.length,
      findings: [],
      rejected: [],
      unused: [],
      mapOnly: this.meta,
    };
  }

  async view(view: string): Promise<ViewInfo> {
    noViews(view, 'a map without its image');
    return { view, length: this.length };
  }

  async bins(view: string, start: number, end: number, n: number): Promise<Float32Array> {
    noViews(view, 'a map without its image');
    return this.raster.bins(start, end, n);
  }

  async laneRuns(view: string): Promise<(LaneRuns | undefined)[]> {
    noViews(view, 'a map without its image');
    return this.raster.laneRuns();
  }

  async hit(view: string, offset: number): Promise<Hit | null> {
    noViews(view, 'a map without its image');
    if (!(offset >= 0 && offset < this.length)) return null;
    const cs = this.clusterSize;
    const clusterStart = offset - (offset % cs);
    const values = this.entries.map((e) => {
      const i = runAt(e.extents, offset);
      const value = i < 0 ? 0 : e.extents.value[i]!;
      const label = i < 0 ? 'not in the map' : labelOf(e.id)(value);
      return {
        id: e.id,
        title: titleOf(e.id),
        value,
        label,
        explain: `${e.name} says ${label} here. Why (which layer's L2 entry, which rule) needs the image itself: drop it to see.`,
      };
    });
    return {
      offset,
      clusterStart,
      clusterEnd: Math.min(clusterStart + cs, this.length),
      clusterIndex: Math.floor(offset / cs),
      entries: [],
      values,
      summary: `From ${[...new Set(this.entries.map((e) => e.name))].join(', ')}: ${values
        .map((v) => `${v.title} says ${v.label}`)
        .join('; ')}. Without the image there are no L2 entries, host offsets or refcounts to show.`,
    };
  }

  /** The rows of the map's first tool output: qemu-img map rows, else nbdinfo lines. */
  async rows(view: string, q: RowsQuery): Promise<RowsPage> {
    noViews(view, 'a map without its image');
    const e = this.entries[0];
    if (!e) throw new SourceError('the map is empty');
    const label = labelOf(e.id);
    const m = e.extents;
    return rowsPage(m, q, {
      columns: ['start', 'length', titleOf(e.id), 'offset'],
      cells: (i, start, length) => [
        hex(start),
        binarySize(length),
        label(m.value[i]!),
        m.host[i]! >= 0 ? hex(m.host[i]! + (start - m.start[i]!)) : '—',
      ],
    });
  }

  /** The map's own formats, as far as the maps know them (no host offsets from a link). */
  async export(view: string, format: ExportFormat, release: number): Promise<ExportResult> {
    noViews(view, 'a map without its image');
    const map = this.entries.find((e) => ['map', 'map-6.0'].includes(mapRole(e.id)));
    if (format === 'qemu-img-map-json' && map) return { text: formatMapJson(map.extents, release) };
    const nbd = this.entries.find((e) => ['nbd', 'nbd-5.2'].includes(mapRole(e.id)));
    if (format === 'nbdinfo-map' && nbd) return { text: formatNbdinfo(nbd.extents, labelOf(nbd.id)) };
    return exportError(format, `this map (${this.meta.sources.map((s) => s.title).join(', ')})`);
  }

  async share(): Promise<LinkMap> {
    return {
      length: this.length,
      layerCount: this.layerCount,
      maps: this.entries.map(({ id, extents }) => ({ id, extents })),
    };
  }

  /** A diff side: the extents the map carries for INTERP@VIEW (a link made while comparing carries A and B). */
  async side(interp: string, view: string): Promise<SideData> {
    const entry = catalogueEntry(interp);
    if (!entry) throw new SourceError(`unknown interpretation '${interp}'`);
    const vs = parseView(view);
    const canon = formatView(vs);
    const id = canon ? `${interp}@${canon}` : interp;
    const found = this.entries.find((e) => e.id === id);
    if (!found) {
      const carried = this.entries.map((e) => e.id).filter((x) => catalogueEntry(x.split('@')[0]!));
      throw new SourceError(
        `this map was shared without its image and carries no extents for ${id}` +
          (carried.length
            ? `; it carries ${carried.join(', ')}`
            : '; it was shared without a comparison ("Copy link with map" while comparing carries A and B)'),
      );
    }
    return {
      entry,
      view: vs,
      extents: found.extents,
      file: this.meta.files[0] ?? found.name,
      length: this.length,
      clusterSize: this.clusterSize,
      extendedL2: false,
      viewWords: `${describeView(vs)} (from the shared map)`,
      // A side's own tool output needs the image's metadata.
      nativeFormats: [],
    };
  }
}
