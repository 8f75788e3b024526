/**
 * Node side of the fuzz harness (src/testing/fuzz): the QEMU-made fixtures as mutation seeds,
 * the seeded input for a number, and failing inputs saved as regression fixtures under
 * fixtures/fuzz-regressions/<name>/ (the files, plus input.json saying where they came from).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './fixtures.ts';
import type { FuzzInput, FuzzOutcome } from './fuzz/harness.ts';
import { mutate } from './fuzz/mutators.ts';
import { rng } from './fuzz/prng.ts';

export const REGRESSIONS = join(FIXTURES, 'fuzz-regressions');

/** Fixture chains up to this size are mutation seeds (larger ones only slow the run down). */
const MAX_SEED_BYTES = 3 * 1024 * 1024;

export interface SeedCase {
  readonly name: string;
  readonly top: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

let corpus: SeedCase[] | undefined;

/** Every fixture case whose files fit MAX_SEED_BYTES, sorted by name so seeds are stable. */
export function seedCorpus(): SeedCase[] {
  if (corpus) return corpus;
  const root = join(FIXTURES, 'images');
  const out: SeedCase[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const names = readdirSync(dir).sort();
    const total = names.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    if (total > MAX_SEED_BYTES || !names.length) continue;
    const meta = join(FIXTURES, 'golden', name, 'case.json');
    const top = existsSync(meta)
      ? (JSON.parse(readFileSync(meta, 'utf8')) as { top: string }).top
      : 'top.qcow2';
    if (!names.includes(top)) continue;
    out.push({
      name,
      top,
      files: new Map(names.map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))])),
    });
  }
  corpus = out;
  return out;
}

export interface SeededInput extends FuzzInput {
  readonly seed: number;
  readonly origin: string;
  readonly what: string;
  readonly mutated: string;
}

/** Input number `seed`: a fixture chain with one of its qcow2 files mutated (the top 70% of the time). */
export function mutatedInput(seed: number, cases = seedCorpus()): SeededInput {
  const r = rng(seed);
  const c = r.pick(cases);
  const qcow2 = [...c.files.keys()].filter((f) => f !== c.top && f.endsWith('.qcow2'));
  const target = qcow2.length && r.chance(0.3) ? r.pick(qcow2) : c.top;
  const m = mutate(c.files.get(target)!, r);
  const files = new Map(c.files);
  files.set(target, m.bytes);
  return { seed, top: c.top, files, origin: c.name, what: m.what, mutated: target };
}

/** Saves a failing input as fixtures/fuzz-regressions/<name>/, replayed by fuzzRegressions.test.ts. */
export function saveRegression(
  name: string,
  input: FuzzInput,
  about: { origin: string; what: string; outcome?: FuzzOutcome },
): string {
  const dir = join(REGRESSIONS, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, b] of input.files) writeFileSync(join(dir, f), b);
  writeFileSync(
    join(dir, 'input.json'),
    `${JSON.stringify(
      {
        top: input.top,
        origin: about.origin,
        what: about.what,
        ...(about.outcome && {
          failures: about.outcome.failures.map((f) => `${f.kind} in ${f.stage}: ${f.message.split('\n')[0]}`),
        }),
      },
      null,
      2,
    )}\n`,
  );
  return dir;
}

/** The saved regression inputs, each with the note saying where it came from. */
export function regressionInputs(): (FuzzInput & { name: string; what: string })[] {
  if (!existsSync(REGRESSIONS)) return [];
  return readdirSync(REGRESSIONS)
    .sort()
    .filter((n) => existsSync(join(REGRESSIONS, n, 'input.json')))
    .map((n) => {
      const dir = join(REGRESSIONS, n);
      const meta = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8')) as { top: string; what: string };
      const files = new Map(
        readdirSync(dir)
          .filter((f) => f !== 'input.json')
          .map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))] as const),
      );
      return { name: n, top: meta.top, files, what: meta.what };
    });
}
