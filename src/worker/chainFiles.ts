/**
 * Dropped files -> a backing chain. The top is the file no other dropped file names as its
 * backing file; each backing name is matched to a dropped file by name (the browser gives
 * names, never paths, so a backing name's directory part is ignored). A backing file that was
 * not dropped cuts the chain there: the layers above still map, and the gap is reported.
 * Dropped files that are no part of the chain are named, each with why: an image of its own
 * (when several are dropped, the longest chain is shown, qcow2 before raw, in drop order), or a
 * second file of a name already dropped (a browser gives names only, so one name is one file).
 */
import { type Chain, openChain } from '../core/chain/chain.ts';
import { type Layer, openLayer } from '../core/chain/layer.ts';
import type { ByteSource } from '../core/io/byteSource.ts';
import type { ErrorInfo } from '../protocol/errors.ts';
import type { MissingBacking, UnusedFile } from '../protocol/source.ts';
import { toErrorInfo } from './errorInfo.ts';

export interface NamedSource {
  readonly name: string;
  readonly source: ByteSource;
}

export interface DroppedChain {
  readonly chain: Chain;
  readonly missingBacking?: MissingBacking;
  readonly rejected: readonly ErrorInfo[];
  readonly unused: readonly UnusedFile[];
}

export const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** Thrown when no dropped file could be opened at all; carries each file's error. */
export class NothingOpened extends Error {
  constructor(readonly rejected: readonly ErrorInfo[]) {
    super(rejected[0]?.message ?? 'no files');
  }
}

export async function openDropped(files: readonly NamedSource[]): Promise<DroppedChain> {
  const opened: { file: NamedSource; layer: Layer }[] = [];
  const rejected: ErrorInfo[] = [];
  const unused: UnusedFile[] = [];
  const names = new Set<string>();
  for (const file of files) {
    if (names.has(file.name)) {
      unused.push({
        name: file.name,
        why: `a second file named ${file.name}: a browser gives file names only, so backing names cannot tell them apart; the first one dropped is used (drop the other alone to see it)`,
      });
      continue;
    }
    names.add(file.name);
    try {
      opened.push({ file, layer: await openLayer(file.source) });
    } catch (e) {
      rejected.push(toErrorInfo(e, file.name));
    }
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
  // Which layers a top reaches among the dropped files, and the first backing name not dropped.
  const walk = (top: Layer) => {
    const reached: Layer[] = [top];
    let missing: MissingBacking | undefined;
    for (let cur = top; cur.format === 'qcow2' && cur.backingName !== undefined; ) {
      const next = find(cur.backingName);
      if (!next) {
        missing = { name: cur.backingName, from: cur.name };
        break;
      }
      if (reached.includes(next.layer)) break; // a loop: openChain reports it
      reached.push(next.layer);
      cur = next.layer;
    }
    return { reached, missing };
  };
  const tops = opened.filter((o) => !referenced.has(o.file.name));
  // The longest chain among the tops; qcow2 before raw; then the order of the drop.
  const rank = (o: (typeof opened)[number]) =>
    walk(o.layer).reached.length * 2 + (o.layer.format === 'qcow2' ? 1 : 0);
  const top = (tops.length ? tops : opened).reduce((best, o) => (rank(o) > rank(best) ? o : best));
  const { reached, missing: missingBacking } = walk(top.layer);

  let chain: Chain;
  if (!missingBacking) {
    chain = await openChain(
      top.file.source,
      {
        resolve: async (name) => {
          const f = find(name);
          return f && { source: f.file.source, key: f.file.name };
        },
        // An external data file (incompatible bit 2) is matched by name like a backing file.
        dataFile: async (name) => find(name)?.file.source,
      },
      { topKey: top.file.name },
    );
  } else if (reached.length === 1) {
    // As QEMU with "backing": null: the top alone, unallocated ranges read as zero, not owned.
    chain = await openChain(top.file.source, { resolve: async () => undefined }, { noBacking: true });
  } else {
    // The layers that were dropped, cut below the last one (it reads as if it had no backing).
    chain = { layers: reached, noBacking: true };
  }
  const inChain = new Set(chain.layers.map((l) => l.name));
  for (const l of chain.layers) {
    const df = l.format === 'qcow2' && l.dataFileName !== undefined ? find(l.dataFileName) : undefined;
    if (df) inChain.add(df.file.name);
  }
  for (const o of opened)
    if (!inChain.has(o.file.name))
      unused.push({
        name: o.file.name,
        why: `not in the chain of ${top.file.name}${
          tops.includes(o)
            ? ' (an image of its own; the longest chain dropped is shown: drop it alone to see it)'
            : ''
        }`,
      });
  return { chain, ...(missingBacking && { missingBacking }), rejected, unused };
}
