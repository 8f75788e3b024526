/**
 * What each host cluster of a qcow2 file holds: header, L1 table, L2 tables, refcount table
 * and blocks, snapshot table and snapshot L1 tables, bitmap directory and tables, guest data,
 * or nothing; and, from qemu-img check's comparison of refcounts with references
 * (checkImage()), which clusters are leaked and which are referenced more than their refcount
 * allows. Run-length ranges of clusters in typed arrays, never one object per cluster.
 *
 * An image with an external data file (incompatible bit 2, reference §2.7) has two host files:
 * the qcow2 file holds only metadata, and the L2 entries' host offsets are offsets in the data
 * file (equal to the guest offsets). hostMaps() lays out each file on its own, with its own
 * legend; hostMap() is the qcow2 file's.
 */

import { loadBitmapList } from '../check/bitmaps.ts';
import type { CheckResult } from '../check/result.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { INCOMPAT_DATA_FILE } from '../qcow2/header.ts';
import { entryOffset, type Qcow2Image } from '../qcow2/image.ts';
import { readRefcountTable, reftableEntryOffset } from '../qcow2/refcount.ts';
import { readSnapshotTable } from '../qcow2/snapshots.ts';
import type { Extents } from '../status/extents.ts';
import { KIND_COMPRESSED } from '../status/kinds.ts';

export const HOST_FREE = 0;
export const HOST_HEADER = 1;
export const HOST_L1 = 2;
export const HOST_L2 = 3;
export const HOST_REFTABLE = 4;
export const HOST_REFBLOCK = 5;
export const HOST_SNAPSHOT = 6;
export const HOST_BITMAP = 7;
export const HOST_DATA = 8;
export const HOST_COMPRESSED = 9;
/** Refcount above the references found: qemu-img check's "Leaked cluster". */
export const HOST_LEAKED = 10;
/** More references than the refcount (check's "ERROR cluster ... refcount=a reference=b", a < b). */
export const HOST_TWICE = 11;

export const HOST_NAMES: readonly string[] = [
  'free',
  'header',
  'L1 table',
  'L2 table',
  'refcount table',
  'refcount block',
  'snapshot table / L1',
  'bitmap directory / table',
  'data',
  'compressed data',
  'leaked',
  'referenced twice',
];

export interface HostMap {
  readonly clusterSize: number;
  /** Host clusters in the file (ceil(file size / cluster size)). */
  readonly clusters: number;
  readonly count: number;
  /** First cluster index, cluster count and HOST_* class of each range, sorted by start. */
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly kind: Uint8Array;
}

export interface HostFileMap extends HostMap {
  /** The file laid out: the qcow2 image itself, or its external data file. */
  readonly file: string;
  readonly role: 'image' | 'data-file';
  /** The file's size in bytes: the data file's own size when it was opened, else the end of its last cluster in use. */
  readonly size: number;
  /** Whether the size is the file's (false: the data file was not opened, the size is inferred). */
  readonly sizeKnown: boolean;
  /** The classes this file holds, in HOST_* order, with their cluster counts: its legend. */
  readonly legend: readonly { readonly kind: number; readonly label: string; readonly clusters: number }[];
}

