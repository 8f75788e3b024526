/**
 * The persistent bitmaps of an opened chain, as the image source offers them (imageSource.ts):
 * read once when the open is done (every layer's directory, and the bits of each bitmap QEMU
 * would read), then per view: one lane each, the classes of the one the heatmap shows, each
 * bitmap's bit and granule for a hit, the exported ones as interpretations (the inspector's
 * values, a diff side). A bitmap QEMU refuses (in use on disk: inconsistent) keeps its lane and
 * says why it is empty.
 */
import type { Chain } from '../core/chain/chain.ts';
import { binarySize, hex } from '../core/format.ts';
import {
  type ChainBitmap,
  chainBitmaps,
  dirtyBitmap,
  granuleContent,
  incrementalBackupRead,
  isExported,
  type LoadedDirtyBitmap,
  loadChainBitmap,
} from '../core/interpret/bitmap.ts';
import { dirtyBitmapId } from '../core/interpret/ids.ts';
import type { Interpretation, Interpreted } from '../core/interpret/interpretation.ts';
import type { BitmapRaster } from '../core/raster/bitmap.ts';
import { runAt } from '../core/runs/runs.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import type { HitBitmap } from '../protocol/results.ts';
import type { BitmapInfo, LaneInfo } from '../protocol/source.ts';

