/**
 * A bitmap against another, and against "written in the top layer", through the core diff by
 * meaning: the differing ranges equal those nbdinfo's own maps of the same exports disagree on
 * (qemu:dirty-bitmap:NAME goldens against each other, and against qemu:allocation-depth's
 * "local"), and every reason names both sides' rule in words.
 */
import { describe, expect, it } from 'vitest';
import { openFixtureChain } from '../../testing/fixtureChain.ts';
import { golden, parseNbdinfo } from '../../testing/fixtures.ts';
import { diffSides, explainDifference } from '../diff/reason.ts';
import { chainStatus } from '../status/resolve.ts';
import { dirtyBitmap, loadDirtyBitmap } from './bitmap.ts';
import { writtenInTop } from './topAllocation.ts';

type Map = [number, number, number, string][];

/** Ranges where yes(a) differs from yes(b), merged. */
function disagreements(
  a: Map,
  yesA: (v: number) => boolean,
  b: Map,
  yesB: (v: number) => boolean,
  length: number,
) {
  const cuts = [...new Set([0, length, ...[...a, ...b].flatMap(([o, l]) => [o, o + l])])]
    .filter((c) => c <= length)
    .sort((x, y) => x - y);
  const at = (m: Map, o: number) => m.find(([s, l]) => s <= o && o < s + l)![2];
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const s = cuts[i]!;
    if (yesA(at(a, s)) === yesB(at(b, s))) continue;
    const p = out.at(-1);
    if (p && p[0] + p[1] === s) p[1] += cuts[i + 1]! - s;
    else out.push([s, cuts[i + 1]! - s]);
  }
  return out;
}

const ranges = (d: { count: number; start: Float64Array; length: Float64Array }) => {
  const out: [number, number][] = [];
  for (let i = 0; i < d.count; i++) {
    const p = out.at(-1);
    if (p && p[0] + p[1] === d.start[i]) p[1] += d.length[i]!;
    else out.push([d.start[i]!, d.length[i]!]);
  }
  return out;
};

describe('written in the top layer', () => {
  it('is qemu:allocation-depth 1, as nbdinfo prints it', async () => {
    for (const c of ['bitmaps-chain', 'bitmaps-checkpoints', 'chain-3']) {
      const st = await chainStatus(await openFixtureChain(c));
      const m = writtenInTop.compute(st);
      const got: [number, number][] = [];
      for (let k = 0; k < m.count; k++) if (m.value[k] === 1) got.push([m.start[k]!, m.length[k]!]);
      const want = disagreements(
        parseNbdinfo(golden(c, 'nbd-depth.txt')!),
        (v) => v === 1,
        [[0, st.length, 0, '']],
        () => false,
        st.length,
      );
      expect(
        ranges({
          count: got.length,
          start: Float64Array.from(got, (g) => g[0]),
          length: Float64Array.from(got, (g) => g[1]),
        }),
        c,
      ).toEqual(want);
    }
  });
});

describe('a bitmap compared by meaning', () => {
  it.each([
    ['bitmaps-chain', 'top-only', 'nbd-bitmap-top-only.txt'],
    ['bitmaps-chain', 'both', 'nbd-bitmap-both.txt'],
    ['bitmaps-checkpoints', 'cp1', 'nbd-bitmap-cp1.txt'],
    ['bitmaps-checkpoints', 'cp4', 'nbd-bitmap-cp4.txt'],
  ])(
    '%s %s against written in the top layer: differs where nbdinfo says dirty but not local, or local but clean',
    async (c, name, file) => {
      const chain = await openFixtureChain(c);
      const st = await chainStatus(chain);
      const a = { interpretation: dirtyBitmap((await loadDirtyBitmap(chain, name))!), status: st };
      const b = { interpretation: writtenInTop, status: st };
      const d = diffSides(a, b);
      const want = disagreements(
        parseNbdinfo(golden(c, file)!),
        (v) => v === 1,
        parseNbdinfo(golden(c, 'nbd-depth.txt')!),
        (v) => v === 1,
        st.length,
      );
      expect(ranges(d)).toEqual(want);
      for (const k of d.kinds) expect(k.facts.map((f) => f.fact)).toEqual(['dirty']);
      for (let i = 0; i < d.count; i++) {
        const why = explainDifference(d, i, a, b);
        expect(why).toMatch(/qemu:dirty-bitmap:\S+ [01] \((dirty|clean)\): bit \d+ .* granularity/);
        expect(why).toMatch(
          /reports (in top|not in top): \S+ (holds|does not hold)|reports (in top|not in top): no layer holds/,
        );
      }
    },
  );

  it('the 64 KiB bitmap made with the overlay agrees with it everywhere; the 128 KiB one overshoots by its granules', async () => {
    const chain = await openFixtureChain('bitmaps-chain');
    const st = await chainStatus(chain);
    const both = diffSides(
      { interpretation: dirtyBitmap((await loadDirtyBitmap(chain, 'both'))!), status: st },
      { interpretation: writtenInTop, status: st },
    );
    expect(both.count).toBe(0);
    const top = diffSides(
      { interpretation: dirtyBitmap((await loadDirtyBitmap(chain, 'top-only'))!), status: st },
      { interpretation: writtenInTop, status: st },
    );
    expect(top.bytesDiffering).toBe(3 * 65536);
  });

  it('cp1 against cp2: where one checkpoint saw a write the other did not', async () => {
    const c = 'bitmaps-checkpoints';
    const chain = await openFixtureChain(c);
    const st = await chainStatus(chain);
    const side = async (n: string) => ({
      interpretation: dirtyBitmap((await loadDirtyBitmap(chain, n))!),
      status: st,
    });
    const a = await side('cp1');
    const b = await side('cp2');
    const d = diffSides(a, b);
    const want = disagreements(
      parseNbdinfo(golden(c, 'nbd-bitmap-cp1.txt')!),
      (v) => v === 1,
      parseNbdinfo(golden(c, 'nbd-bitmap-cp2.txt')!),
      (v) => v === 1,
      st.length,
    );
    expect(ranges(d)).toEqual(want);
    expect(d.kinds.map((k) => k.factsLabel)).toEqual(expect.arrayContaining(['dirty: A yes, B no']));
    expect(explainDifference(d, 0, a, b)).toMatch(
      /A \(NBD qemu:dirty-bitmap:cp1\) reports dirty: .*B \(NBD qemu:dirty-bitmap:cp2\) reports clean/,
    );
  });
});
