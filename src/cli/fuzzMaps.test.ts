/**
 * Fuzzing the readers of untrusted text (src/testing/fuzz/maps.ts): mutated qemu-img map and
 * nbdinfo outputs QEMU printed for the fixtures, link maps encoded from them and clusterscope map
 * files holding those. `npm test` runs a short seeded sample; scripts/fuzz.mjs runs
 * CS_FUZZ_MAP_RUNS inputs. A failing input is saved under fixtures/fuzz-regressions/ as its
 * text when that is small, else as the seed that makes it again from the golden maps.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../testing/fixtures.ts';
import { linkSeeds, type MapInput, mapInput, runMapInput } from '../testing/fuzz/maps.ts';
import { rng } from '../testing/fuzz/prng.ts';
import { REGRESSIONS } from '../testing/fuzzCorpus.ts';

const RUNS = Number(process.env.CS_FUZZ_MAP_RUNS ?? 300);
const SEED = Number(process.env.CS_FUZZ_SEED ?? 1);
const SAVE = process.env.CS_FUZZ_SAVE === '1';
const REPORT = process.env.CS_FUZZ_REPORT;
/** scripts/fuzz.mjs watches this marker for a hang (the input in flight, as a regression). */
const INFLIGHT = process.env.CS_FUZZ_INFLIGHT && `${process.env.CS_FUZZ_INFLIGHT}-maps`;

const root = join(FIXTURES, 'golden');
const MAPS = readdirSync(root)
  .filter((c) => statSync(join(root, c)).isDirectory())
  .sort()
  .flatMap((c) =>
    readdirSync(join(root, c))
      .filter((f) => /^(map.*\.(json|txt)|nbd-.*\.txt)$/.test(f))
      .map((f) => readFileSync(join(root, c, f), 'utf8')),
  )
  .filter((t) => t.length > 0 && t.length < 1 << 20);
const LINKS = linkSeeds(MAPS);

const stats = {
  inputs: 0,
  ms: 0,
  outcomes: {} as Record<string, number>,
  failures: [] as { input: string; failures: string[]; saved?: string }[],
  maxInputMs: 0,
  slowest: '',
  maxEngineBytes: 0,
  peakRssBytes: 0,
};

/** The input about to run, as the regression a hang leaves (its seed and number). */
function markInFlight(n: number, input: MapInput): void {
  mkdirSync(INFLIGHT!, { recursive: true });
  writeFileSync(
    join(INFLIGHT!, 'map-input.json'),
    `${JSON.stringify({ kind: input.kind, what: `map-${SEED}-${n}: ${input.what}`, seed: SEED, n })}\n`,
  );
}

/** The input number `n` of seed `seed`: the same text for the same golden maps. */
const inputOf = (seed: number, n: number): MapInput => mapInput(rng(seed * 1_000_003 + n), MAPS, LINKS);

function save(n: number, input: MapInput): string {
  const dir = join(REGRESSIONS, `map-${SEED}-${n}`);
  mkdirSync(dir, { recursive: true });
  const small = input.text.length <= 64 * 1024;
  const doc = small ? input : { kind: input.kind, what: input.what, seed: SEED, n };
  writeFileSync(join(dir, 'map-input.json'), `${JSON.stringify(doc, null, 2)}\n`);
  return dir;
}

afterAll(() => {
  if (INFLIGHT) rmSync(INFLIGHT, { recursive: true, force: true });
  console.log(
    `map fuzz: ${stats.inputs} inputs in ${(stats.ms / 1000).toFixed(1)} s, outcomes ${JSON.stringify(stats.outcomes)}, failures ${stats.failures.length}, slowest ${stats.maxInputMs.toFixed(0)} ms`,
  );
  if (REPORT) writeFileSync(`${REPORT}.maps`, `${JSON.stringify(stats, null, 2)}\n`);
});

describe('fuzz: map files, link maps, clusterscope map files', () => {
  it('has seeds: every golden map and a link map of each', () => {
    expect(MAPS.length).toBeGreaterThan(200);
    expect(LINKS.length).toBeGreaterThan(150);
  });
  it(`${RUNS} inputs from seed ${SEED} end in a result or a typed error, in time and memory`, () => {
    for (let n = 0; n < RUNS; n++) {
      const input = inputOf(SEED, n);
      if (INFLIGHT) markInFlight(n, input);
      const o = runMapInput(input);
      stats.inputs++;
      stats.ms += o.ms;
      stats.outcomes[o.outcome] = (stats.outcomes[o.outcome] ?? 0) + 1;
      if (o.ms > stats.maxInputMs) stats.slowest = `${input.kind}: ${input.what}`;
      stats.maxInputMs = Math.max(stats.maxInputMs, o.ms);
      stats.maxEngineBytes = Math.max(stats.maxEngineBytes, o.peakBytes);
      stats.peakRssBytes = Math.max(stats.peakRssBytes, process.memoryUsage.rss());
      if (o.failures.length) {
        stats.failures.push({
          input: `${input.kind} ${n}: ${input.what}`,
          failures: o.failures.map((f) => `${f.kind}: ${f.message.split('\n').slice(0, 3).join(' | ')}`),
          ...(SAVE && { saved: save(n, input) }),
        });
      }
    }
    expect(stats.failures).toEqual([]);
  }, 600_000);
  it('saved map regressions end in a result or a typed error', () => {
    const saved = existsSync(REGRESSIONS)
      ? readdirSync(REGRESSIONS).filter((d) => existsSync(join(REGRESSIONS, d, 'map-input.json')))
      : [];
    for (const d of saved) {
      const doc = JSON.parse(readFileSync(join(REGRESSIONS, d, 'map-input.json'), 'utf8')) as
        | MapInput
        | { seed: number; n: number };
      const input = 'text' in doc ? doc : inputOf(doc.seed, doc.n);
      expect(runMapInput(input).failures, d).toEqual([]);
    }
  });
});
