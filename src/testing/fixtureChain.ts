/**
 * Opens a fixture chain for core tests the way QEMU opened it when the goldens were recorded:
 * from inside the image directory, so layer names are the relative names qemu-img printed
 * ("top.qcow2", "mid.qcow2"). Node file access lives here, never in src/core.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Chain, openChain } from '../core/chain/chain.ts';
import { fullBackingFilename } from '../core/info/paths.ts';
import type { ByteSource } from '../core/io/byteSource.ts';
import { FIXTURES, imageDir } from './fixtures.ts';

/** A file read on demand under the name QEMU knew it by. */
export class FileSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly name: string,
    private readonly path: string,
  ) {
    this.size = statSync(path).size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    const buf = new Uint8Array(end - offset);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, offset);
    } finally {
      closeSync(fd);
    }
    return buf;
  }
}

/** The case's image directory, built first for the cases whose images are not committed. */
export const fixtureImageDir = (caseName: string): string => imageDir(caseName);

/** The whole file, for tests that patch bytes and reopen from memory. */
export const fixtureBytes = (caseName: string, file: string): Uint8Array =>
  new Uint8Array(readFileSync(join(fixtureImageDir(caseName), file)));

/**
 * Opens `top` of fixture `caseName` and its chain, resolving backing names relative to the top's
 * name. With `withDataFiles`, external data files are opened too (a missing one fails the open,
 * as in QEMU); `purpose` as openChain()'s.
 */
export async function openFixtureChain(
  caseName: string,
  top = 'top.qcow2',
  opts: { readonly withDataFiles?: boolean; readonly purpose?: 'io' | 'info' } = {},
): Promise<Chain> {
  const dir = fixtureImageDir(caseName);
  const at = (name: string, from: string) => {
    const n = fullBackingFilename(from, name) ?? name;
    return { n, p: n.startsWith('/') ? n : join(dir, n) };
  };
  // The goldens were recorded with `-f qcow2`: a top that is not qcow2 is refused, not probed.
  return openChain(
    new FileSource(top, join(dir, top)),
    {
      async resolve(name, from) {
        const { n, p } = at(name, from.name);
        return existsSync(p) ? { source: new FileSource(n, p), key: p } : undefined;
      },
      ...(opts.withDataFiles && {
        async dataFile(name: string, from: { name: string }) {
          const { n, p } = at(name, from.name);
          return existsSync(p) ? new FileSource(n, p) : undefined;
        },
      }),
    },
    { format: 'qcow2', ...(opts.purpose && { purpose: opts.purpose }) },
  );
}

/** As openFixtureChain, opening external data files too (as QEMU does; a missing one fails). */
export const openFixtureChainWithDataFile = (caseName: string, top = 'top.qcow2'): Promise<Chain> =>
  openFixtureChain(caseName, top, { withDataFiles: true });

export interface GoldenInfoCase {
  readonly name: string;
  readonly top: string;
  /** The golden compared: info-nosecret.json for LUKS (plain file name), else info.json. */
  readonly file: string;
  /** The golden text ('' when QEMU refused the image). */
  readonly text: string;
  readonly failed: boolean;
  /** What qemu-img printed on stderr when it refused the image. */
  readonly qemuStderr: string;
  /** The case's errorClass from case.json, when it is a deliberately broken image. */
  readonly errorClass: string | null;
  /** case.json "covers". */
  readonly covers: readonly string[];
}

/** Every fixture with a recorded `qemu-img info` answer (or refusal) and its images present. */
export function goldenInfoCases(): GoldenInfoCase[] {
  const root = join(FIXTURES, 'golden');
  const out: GoldenInfoCase[] = [];
  for (const name of readdirSync(root).sort()) {
    const g = join(root, name);
    const metaPath = join(g, 'case.json');
    if (!existsSync(metaPath) || !existsSync(fixtureImageDir(name))) continue;
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as {
      top: string;
      errorClass?: string | null;
      covers?: string[];
    };
    // The LUKS info.json was recorded through --image-opts (filename "json:{...}"); the
    // nosecret one is the same image opened by its plain name, as clusterscope opens it.
    const file = existsSync(join(g, 'info-nosecret.json')) ? 'info-nosecret.json' : 'info.json';
    const failed = existsSync(join(g, `${file}.exit`));
    if (!failed && !existsSync(join(g, file))) continue;
    out.push({
      name,
      top: meta.top,
      file,
      text: failed ? '' : readFileSync(join(g, file), 'utf8'),
      failed,
      qemuStderr: existsSync(join(g, `${file}.err`)) ? readFileSync(join(g, `${file}.err`), 'utf8') : '',
      errorClass: meta.errorClass ?? null,
      covers: meta.covers ?? [],
    });
  }
  return out;
}
