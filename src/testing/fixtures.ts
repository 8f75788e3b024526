/**
 * Test access to the QEMU-made fixtures (fixtures/make-fixtures.sh) and the answers QEMU gave
 * for them (fixtures/golden/<case>/). Node-only: used by tests, never by the app.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const FIXTURES = resolve(import.meta.dirname, '../../fixtures');

export interface FixtureCase {
  readonly name: string;
  readonly top: string;
  readonly description: string;
  readonly covers: readonly string[];
  readonly hostSparse: boolean;
  readonly error: null | { readonly qemuStderr: string; readonly qemuExit: number; readonly class: string };
}

export const allCases = (): FixtureCase[] =>
  JSON.parse(readFileSync(process.env.CS_CASES ?? join(FIXTURES, 'cases.json'), 'utf8')) as FixtureCase[];

/**
 * A case's image directory. Images of the "generated-image" cases (past 2^53 bytes: ~20 MiB
 * each once dense) are not committed; they are built here on first use by
 * fixtures/sparse-cases.sh, the commands make-fixtures.sh recorded QEMU's answers from, into a
 * temporary directory renamed into place (tests in parallel workers may race to build one).
 */
export function imageDir(c: FixtureCase | string): string {
  const name = typeof c === 'string' ? c : c.name;
  const dir = join(FIXTURES, 'images', name);
  if (!existsSync(dir) && coversOf(c).includes('generated-image')) {
    const tmp = `${dir}.building-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    execFileSync('bash', [join(FIXTURES, 'sparse-cases.sh'), name, tmp], { stdio: 'ignore' });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another worker finished first
    }
  }
  return dir;
}
export const imagePath = (c: FixtureCase): string => join(imageDir(c), c.top);

/** A case's "covers", from the case itself or from its golden case.json. */
function coversOf(c: FixtureCase | string): readonly string[] {
  if (typeof c !== 'string') return c.covers;
  const meta = join(FIXTURES, 'golden', c, 'case.json');
  return existsSync(meta)
    ? ((JSON.parse(readFileSync(meta, 'utf8')) as { covers?: string[] }).covers ?? [])
    : [];
}

/** A golden file's text, or undefined when QEMU gave no such answer for the case. */
export function golden(c: FixtureCase | string, file: string): string | undefined {
  const p = join(FIXTURES, 'golden', typeof c === 'string' ? c : c.name, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

/** nbdinfo --map lines as (offset, length, type, description) tuples (parity = equal tuples). */
export function parseNbdinfo(text: string): [number, number, number, string][] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*(.*)$/.exec(l);
      if (!m) throw new Error(`not an nbdinfo --map line: ${l}`);
      return [Number(m[1]), Number(m[2]), Number(m[3]), m[4]!.trim()];
    });
}

/** qemu-img map human rows as token tuples (header included). */
export const parseHumanMap = (text: string): string[][] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s+/));

/**
 * Cases clusterscope refuses on purpose although QEMU maps them, with the error class: none
 * since sizes past 2^53 are mapped (offsets there are multiples of 512, exact in doubles).
 */
export const INTENDED_REFUSALS: Readonly<Record<string, string>> = {};
