/** Opens an image and its backing chain from the file system, resolving names as QEMU does. */
import { realpath } from 'node:fs/promises';
import { type Chain, openChain } from '../core/chain/chain.ts';
import type { Layer } from '../core/chain/layer.ts';
import { IoError } from '../core/errors.ts';
import type { OpenMode } from '../core/qcow2/header.ts';
import { NodeFileSource, OpenError } from './nodeSource.ts';

/**
 * QEMU's path_combine(): a relative backing name is taken relative to the directory part of
 * the referring image's name as QEMU knows it, and that combined string is the name qemu-img
 * prints (so `top.qcow2` -> `base.raw`, `dir/top.qcow2` -> `dir/base.raw`).
 */
export function pathCombine(basePath: string, name: string): string {
  if (name.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(name)) return name;
  const slash = basePath.lastIndexOf('/');
  return slash < 0 ? name : basePath.slice(0, slash + 1) + name;
}

async function keyOf(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

export interface CliChainOptions {
  readonly format?: string;
  readonly noBacking?: boolean;
  readonly mode?: OpenMode;
  readonly purpose?: 'io' | 'info';
}

/**
 * Opens a file a layer names. Not being there is the resolver's "not found" (chain.ts words
 * it as QEMU does); any other refusal (a directory, a FIFO, /proc/self/mem) is QEMU's sentence
 * about the named file, prefixed as QEMU prefixes it for that reference.
 */
async function openNamed(
  path: string,
  from: Layer,
  structure: string,
  prefix: string,
): Promise<NodeFileSource | undefined> {
  try {
    return await NodeFileSource.open(path);
  } catch (e) {
    if (e instanceof OpenError && e.code === 'ENOENT') return undefined;
    if (e instanceof IoError) {
      const offset =
        structure === 'backing file name' && from.format === 'qcow2'
          ? from.header.backingFileOffset
          : undefined;
      throw new IoError(
        { file: from.name, structure, ...(offset !== undefined && { offset }) },
        `${prefix}${e.detail}`,
      );
    }
    throw e;
  }
}

export async function openChainFromPath(path: string, opts: CliChainOptions = {}): Promise<Chain> {
  const top = await NodeFileSource.open(path);
  const opened: NodeFileSource[] = [top];
  try {
    return await openChain(
      top,
      {
        async resolve(name, from) {
          const p = pathCombine(from.name, name);
          const source = await openNamed(p, from, 'backing file name', 'Could not open backing file: ');
          if (!source) return undefined;
          opened.push(source);
          return { source, key: await keyOf(p) };
        },
        async dataFile(name: string, from: Layer) {
          const source = await openNamed(
            pathCombine(from.name, name),
            from,
            'data file header extension',
            '',
          );
          if (source) opened.push(source);
          return source;
        },
      },
      {
        topKey: await keyOf(path),
        ...(opts.format !== undefined && { format: opts.format }),
        ...(opts.noBacking !== undefined && { noBacking: opts.noBacking }),
        ...(opts.mode !== undefined && { mode: opts.mode }),
        ...(opts.purpose !== undefined && { purpose: opts.purpose }),
      },
    );
  } catch (e) {
    await Promise.all(opened.map((s) => s.close()));
    throw e;
  }
}
