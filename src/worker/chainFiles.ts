/**
 * Dropped files -> a backing chain. The top is the file no other dropped file names as its
 * backing file; each backing name is matched to a dropped file by name (the browser gives
 * names, never paths, so a backing name's directory part is ignored). A backing file that was
 * not dropped cuts the chain there: the layers above still map, and the gap is reported.
 */
import { type Chain, openChain } from '../core/chain/chain.ts';
import { type Layer, openLayer } from '../core/chain/layer.ts';
import type { ByteSource } from '../core/io/byteSource.ts';
import type { ErrorInfo } from '../protocol/errors.ts';
import type { MissingBacking } from '../protocol/source.ts';
import { toErrorInfo } from './errorInfo.ts';

export interface NamedSource {
  readonly name: string;
  readonly source: ByteSource;
}

export interface DroppedChain {
  readonly chain: Chain;
  readonly missingBacking?: MissingBacking;
  readonly rejected: readonly ErrorInfo[];
  readonly unused: readonly string[];
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
  for (const file of files) {
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
  const tops = opened.filter((o) => !referenced.has(o.file.name));
  const top = tops.find((o) => o.layer.format === 'qcow2') ?? tops[0] ?? opened[0]!;

  // Which layers the chain reaches, and the first backing name that was not dropped.
  const reached: Layer[] = [top.layer];
  let missingBacking: DroppedChain['missingBacking'];
  for (let cur = top.layer; cur.format === 'qcow2' && cur.backingName !== undefined; ) {
    const next = find(cur.backingName);
    if (!next) {
      missingBacking = { name: cur.backingName, from: cur.name };
      break;
    }
    if (reached.includes(next.layer)) break; // a loop: openChain reports it
    reached.push(next.layer);
    cur = next.layer;
  }

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
  return {
    chain,
    ...(missingBacking && { missingBacking }),
    rejected,
    unused: opened.filter((o) => !inChain.has(o.file.name)).map((o) => o.file.name),
  };
}