/** Whether the image keeps its guest data in an external data file. */
export const hasDataFile = (img: Qcow2Image): boolean =>
  (img.header.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n;

const legendOf = (m: HostMap): HostFileMap['legend'] => {
  const counts = new Float64Array(HOST_NAMES.length);
  for (let i = 0; i < m.count; i++) counts[m.kind[i]!]! += m.length[i]!;
  const out: { kind: number; label: string; clusters: number }[] = [];
  for (let k = 0; k < counts.length; k++)
    if (counts[k]) out.push({ kind: k, label: HOST_NAMES[k]!, clusters: counts[k]! });
  return out;
};

/**
 * One map per host file of the image: the qcow2 file (metadata, and data unless there is a data
 * file), then, with an external data file, the data file (its data clusters, the rest free).
 * `dataFile` is the data file's source when it was found, for its size.
 */
export async function hostMaps(
  img: Qcow2Image,
  top: Extents,
  opts: { readonly check?: CheckResult; readonly dataFile?: ByteSource } = {},
): Promise<HostFileMap[]> {
  const image = await hostMap(img, top, opts.check);
  const maps: HostFileMap[] = [
    {
      ...image,
      file: img.name,
      role: 'image',
      size: img.source.size,
      sizeKnown: true,
      legend: legendOf(image),
    },
  ];
  if (!hasDataFile(img)) return maps;
  const cs = img.header.clusterSize;
  let end = 0;
  const ranges: number[] = [];
  for (let k = 0; k < top.count; k++) {
    const host = top.host[k]!;
    if (host < 0) continue;
    const a = Math.floor(host / cs);
    const b = Math.ceil((host + top.length[k]!) / cs);
    ranges.push(a, b - a, HOST_DATA);
    end = Math.max(end, b * cs);
  }
  const size = opts.dataFile?.size ?? end;
  const clusters = Math.max(Math.ceil(size / cs), end / cs);
  const data = paint(ranges, clusters, cs);
  maps.push({
    ...data,
    file: img.dataFileName ?? 'data file',
    role: 'data-file',
    size,
    sizeKnown: opts.dataFile !== undefined,
    legend: legendOf(data),
  });
  return maps;
}

/**
 * The qcow2 file's map. `top`: the layer's own block status (layerStatus extents: host offsets
 * of its data, which lie in the data file instead when there is one, and are then left out).
 */
export async function hostMap(img: Qcow2Image, top: Extents, check?: CheckResult): Promise<HostMap> {
  const h = img.header;
  const cs = h.clusterSize;
  const clusters = Math.ceil(img.source.size / cs);
  const ranges: number[] = []; // triples: start cluster, count, kind
  const add = (offset: number, bytes: number, kind: number) => {
    if (!(offset >= 0) || bytes <= 0) return;
    const a = Math.floor(offset / cs);
    const b = Math.min(clusters, Math.ceil((offset + bytes) / cs));
    if (b > a) ranges.push(a, b - a, kind);
  };
  add(0, cs, HOST_HEADER);
  add(h.l1TableOffset, h.l1Size * 8, HOST_L1);
  const l2s = new Set<number>();
  for (let i = 0; i < img.l1.length >>> 1; i++) {
    const o = entryOffset(img.l1[2 * i]!, img.l1[2 * i + 1]!);
    if (o && !l2s.has(o)) {
      l2s.add(o);
      add(o, cs, HOST_L2);
    }
  }
  add(h.refcountTableOffset, h.refcountTableClusters * cs, HOST_REFTABLE);
  try {
    const rt = await readRefcountTable(img);
    for (let i = 0; i < rt.entries; i++) {
      const o = reftableEntryOffset(rt, i);
      if (o) add(o, cs, HOST_REFBLOCK);
    }
  } catch {
    // An unreadable refcount table is the check's finding to report; the map shows what it can.
  }
  if (h.nbSnapshots) {
    try {
      const t = await readSnapshotTable(img);
      add(h.snapshotsOffset, t.size, HOST_SNAPSHOT);
      for (const s of t.snapshots) if (s.l1TableOffset) add(s.l1TableOffset, s.l1Size * 8, HOST_SNAPSHOT);
    } catch {}
  }
  const bm = img.extensions.bitmaps;
  if (bm) {
    add(bm.directoryOffset, bm.directorySize, HOST_BITMAP);
    try {
      const list = await loadBitmapList(img, bm.nbBitmaps, bm.directoryOffset, bm.directorySize);
      if (Array.isArray(list)) for (const b of list) add(b.tableOffset, b.tableEntries * 8, HOST_BITMAP);
    } catch {}
  }
  // With a data file the L2 entries' offsets are in that file, not this one (reference §2.7).
  const dataHere = !hasDataFile(img);
  for (let k = 0; dataHere && k < top.count; k++) {
    const host = top.host[k]!;
    if (host < 0) continue;
    add(host, top.length[k]!, top.kind[k] === KIND_COMPRESSED ? HOST_COMPRESSED : HOST_DATA);
  }
  for (const line of check?.messages ?? []) {
    // compare_refcounts(): "Leaked cluster N refcount=a reference=b" / "ERROR cluster N refcount=a reference=b".
    const m = /^(Leaked|ERROR) cluster (\d+) refcount=(\d+) reference=(\d+)/.exec(line);
    if (m) ranges.push(Number(m[2]), 1, m[1] === 'Leaked' ? HOST_LEAKED : HOST_TWICE);
  }
  return paint(ranges, clusters, cs);
}

/** Sorts the ranges and flattens overlaps: a later class in HOST_* order wins (leaks and double references on top). */
function paint(ranges: number[], clusters: number, clusterSize: number): HostMap {
  const n = ranges.length / 3;
  // Boundaries sweep: at each boundary, the highest class still open decides.
  const ev: number[] = [];
  for (let i = 0; i < n; i++) {
    ev.push(ranges[3 * i]!, i + 1, ranges[3 * i]! + ranges[3 * i + 1]!, -(i + 1));
  }
  const order = Array.from({ length: ev.length / 2 }, (_, i) => i).sort((a, b) => ev[2 * a]! - ev[2 * b]!);
  const open = new Array<number>(12).fill(0);
  const start: number[] = [];
  const length: number[] = [];
  const kind: number[] = [];
  let pos = 0;
  const top = () => {
    for (let k = 11; k > 0; k--) if (open[k]! > 0) return k;
    return HOST_FREE;
  };
  const emit = (to: number, k: number) => {
    if (to <= pos) return;
    const last = kind.length - 1;
    if (last >= 0 && kind[last] === k && start[last]! + length[last]! === pos) length[last]! += to - pos;
    else {
      start.push(pos);
      length.push(to - pos);
      kind.push(k);
    }
    pos = to;
  };
  for (const e of order) {
    const at = Math.min(ev[2 * e]!, clusters);
    emit(at, top());
    const id = ev[2 * e + 1]!;
    const r = Math.abs(id) - 1;
    const k = ranges[3 * r + 2]!;
    // Two owners of one cluster (not a leak mark) are a double reference too.
    open[k]! += id > 0 ? 1 : -1;
  }
  emit(clusters, HOST_FREE);
  return {
    clusterSize,
    clusters,
    count: kind.length,
    start: Float64Array.from(start),
    length: Float64Array.from(length),
    kind: Uint8Array.from(kind),
  };
}