/** One persistent bitmap of the chain as opened, with its bits when QEMU would read them. */
export interface SourceBitmap {
  readonly at: ChainBitmap;
  readonly loaded?: LoadedDirtyBitmap;
  /** Why its bits are not read, in QEMU's words. */
  readonly problem?: string;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Bitmaps of a chain the page lists, gives lanes and reads the bits of: the first 64 from the
 * top. libvirt keeps one per checkpoint and real chains hold a handful; an image may hold 65535
 * (QCOW2_MAX_BITMAPS), whose lanes no screen shows and whose tables would each cost a read at
 * open. The rest are counted (`omitted`), not read.
 */
export const MAX_SHOWN_BITMAPS = 64;

/** Every bitmap of every layer, top first (at most MAX_SHOWN_BITMAPS), with its bits or why QEMU would not read them. */
export async function loadSourceBitmaps(
  chain: Chain,
): Promise<{ list: SourceBitmap[]; omitted: number; problem?: string }> {
  let all: ChainBitmap[];
  try {
    all = await chainBitmaps(chain);
  } catch (e) {
    return { list: [], omitted: 0, problem: message(e) };
  }
  const list: SourceBitmap[] = [];
  for (const at of all.slice(0, MAX_SHOWN_BITMAPS)) {
    try {
      const loaded = await loadChainBitmap(chain, at);
      list.push(loaded ? { at, loaded } : { at, problem: 'not a qcow2 layer' });
    } catch (e) {
      // loadChainBitmap() throws QEMU's sentence for an in-use bitmap, and the table's refusal.
      const detail = (e as { detail?: string }).detail;
      list.push({ at, problem: detail ?? message(e) });
    }
  }
  return { list, omitted: all.length - list.length };
}

/** qemu-img info's words for the directory entry's flags. */
const flagWords = (b: ChainBitmap): string[] => [
  ...(b.bitmap.flags.inUse ? ['in-use'] : []),
  ...(b.bitmap.flags.auto ? ['auto'] : []),
];

/** The bitmaps a view's chain holds (backing: null keeps the top's only). */
const inView = (list: readonly SourceBitmap[], st: ChainStatus) =>
  list.filter((b) => b.at.layer < st.chain.layers.length);

/** Whether qemu-nbd -B NAME would export this bitmap in the view's chain. */
function exportedIn(list: readonly SourceBitmap[], st: ChainStatus, b: SourceBitmap): boolean {
  return isExported(
    inView(list, st).map((x) => x.at),
    b.at,
  );
}

/** The bitmap qemu-nbd -B NAME exports in the view's chain. */
export function exportedBitmap(
  list: readonly SourceBitmap[],
  st: ChainStatus,
  name: string,
): SourceBitmap | undefined {
  return inView(list, st).find((b) => b.at.bitmap.name === name);
}

/** One lane per bitmap, after the chain's own lanes. */
export function bitmapLaneInfos(list: readonly SourceBitmap[], layers: number): LaneInfo[] {
  return list.map((b) => {
    const name = `bitmap ${b.at.bitmap.name}${layers > 1 ? ` (${b.at.layerName})` : ''}`;
    if (!b.problem) return { name };
    return {
      name,
      note: b.problem,
      noteTag: b.at.bitmap.flags.inUse ? 'in use: not read' : 'not read',
    };
  });
}

/** What the page lists of each bitmap (lanes from `firstLane`), with its backup bytes in the chain as opened. */
export function bitmapInfos(list: readonly SourceBitmap[], st: ChainStatus, firstLane: number): BitmapInfo[] {
  return list.map((b, i) => {
    const exported = exportedIn(list, st, b);
    const bm = b.at.bitmap;
    const backup = b.loaded && exported ? incrementalBackupRead(st, b.loaded).bytes : undefined;
    return {
      name: bm.name,
      ...(exported && { id: dirtyBitmapId(bm.name) }),
      layer: b.at.layer,
      layerName: b.at.layerName,
      granularity: bm.granularity,
      flags: flagWords(b.at),
      enabled: bm.flags.auto,
      inconsistent: bm.flags.inUse,
      exported,
      lane: firstLane + i,
      ...(backup && { backup }),
      ...(b.problem !== undefined && { problem: b.problem }),
    };
  });
}

/** The dirty runs of each bitmap's lane in a view (undefined: not in the view's chain, or not read). */
export function bitmapLaneRuns(
  list: readonly SourceBitmap[],
  st: ChainStatus,
  interp: (i: Interpretation) => Interpreted,
): (Interpreted | undefined)[] {
  return list.map((b) =>
    b.loaded && b.at.layer < st.chain.layers.length ? interp(dirtyBitmap(b.loaded)) : undefined,
  );
}

/** The heatmap classes of the bitmap qemu-nbd -B NAME exports in the view (none when it has no such bitmap). */
export function bitmapRaster(
  list: readonly SourceBitmap[],
  st: ChainStatus,
  name: string,
  interp: (i: Interpretation) => Interpreted,
): BitmapRaster | undefined {
  const b = exportedBitmap(list, st, name);
  if (!b?.loaded) return undefined;
  return { dirty: interp(dirtyBitmap(b.loaded)), backup: incrementalBackupRead(st, b.loaded).runs };
}

/** The exported, readable bitmaps of the view as interpretations (the inspector's values). */
export function bitmapInterpretations(list: readonly SourceBitmap[], st: ChainStatus): Interpretation[] {
  return inView(list, st)
    .filter((b) => b.loaded && exportedIn(list, st, b))
    .map((b) => dirtyBitmap(b.loaded!));
}

/** Whether `offset` lies in a dirty range of the bitmap. */
const isDirty = (b: LoadedDirtyBitmap, offset: number): boolean =>
  runAt({ count: b.dirty.count, start: b.dirty.starts, length: b.dirty.lengths }, offset) >= 0;

/** Every bitmap's bit at `offset`, its granule, what the granule holds, and the flags QEMU goes by. */
export function hitBitmaps(list: readonly SourceBitmap[], st: ChainStatus, offset: number): HitBitmap[] {
  return inView(list, st).map((b) => {
    const bm = b.at.bitmap;
    const g = bm.granularity;
    const bit = Math.floor(offset / g);
    const granuleStart = bit * g;
    const granuleEnd = Math.min(granuleStart + g, b.at.layerLength);
    const exported = exportedIn(list, st, b);
    const beyond = offset >= b.at.layerLength;
    const state: HitBitmap['state'] = beyond
      ? 'beyond'
      : bm.flags.inUse
        ? 'inconsistent'
        : !b.loaded
          ? 'unreadable'
          : isDirty(b.loaded, offset)
            ? 'dirty'
            : 'clean';
    const granule = beyond
      ? { data: 0, zero: 0, absent: 0, unknown: 0 }
      : granuleContent(st, granuleStart, Math.min(granuleEnd, st.length));
    const flags = flagWords(b.at);
    const owner = `'${bm.name}' of ${b.at.layerName} (granularity ${binarySize(g)}; flags: ${flags.join(', ') || 'none'})`;
    const loadedAs = bm.flags.inUse
      ? `in-use on disk: the program that had the image open did not close it, so QEMU loads it as inconsistent and refuses to use it (qemu-nbd: Bitmap '${bm.name}' is inconsistent and cannot be used)`
      : `QEMU loads it ${bm.flags.auto ? 'enabled (auto): it records every write' : 'disabled (no auto): writes no longer change it'}`;
    const exports = exported
      ? `qemu-nbd -B ${bm.name} exports this one`
      : `qemu-nbd -B ${bm.name} exports the one of a layer above instead`;
    const range = `[${hex(granuleStart)}, ${hex(granuleEnd)})`;
    const bitWords =
      state === 'beyond'
        ? `the offset lies past the end of ${b.at.layerName} (${hex(b.at.layerLength)}): no bit covers it, QEMU reads it as clean`
        : state === 'inconsistent'
          ? `bit ${bit} covers ${range}; its value is not read`
          : state === 'unreadable'
            ? `bit ${bit} covers ${range}; its bits could not be read (${b.problem ?? ''})`
            : `bit ${bit} covers ${range} and is ${state === 'dirty' ? 'set (dirty)' : 'clear (clean)'}`;
    return {
      name: bm.name,
      layer: b.at.layer,
      layerName: b.at.layerName,
      granularity: g,
      bit,
      granuleStart,
      granuleEnd,
      state,
      flags,
      enabled: bm.flags.auto,
      inconsistent: bm.flags.inUse,
      exported,
      granule,
      explain: `${owner}: ${bitWords}. ${loadedAs}; ${exports}.`,
    };
  });
}
