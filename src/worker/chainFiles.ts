/**
 * Dropped files -> a backing chain. The top is the file no other dropped file names as its
 * backing file; each backing name is matched to a dropped file by name (the browser gives
 * names, never paths, so a backing name's directory part is ignored). A backing file that was
 * not dropped cuts the chain there: the layers above still map, and the gap is reported.
 * Dropped files that are no part of the chain are named, each with why: an image of its own
 * (when several are dropped, the longest chain is shown, qcow2 before raw, in drop order), or a
 * second file of a name already dropped (a browser gives names only, so one name is one file).
 */
import { type Chain, chainTooDeep, openChain } from '../core/chain/chain.ts';
import { type Layer, openLayer } from '../core/chain/layer.ts';
import { LimitError } from '../core/errors.ts';
import { probedAsRawNote } from '../core/info/probe.ts';
import type { ByteSource } from '../core/io/byteSource.ts';
import { MAX_CHAIN_DEPTH } from '../core/limits.ts';
import { plainError } from '../core/plainError.ts';
import type { ErrorInfo } from '../protocol/errors.ts';
import type { MissingBacking, UnusedFile } from '../protocol/source.ts';
import { CHAIN_TABLE_BYTES } from './budgets.ts';

export interface NamedSource {
  readonly name: string;
  readonly source: ByteSource;
}

export interface DroppedChain {
  readonly chain: Chain;
  readonly missingBacking?: MissingBacking;
  readonly rejected: readonly ErrorInfo[];
  readonly unused: readonly UnusedFile[];
  /** Why the top was read as a raw disk (it has no qcow2 magic). */
  readonly probedRaw?: string;
}

export const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** Thrown when no dropped file could be opened at all; carries each file's error. */
export class NothingOpened extends Error {
  constructor(readonly rejected: readonly ErrorInfo[]) {
    super(rejected[0]?.message ?? 'no files');
  }
}

/** Bytes of tables a layer holds once opened: its L1 table (a qcow2 image may ask for 32 MiB). */
const tableBytes = (l: Layer): number => (l.format === 'qcow2' ? l.l1.byteLength : 0);

/**
 * Opens the dropped files, matches them into a chain and opens that chain. Every file is opened
 * (its header names its backing file), each once, while their tables fit CHAIN_TABLE_BYTES (or
 * `budget`); the files past it are not opened, and one LimitError says so. A chain deeper than
 * MAX_CHAIN_DEPTH is cut there, as a missing backing file cuts it: its top layers map, the
 * LimitError says where it was cut, and the files below are unused.
 */
