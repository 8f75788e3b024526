/**
 * Fuzzing the engine (issue 6): seeded mutations of the QEMU-made fixtures and fast-check
 * generated images, each run through src/testing/fuzz/harness.ts runInput(). Every input must end
 * in a result or a typed ClusterscopeError within FUZZ_TIME_BOUND_MS and FUZZ_MEMORY_CAP_BYTES.
 *
 * `npm test` runs a short seeded sample. `node scripts/fuzz.mjs --runs N` runs this file with
 * CS_FUZZ_RUNS=N (and CS_FUZZ_SEED, CS_FUZZ_SAVE=1, CS_FUZZ_REPORT, CS_FUZZ_INFLIGHT set):
 * failing inputs are saved under fixtures/fuzz-regressions/ and replayed by
 * fuzzRegressions.test.ts. Rerun one mutation with CS_FUZZ_ONLY=<seed>.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { generatedChain } from '../testing/fuzz/generate.ts';
import { type FuzzInput, type FuzzOutcome, runInput } from '../testing/fuzz/harness.ts';
import {
  mutatedInput,
  patchRecipe,
  type Recipe,
  type SeededInput,
  saveRegression,
  seedCorpus,
} from '../testing/fuzzCorpus.ts';

const RUNS = Number(process.env.CS_FUZZ_RUNS ?? 150);
const SEED = Number(process.env.CS_FUZZ_SEED ?? 1);
const ONLY = process.env.CS_FUZZ_ONLY;
const SAVE = process.env.CS_FUZZ_SAVE === '1';
const REPORT = process.env.CS_FUZZ_REPORT;
const INFLIGHT = process.env.CS_FUZZ_INFLIGHT;
/** Generated images per run: a third of the mutations. */
const GENERATED = ONLY ? 0 : Math.max(1, Math.round(RUNS / 3));

interface Stats {
  inputs: number;
  ms: number;
  outcomes: Record<string, number>;
  failures: { input: string; failures: string[]; saved?: string }[];
  maxInputMs: number;
  /** The slowest input, to rerun it. */
  slowest: string;
  maxBytesRequested: number;
  /** Most bytes the engine held for one input (its MemoryBudget's peak). */
  maxEngineBytes: number;
  peakRssBytes: number;
}
const stats: Record<'mutated' | 'generated', Stats> = {
  mutated: blank(),
  generated: blank(),
};
function blank(): Stats {
  return {
    inputs: 0,
    ms: 0,
    outcomes: {},
    failures: [],
    maxInputMs: 0,
    slowest: '',
    maxBytesRequested: 0,
    maxEngineBytes: 0,
    peakRssBytes: 0,
  };
}

/**
 * Before each input: its recipe (fuzzCorpus.ts), so a hang the harness cannot interrupt leaves
 * a regression fixture behind (scripts/fuzz.mjs copies it), built again from the recipe.
 */
function markInFlight(label: string, input: FuzzInput, what: string, recipe: () => Recipe): void {
  if (!INFLIGHT) return;
  rmSync(INFLIGHT, { recursive: true, force: true });
  mkdirSync(INFLIGHT, { recursive: true });
  writeFileSync(
    join(INFLIGHT, 'input.json'),
    `${JSON.stringify({ top: input.top, origin: label, what, build: recipe() })}\n`,
  );
}

async function one(
  kind: 'mutated' | 'generated',
  label: string,
  input: FuzzInput,
  what: string,
  recipe: () => Recipe,
): Promise<FuzzOutcome> {
  markInFlight(label, input, what, recipe);
  const o = await runInput(input);
  const s = stats[kind];
  s.inputs++;
  s.ms += o.ms;
  s.outcomes[o.outcome] = (s.outcomes[o.outcome] ?? 0) + 1;
  if (o.ms > s.maxInputMs) s.slowest = `${label}: ${what}`;
  s.maxInputMs = Math.max(s.maxInputMs, o.ms);
  s.maxBytesRequested = Math.max(s.maxBytesRequested, o.bytesRequested);
  s.maxEngineBytes = Math.max(s.maxEngineBytes, o.peakBytes);
  s.peakRssBytes = Math.max(s.peakRssBytes, process.memoryUsage.rss());
  if (o.failures.length) {
    const saved = SAVE
      ? saveRegression(label, input, { origin: label, what, outcome: o, recipe: recipe() })
      : undefined;
    s.failures.push({
      input: `${label}: ${what}`,
      failures: o.failures.map(
        (f) => `${f.kind} in ${f.stage}: ${f.message.split('\n').slice(0, 3).join(' | ')}`,
      ),
      ...(saved && { saved }),
    });
  }
  return o;
}

afterAll(() => {
  // Done: no input is in flight any more (scripts/fuzz.mjs would take a stale marker for a hang).
  if (INFLIGHT) rmSync(INFLIGHT, { recursive: true, force: true });
  const line = (k: string, s: Stats) =>
    `${k}: ${s.inputs} inputs in ${(s.ms / 1000).toFixed(1)} s (${(s.inputs / Math.max(s.ms / 1000, 1e-3)).toFixed(1)} inputs/s), outcomes ${JSON.stringify(s.outcomes)}, failures ${s.failures.length}, slowest ${s.maxInputMs} ms, most bytes asked ${s.maxBytesRequested}, most engine bytes ${s.maxEngineBytes}`;
  console.log(
    ['fuzz summary', line('mutated', stats.mutated), line('generated', stats.generated)].join('\n'),
  );
  if (REPORT) writeFileSync(REPORT, `${JSON.stringify({ runs: RUNS, seed: SEED, ...stats }, null, 2)}\n`);
});

describe('fuzz: seeded mutations of the QEMU fixtures', () => {
  it(`${ONLY ? `seed ${ONLY}` : `${RUNS} mutations from seed ${SEED}`} end in a result or a typed error, in time and memory`, async () => {
    const cases = seedCorpus();
    expect(cases.length, 'fixtures/images holds the mutation seeds').toBeGreaterThan(10);
    // Runs of different --seed never share an input (SEED + i made seeds 202 and 303 overlap).
    const seeds = ONLY ? [Number(ONLY)] : Array.from({ length: RUNS }, (_, i) => SEED * 1_000_003 + i);
    for (const seed of seeds) {
      const input = mutatedInput(seed, cases);
      await one(
        'mutated',
        `mutation-${seed}`,
        input,
        `${input.origin} (${input.mutated}): ${input.what}`,
        () => patchRecipe(input as SeededInput, cases),
      );
    }
    const rerun = (f: Stats['failures'][number]) =>
      `${f.input}\n  ${f.failures.join('\n  ')}\n  rerun: CS_FUZZ_ONLY=${f.input.split(':')[0]!.replace('mutation-', '')} npx vitest run src/cli/fuzz.test.ts`;
    expect(stats.mutated.failures.map(rerun)).toEqual([]);
  }, 600_000);
});

describe('fuzz: generated images (fast-check)', () => {
  it.runIf(GENERATED > 0)(
    `${GENERATED} generated chains end in a result or a typed error`,
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(generatedChain, async (g) => {
          const o = await one('generated', `generated-${SEED}-${n++}`, g, `fast-check seed ${SEED}`, () => ({
            kind: 'spec',
            specs: g.specs!,
          }));
          return o.failures.length === 0;
        }),
        { numRuns: GENERATED, seed: SEED, endOnFailure: SAVE },
      );
    },
    600_000,
  );
});
