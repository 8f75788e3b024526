/** Opens an image and its backing chain from the file system, resolving names as QEMU does. */
import { realpath } from 'node:fs/promises';
import { type Chain, openChain } from '../core/chain/chain.ts';
import type { OpenMode } from '../core/qcow2/header.ts';
import { NodeFileSource } from './nodeSource.ts';

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

export async function openChainFromPath(path: string, opts: CliChainOptions = {}): Promise<Chain> {
  const top = await NodeFileSource.open(path);
  const opened: NodeFileSource[] = [top];
  try {
    return await openChain(
      top,
      {
        async resolve(name, from) {
          const p = pathCombine(from.name, name);
          try {
            const source = await NodeFileSource.open(p);
            opened.push(source);
            return { source, key: await keyOf(p) };
          } catch {
            return undefined;
          }
        },
        async dataFile(name: string, from: { name: string }) {
          try {
            const source = await NodeFileSource.open(pathCombine(from.name, name));
            opened.push(source);
            return source;
          } catch {
            return undefined;
          }
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
