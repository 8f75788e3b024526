/**
 * Node side of the fuzz harness (src/testing/fuzz): the QEMU-made fixtures as mutation seeds,
 * the seeded input for a number, and failing inputs saved as regression fixtures under
 * fixtures/fuzz-regressions/<name>/input.json: where they came from and a recipe that builds
 * them again (no binary is committed): byte patches to a fixture's files, or the specs of a
 * generated chain (generate.ts buildChain()).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './fixtures.ts';
import { buildChain, type ImageSpec } from './fuzz/generate.ts';
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

/** Changed bytes of a file against the fixture it was made from: its length and runs of new bytes. */
export interface FilePatch {
  readonly length: number;
  /** [offset, bytes in hex] */
  readonly patches: readonly (readonly [number, string])[];
}

export type Recipe =
  | { readonly kind: 'patch'; readonly case: string; readonly files: Readonly<Record<string, FilePatch>> }
  | { readonly kind: 'spec'; readonly specs: readonly [ImageSpec, ImageSpec] };

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The runs of bytes where `now` differs from `was` (bytes past `was`'s end count as changed). */
export function diffBytes(was: Uint8Array, now: Uint8Array): FilePatch {
  const patches: [number, string][] = [];
  let i = 0;
  while (i < now.length) {
    if (i < was.length && now[i] === was[i]) {
      i++;
      continue;
    }
    let j = i;
    // A run ends after 8 equal bytes, so nearby changes stay one patch.
    for (let same = 0; j < now.length && same < 8; j++)
      same = j < was.length && now[j] === was[j] ? same + 1 : 0;
    patches.push([i, toHex(now.subarray(i, j))]);
    i = j;
  }
  return { length: now.length, patches };
}

/** The recipe of a mutated fixture input. */
export function patchRecipe(input: SeededInput, cases = seedCorpus()): Recipe {
  const c = cases.find((x) => x.name === input.origin)!;
  const files: Record<string, FilePatch> = {};
  for (const [f, b] of input.files) {
    const was = c.files.get(f);
    if (!was || was !== b) files[f] = diffBytes(was ?? new Uint8Array(0), b);
  }
  return { kind: 'patch', case: c.name, files };
}

/** Builds a recipe's files again. */
export function buildRecipe(r: Recipe): { top: string; files: Map<string, Uint8Array> } {
  if (r.kind === 'spec') {
    const g = buildChain(r.specs[0], r.specs[1]);
    return { top: g.top, files: new Map(g.files) };
  }
  const c = seedCorpus().find((x) => x.name === r.case);
  if (!c) throw new Error(`regression recipe names fixture case '${r.case}', which is not a mutation seed`);
  const files = new Map(c.files);
  for (const [f, p] of Object.entries(r.files)) {
    const b = new Uint8Array(p.length);
    b.set((c.files.get(f) ?? new Uint8Array(0)).subarray(0, p.length));
    for (const [at, hex] of p.patches) b.set(Buffer.from(hex, 'hex'), at);
    files.set(f, b);
  }
  return { top: c.top, files };
}

/**
 * Saves a failing input as fixtures/fuzz-regressions/<name>/input.json, replayed by
 * fuzzRegressions.test.ts: its recipe, where it came from and what went wrong.
 */
export function saveRegression(
  name: string,
  input: FuzzInput,
  about: { origin: string; what: string; outcome?: FuzzOutcome; recipe: Recipe },
): string {
  const dir = join(REGRESSIONS, name);
  mkdirSync(dir, { recursive: true });
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
        build: about.recipe,
      },
      null,
      2,
    )}\n`,
  );
  return dir;
}

/** The saved regression inputs, each built from its recipe, with the note saying where it came from. */
export function regressionInputs(): (FuzzInput & { name: string; what: string })[] {
  if (!existsSync(REGRESSIONS)) return [];
  return readdirSync(REGRESSIONS)
    .sort()
    .filter((n) => existsSync(join(REGRESSIONS, n, 'input.json')))
    .map((n) => {
      const meta = JSON.parse(readFileSync(join(REGRESSIONS, n, 'input.json'), 'utf8')) as {
        what: string;
        build: Recipe;
      };
      const built = buildRecipe(meta.build);
      return { name: n, top: built.top, files: built.files, what: meta.what };
    });
}
