/**
 * QEMU's own words for every refusal (ARCHITECTURE.md: errors carry QEMU's sentence where QEMU
 * refuses the same input). For each fixture QEMU refused to map or to describe, its recorded
 * stderr (fixtures/golden/<case>/map.json.err, info.json.err; QEMU 7.2.22) gives the sentence:
 * after "qemu-img: Could not open 'FILE': " for a refused open, or between "qcow2: Image is
 * corrupt: " and "; further non-fatal corruption events will be suppressed" for a corruption
 * event. clusterscope's error for the same image must carry that sentence as its detail, after
 * its own prefix naming the file, the structure and the offset.
 */
import { describe, expect, it } from 'vitest';
import { openFixtureChain } from '../testing/fixtureChain.ts';
import { allCases, type FixtureCase, golden, INTENDED_REFUSALS } from '../testing/fixtures.ts';
import { closeChain } from './chain/chain.ts';
import { ClusterscopeError } from './errors.ts';
import { chainStatus } from './status/resolve.ts';

const CORRUPT = /^qcow2: Image is corrupt: (.*); further non-fatal corruption events will be suppressed$/m;

/** QEMU's sentence in a recorded stderr, for an image opened as `top`. */
function qemuSentence(err: string, top: string): string | undefined {
  const corrupt = CORRUPT.exec(err);
  if (corrupt) return corrupt[1];
  const first = err.split('\n').find((l) => l.startsWith('qemu-img: '));
  if (!first) return undefined;
  const prefix = `qemu-img: Could not open '${top}': `;
  return first.startsWith(prefix) ? first.slice(prefix.length) : first.slice('qemu-img: '.length);
}

async function ours(c: FixtureCase, purpose: 'io' | 'info'): Promise<ClusterscopeError | undefined> {
  try {
    const chain = await openFixtureChain(c.name, c.top, { withDataFiles: true, purpose });
    try {
      return purpose === 'io' ? (await chainStatus(chain)).error : undefined;
    } finally {
      await closeChain(chain);
    }
  } catch (e) {
    if (e instanceof ClusterscopeError) return e;
    throw e;
  }
}

const refused = (file: string) =>
  allCases().filter(
    (c) =>
      golden(c, `${file}.exit`) !== undefined &&
      golden(c, `${file}.err`) !== undefined &&
      !(c.name in INTENDED_REFUSALS) &&
      c.name !== 'backing-loop',
  );

describe.each([
  ['map.json', 'io'],
  ['info.json', 'info'],
] as const)('refusals recorded in %s carry QEMU 7.2 sentence', (file, purpose) => {
  const cases = refused(file);
  it('has refusals to compare with', () => expect(cases.length).toBeGreaterThan(10));
  for (const c of cases) {
    const sentence = qemuSentence(golden(c, `${file}.err`)!, c.top);
    it(`${c.name}: ${sentence}`, async () => {
      expect(sentence, 'a recorded QEMU sentence').toBeDefined();
      const err = await ours(c, purpose);
      expect(err, 'QEMU refused this image, clusterscope must too').toBeInstanceOf(ClusterscopeError);
      // The detail is QEMU's sentence; a corruption event may be followed by clusterscope's reason.
      if (CORRUPT.test(golden(c, `${file}.err`)!)) expect(err!.detail.startsWith(sentence!)).toBe(true);
      else expect(err!.detail).toBe(sentence);
      expect(err!.message.startsWith(`${err!.file}: ${err!.structure}`)).toBe(true);
    });
  }
});
