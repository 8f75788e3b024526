/**
 * Inputs the fuzzer once failed on (fixtures/fuzz-regressions/<name>/input.json: where they
 * came from, what went wrong, and the recipe that builds them: byte patches to a fixture or a
 * generated chain's specs), replayed through the harness: each must now end in a result or a
 * typed error within the time and memory bounds. A recipe builds the very bytes it was made
 * from, so no binary needs committing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generatedChain } from '../testing/fuzz/generate.ts';
import { runInput } from '../testing/fuzz/harness.ts';
import {
  buildRecipe,
  mutatedInput,
  patchRecipe,
  regressionInputs,
  seedCorpus,
} from '../testing/fuzzCorpus.ts';

const inputs = regressionInputs();

describe('fuzz regressions', () => {
  it('the regression corpus is present', () => {
    expect(inputs.length).toBeGreaterThan(0);
  });
  it.each(inputs)('$name ends in a result or a typed error, in time and memory', async (input) => {
    const o = await runInput(input);
    expect(o.failures, input.what).toEqual([]);
  });
});

describe('regression recipes', () => {
  it('a mutated fixture: its byte patches build the same files', () => {
    const cases = seedCorpus();
    for (const seed of [1, 17, 256, 9999]) {
      const input = mutatedInput(seed, cases);
      const built = buildRecipe(JSON.parse(JSON.stringify(patchRecipe(input, cases))));
      expect(built.top).toBe(input.top);
      for (const [f, b] of input.files)
        expect(Buffer.compare(built.files.get(f)!, b), `${seed} ${f}`).toBe(0);
    }
  });
  it('a generated chain: its specs build the same files', () => {
    for (const g of fc.sample(generatedChain, { seed: 3, numRuns: 5 })) {
      const built = buildRecipe(JSON.parse(JSON.stringify({ kind: 'spec', specs: g.specs })));
      for (const [f, b] of g.files) expect(Buffer.compare(built.files.get(f)!, b)).toBe(0);
    }
  });
});
