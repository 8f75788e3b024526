/**
 * NBD `qemu:dirty-bitmap:NAME` as qemu-nbd 7.2 serves it (`qemu-nbd -r -B NAME`, nbdinfo
 * --map=qemu:dirty-bitmap:NAME), and what an incremental backup reads: the dirty ranges
 * split by what block status says lies there (data, zero, absent).
 *
 * Which bitmap: nbd_export_create() (nbd/server.c) looks for NAME in the exported node and then
 * down its backing chain (bdrv_filter_or_cow_bs()), taking the first node that has one. A
 * bitmap shorter than the export (a shorter backing file's) reads as clean past its end, as
 * bdrv_dirty_bitmap_next_dirty_area() finds nothing there; one longer is cut at the export's end.
 * An in-use bitmap (BME_FLAG_IN_USE on disk: the program that had it open did not close it) is
 * loaded as inconsistent and qemu-nbd refuses it, enabled or disabled
 * ("Bitmap 'NAME' is inconsistent and cannot be used", exit 1; checked with qemu-nbd 7.2).
 */

import type { Chain } from '../chain/chain.ts';
import { CorruptError } from '../errors.ts';
import { binarySize, hex } from '../format.ts';
import {
  type DirtyExtents,
  type PersistentBitmap,
  readBitmaps,
  readBitmapTable,
  readDirtyExtents,
} from '../qcow2/bitmaps.ts';
import { findExtent } from '../status/extents.ts';
import { BDRV_BLOCK_ALLOCATED, BDRV_BLOCK_ZERO } from '../status/flags.ts';
import type { ChainStatus } from '../status/resolve.ts';
import type { CatalogueEntry } from './catalogue.ts';
import { dirtyFact } from './facts.ts';
import { DIRTY_BITMAP_ID_PREFIX, dirtyBitmapId } from './ids.ts';
import type { Interpretation, Interpreted } from './interpretation.ts';
import { nbdFlags } from './nbd.ts';

export { DIRTY_BITMAP_ID_PREFIX, dirtyBitmapId };

/** nbdinfo's words for qemu:dirty-bitmap values (libnbd: 1 = "dirty", 0 = "clean"). */
export const DIRTY_BITMAP_LABELS = ['clean', 'dirty'] as const;

/** A persistent bitmap of one layer of a chain. */
export interface ChainBitmap {
  /** Layer index, 0 = top. */
  readonly layer: number;
  readonly layerName: string;
  /** The layer's virtual size: the bitmap covers exactly this much. */
  readonly layerLength: number;
  readonly bitmap: PersistentBitmap;
}

/** Every persistent bitmap of every qcow2 layer, top first, in directory order. */
export async function chainBitmaps(chain: Chain): Promise<ChainBitmap[]> {
  const out: ChainBitmap[] = [];
  for (let i = 0; i < chain.layers.length; i++) {
    const l = chain.layers[i]!;
    if (l.format !== 'qcow2' || l.header.version < 3) continue;
    for (const bitmap of await readBitmaps(l)) {
      out.push({ layer: i, layerName: l.name, layerLength: l.length, bitmap });
    }
  }
  return out;
}

export interface LoadedDirtyBitmap extends ChainBitmap {
  /** Dirty ranges in guest bytes, clipped to the layer's length. */
  readonly dirty: DirtyExtents;
}

/**
 * The bitmap qemu-nbd -B NAME exports: the first layer, from the top, that has one so named;
 * undefined when none has (qemu-nbd: "Bitmap 'NAME' is not found", exit 1).
 */
export async function loadDirtyBitmap(chain: Chain, name: string): Promise<LoadedDirtyBitmap | undefined> {
  const found = (await chainBitmaps(chain)).find((b) => b.bitmap.name === name);
  return found && loadChainBitmap(chain, found);
}

/**
 * One bitmap of chainBitmaps() with its dirty ranges, whether or not qemu-nbd -B would export
 * it (a bitmap of a lower layer shadowed by one of the same name above still has its bits).
 * An in-use bitmap throws as qemu-nbd refuses it.
 */
export async function loadChainBitmap(
  chain: Chain,
  found: ChainBitmap,
): Promise<LoadedDirtyBitmap | undefined> {
  const name = found.bitmap.name;
  const img = chain.layers[found.layer]!;
  if (img.format !== 'qcow2') return undefined;
  if (found.bitmap.flags.inUse) {
    throw new CorruptError(
      { file: img.name, structure: `bitmap directory entry '${name}'`, offset: found.bitmap.entryOffset },
      `Bitmap '${name}' is inconsistent and cannot be used (in-use flag set: the program that had it open did not close it)`,
    );
  }
  await readBitmapTable(img, found.bitmap);
  return { ...found, dirty: await readDirtyExtents(img, found.bitmap) };
}

