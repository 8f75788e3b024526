/**
 * Inputs the fuzzer once failed on (fixtures/fuzz-regressions/<name>/: the files and
 * input.json saying where they came from and what went wrong), replayed through the harness:
 * each must now end in a result or a typed error within the time and memory bounds.
 */
import { describe, expect, it } from 'vitest';
import { runInput } from '../testing/fuzz/harness.ts';
import { regressionInputs } from '../testing/fuzzCorpus.ts';

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