export async function openDropped(
  files: readonly NamedSource[],
  budget = CHAIN_TABLE_BYTES,
): Promise<DroppedChain> {
  const opened: { file: NamedSource; layer: Layer }[] = [];
  const rejected: ErrorInfo[] = [];
  const unused: UnusedFile[] = [];
  const names = new Set<string>();
  let held = 0;
  for (const [i, file] of files.entries()) {
    if (names.has(file.name)) {
      unused.push({
        name: file.name,
        why: `a second file named ${file.name}: a browser gives file names only, so backing names cannot tell them apart; the first one dropped is used (drop the other alone to see it)`,
      });
      continue;
    }
    names.add(file.name);
    let layer: Layer;
    try {
      layer = await openLayer(file.source);
    } catch (e) {
      rejected.push(plainError(e, file.name));
      continue;
    }
    const bytes = tableBytes(layer);
    if (held + bytes > budget) {
      const where = {
        file: file.name,
        structure: 'L1 table',
        offset: layer.format === 'qcow2' ? layer.header.l1TableOffset : undefined,
      };
      const detail = `${bytes} bytes; with the ${opened.length} files opened before it (${held} bytes of L1 tables) more than the page opens at once (CHAIN_TABLE_BYTES ${budget}): it and the ${files.length - i - 1} files after it are not opened`;
      rejected.push(plainError(new LimitError(where, detail)));
      break;
    }
    held += bytes;
    opened.push({ file, layer });
  }
  if (opened.length === 0) throw new NothingOpened(rejected);

  const byName = new Map(opened.map((o) => [o.file.name, o]));
  const find = (backing: string) => byName.get(backing) ?? byName.get(baseName(backing));
  const referenced = new Set<string>();
  for (const o of opened) {
    if (o.layer.format !== 'qcow2') continue;
    for (const name of [o.layer.backingName, o.layer.dataFileName]) {
      const b = name === undefined ? undefined : find(name);
      if (b) referenced.add(b.file.name);
    }
  }
  // Which layers a top reaches among the dropped files, and the first backing name not dropped
  // (or the layer where the chain passes MAX_CHAIN_DEPTH).
  const walk = (top: Layer) => {
    const reached: Layer[] = [top];
    const inReach = new Set<Layer>(reached);
    let missing: MissingBacking | undefined;
    let deepAt: Layer | undefined;
    for (let cur = top; cur.format === 'qcow2' && cur.backingName !== undefined; ) {
      const next = find(cur.backingName);
      if (!next) {
        missing = { name: cur.backingName, from: cur.name };
        break;
      }
      if (inReach.has(next.layer)) break; // a loop: openChain reports it
      if (reached.length >= MAX_CHAIN_DEPTH) {
        deepAt = cur;
        break;
      }
      reached.push(next.layer);
      inReach.add(next.layer);
      cur = next.layer;
    }
    return { reached, missing, deepAt };
  };
  const tops = opened.filter((o) => !referenced.has(o.file.name));
  // The longest chain among the tops; qcow2 before raw; then the order of the drop.
  const ranked = (tops.length ? tops : opened).map((o) => {
    const w = walk(o.layer);
    return { o, w, rank: w.reached.length * 2 + (o.layer.format === 'qcow2' ? 1 : 0) };
  });
  const best = ranked.reduce((a, b) => (b.rank > a.rank ? b : a));
  const top = best.o;
  const { reached, missing: missingBacking } = best.w;
  let tooDeep: LimitError | undefined;
  if (best.w.deepAt) {
    tooDeep = chainTooDeep(best.w.deepAt);
    rejected.push(plainError(tooDeep));
  }

  let chain: Chain;
  if (!missingBacking && !tooDeep) {
    chain = await openChain(
      top.file.source,
      {
        resolve: async (name) => {
          const f = find(name);
          return f && { source: f.file.source, key: f.file.name, layer: f.layer };
        },
        // An external data file (incompatible bit 2) is matched by name like a backing file.
        dataFile: async (name) => find(name)?.file.source,
      },
      { topKey: top.file.name, topLayer: top.layer },
    );
  } else if (missingBacking && reached.length === 1) {
    // As QEMU with "backing": null: the top alone, unallocated ranges read as zero, not owned.
    chain = await openChain(top.file.source, { resolve: async () => undefined }, { noBacking: true });
  } else {
    // The layers that were dropped (or the first MAX_CHAIN_DEPTH), cut below the last one (it
    // reads as if it had no backing).
    chain = { layers: reached, noBacking: true };
  }
  const inChain = new Set(chain.layers.map((l) => l.name));
  for (const l of chain.layers) {
    const df = l.format === 'qcow2' && l.dataFileName !== undefined ? find(l.dataFileName) : undefined;
    if (df) inChain.add(df.file.name);
  }
  // The files below a MAX_CHAIN_DEPTH cut belong to the chain but are not mapped.
  const belowCut = new Set<string>();
  for (let cur = best.w.deepAt; cur?.format === 'qcow2' && cur.backingName !== undefined; ) {
    const next = find(cur.backingName);
    if (!next || belowCut.has(next.file.name) || reached.includes(next.layer)) break;
    belowCut.add(next.file.name);
    cur = next.layer;
  }
  for (const o of opened)
    if (!inChain.has(o.file.name))
      unused.push({
        name: o.file.name,
        why: belowCut.has(o.file.name)
          ? `in the chain of ${top.file.name}, below its cut at ${MAX_CHAIN_DEPTH} layers (MAX_CHAIN_DEPTH)`
          : `not in the chain of ${top.file.name}${
              tops.includes(o)
                ? ' (an image of its own; the longest chain dropped is shown: drop it alone to see it)'
                : ''
            }`,
      });
  const first = chain.layers[0]!;
  const probedRaw =
    first.format === 'raw'
      ? probedAsRawNote(first.name, await first.source.read(0, Math.min(4, first.fileSize)))
      : undefined;
  return {
    chain,
    ...(missingBacking && { missingBacking }),
    rejected,
    unused,
    ...(probedRaw !== undefined && { probedRaw }),
  };
}