export const DIRTY_CLEAN = 0;
export const DIRTY_SET = 1;

/** Dirty runs over [0, length): clean between them, clean past the bitmap's end. */
function dirtyRuns(b: LoadedDirtyBitmap, length: number): Interpreted {
  const d = b.dirty;
  const cap = 2 * d.count + 1;
  const start = new Float64Array(cap);
  const len = new Float64Array(cap);
  const value = new Uint32Array(cap);
  let m = 0;
  let pos = 0;
  const push = (s: number, e: number, v: number) => {
    if (e <= s) return;
    start[m] = s;
    len[m] = e - s;
    value[m] = v;
    m++;
  };
  for (let i = 0; i < d.count && pos < length; i++) {
    const s = Math.min(d.starts[i]!, length);
    const e = Math.min(s + d.lengths[i]!, length);
    push(pos, s, DIRTY_CLEAN);
    push(s, e, DIRTY_SET);
    pos = e;
  }
  push(pos, length, DIRTY_CLEAN);
  return {
    count: m,
    start: start.slice(0, m),
    length: len.slice(0, m),
    value: value.slice(0, m),
    host: new Float64Array(m).fill(-1),
    layer: new Uint16Array(m).fill(b.layer),
  };
}

/** The interpretation `nbd-dirty-bitmap-NAME` (ids.ts) for one loaded bitmap. */
export function dirtyBitmap(b: LoadedDirtyBitmap): Interpretation {
  const name = b.bitmap.name;
  const state = b.bitmap.flags.auto ? 'enabled' : 'disabled';
  return {
    id: dirtyBitmapId(name),
    title: `NBD qemu:dirty-bitmap:${name}`,
    legend: [
      {
        value: DIRTY_CLEAN,
        label: 'clean',
        description: 'bit clear: not written since the bitmap was created or cleared',
      },
      {
        value: DIRTY_SET,
        label: 'dirty',
        description: 'bit set: written (data, zeroes or discard) while the bitmap was enabled',
      },
    ],
    label: (v) => DIRTY_BITMAP_LABELS[v] ?? String(v),
    facts: [dirtyFact(name)],
    factsOf: (v) => [v === DIRTY_SET ? 1 : 0],
    compute: (st) => dirtyRuns(b, st.length),
    explain(st, offset) {
      const where = `bitmap '${name}' of ${b.layerName} (layer ${b.layer}${b.layer === 0 ? ', the top' : ''}; ${state}, granularity ${binarySize(b.bitmap.granularity)})`;
      const found =
        b.layer === 0 ? '' : ' qemu-nbd -B found it there because no layer above has a bitmap of that name.';
      if (offset >= st.length)
        return `offset ${hex(offset)} is past the end of the image (${hex(st.length)})`;
      if (offset >= b.layerLength) {
        return `qemu:dirty-bitmap:${name} 0 (clean): the offset lies past the end of ${where}, which covers only ${b.layerLength} bytes; QEMU finds no dirty bit there.${found}`;
      }
      const bit = Math.floor(offset / b.bitmap.granularity);
      const runs = dirtyRuns(b, st.length);
      const i = findRun(runs, offset);
      const v = runs.value[i]!;
      const chunk = `[${hex(bit * b.bitmap.granularity)}, ${hex(Math.min((bit + 1) * b.bitmap.granularity, b.layerLength))})`;
      return `qemu:dirty-bitmap:${name} ${v} (${DIRTY_BITMAP_LABELS[v]}): bit ${bit} of ${where}, covering ${chunk}, is ${v ? 'set' : 'clear'}.${found}`;
    },
  };
}

