/**
 * Test access to the QEMU-made fixtures (fixtures/make-fixtures.sh) and the answers QEMU gave
 * for them (fixtures/golden/<case>/). Node-only: used by tests, never by the app.
 */
import { existsSync, readFileSync } from 'node:fs';
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

export const imageDir = (c: FixtureCase): string => join(FIXTURES, 'images', c.name);
export const imagePath = (c: FixtureCase): string => join(imageDir(c), c.top);

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

/** Cases clusterscope refuses on purpose although QEMU maps them, with the error class. */
export const INTENDED_REFUSALS: Readonly<Record<string, string>> = {
  // Virtual size 16 PiB: offsets beyond 2^53 are not exact JS numbers (ARCHITECTURE.md).
  'over-2p53': 'limit',
};