function findRun(r: Interpreted, offset: number): number {
  let lo = 0;
  let hi = r.count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (r.start[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Whether qemu-nbd -B NAME exports this bitmap: it is the first of its name from the top
 * (nbd_export_create() stops at the first layer that has one).
 */
export const isExported = (all: readonly ChainBitmap[], b: ChainBitmap): boolean =>
  all.find((x) => x.bitmap.name === b.bitmap.name) === b;

/** The catalogue's view of a loaded bitmap, so a diff side can read it like any interpretation. */
export function dirtyBitmapEntry(b: LoadedDirtyBitmap): CatalogueEntry {
  const interpretation = dirtyBitmap(b);
  return {
    id: interpretation.id,
    interpretation,
    provenance: 'recorded',
    basis:
      'qemu:dirty-bitmap:NAME, recorded from qemu-nbd 7.2 -B NAME + nbdinfo 1.14 (fixtures/golden nbd-bitmap-*.txt)',
    nativeFormats: ['nbdinfo', 'nbdinfo-json'],
    needsZeroScan: false,
  };
}

/** What an incremental backup reads for one dirty range, by block status of the chain. */
export const BACKUP_CLEAN = 0;
/** Dirty and DATA without ZERO: bytes the backup copies. */
export const BACKUP_DATA = 1;
/** Dirty and ZERO (allocated): a backup writes zeroes or punches a hole, reading nothing. */
export const BACKUP_ZERO = 2;
/** Dirty and allocated in no layer (allocation depth 0): reads as zero, e.g. discarded without backing. */
export const BACKUP_ABSENT = 3;
export const BACKUP_LABELS = ['clean', 'dirty data', 'dirty zero', 'dirty absent'] as const;

/** What a backup finds in resolved extent i if it is dirty: data, zero or absent (BACKUP_*). */
function backupClass(st: ChainStatus, i: number): number {
  const f = nbdFlags(st, i);
  return !(f & BDRV_BLOCK_ALLOCATED) ? BACKUP_ABSENT : f & BDRV_BLOCK_ZERO ? BACKUP_ZERO : BACKUP_DATA;
}

/**
 * What a granule [start, end) holds by block status, as an incremental backup would find it
 * were the granule dirty: bytes of data, zero and absent (a dirty bit covers its whole granule,
 * which may hold far less data than its size); `unknown`: past where the status stops.
 */
export function granuleContent(
  st: ChainStatus,
  start: number,
  end: number,
): { data: number; zero: number; absent: number; unknown: number } {
  const out = { data: 0, zero: 0, absent: 0, unknown: 0 };
  const e = st.extents;
  let pos = start;
  for (let i = Math.max(0, findExtent(e, start)); i < e.count && pos < end; i++) {
    const s = e.start[i]!;
    const stop = Math.min(end, s + e.length[i]!);
    if (stop <= pos) continue;
    if (s > pos) break;
    const n = stop - pos;
    const c = backupClass(st, i);
    if (c === BACKUP_DATA) out.data += n;
    else if (c === BACKUP_ZERO) out.zero += n;
    else out.absent += n;
    pos = stop;
  }
  out.unknown = Math.max(0, end - pos);
  return out;
}

export interface BackupRead {
  /** Runs over the image: BACKUP_* values. */
  readonly runs: Interpreted;
  readonly bytes: {
    readonly dirty: number;
    readonly data: number;
    readonly zero: number;
    readonly absent: number;
  };
}

/**
 * What an incremental backup that reads `qemu:dirty-bitmap:NAME` and `base:allocation` (as
 * oVirt, virtnbdbackup and Proxmox do) finds in each dirty range: data to copy, zeroes, or
 * nothing allocated (`qemu:allocation-depth` 0). Block status is the NBD walk's (nbdFlags()).
 */
export function incrementalBackupRead(st: ChainStatus, b: LoadedDirtyBitmap): BackupRead {
  const dirty = dirtyRuns(b, st.length);
  const e = st.extents;
  const cap = dirty.count + e.count;
  const start = new Float64Array(cap);
  const length = new Float64Array(cap);
  const value = new Uint32Array(cap);
  const layer = new Uint16Array(cap);
  const bytes = { dirty: 0, data: 0, zero: 0, absent: 0 };
  let m = 0;
  const push = (s: number, n: number, v: number, l: number) => {
    if (m > 0 && value[m - 1] === v && start[m - 1]! + length[m - 1]! === s && layer[m - 1] === l) {
      length[m - 1]! += n;
    } else {
      start[m] = s;
      length[m] = n;
      value[m] = v;
      layer[m] = l;
      m++;
    }
    if (v === BACKUP_DATA) bytes.data += n;
    else if (v === BACKUP_ZERO) bytes.zero += n;
    else if (v === BACKUP_ABSENT) bytes.absent += n;
    if (v !== BACKUP_CLEAN) bytes.dirty += n;
  };
  let j = findExtent(e, 0);
  for (let i = 0; i < dirty.count; i++) {
    const ds = dirty.start[i]!;
    const de = ds + dirty.length[i]!;
    if (dirty.value[i] === DIRTY_CLEAN) {
      push(ds, de - ds, BACKUP_CLEAN, b.layer);
      continue;
    }
    let pos = ds;
    while (j >= 0 && j < e.count && e.start[j]! + e.length[j]! <= pos) j++;
    while (pos < de) {
      if (j < 0 || j >= e.count) {
        // Status stopped at an error QEMU raises: the rest is unknown, counted as data to read.
        push(pos, de - pos, BACKUP_DATA, b.layer);
        break;
      }
      const stop = Math.min(de, e.start[j]! + e.length[j]!);
      push(pos, stop - pos, backupClass(st, j), e.layer[j]!);
      pos = stop;
      if (stop === e.start[j]! + e.length[j]!) j++;
    }
  }
  return {
    runs: {
      count: m,
      start: start.slice(0, m),
      length: length.slice(0, m),
      value: value.slice(0, m),
      host: new Float64Array(m).fill(-1),
      layer: layer.slice(0, m),
    },
    bytes,
  };
}
