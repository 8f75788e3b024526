/**
 * Diffs by meaning (issue 11.1) against QEMU's own output: the recorded goldens of every
 * fixture, read back as map files (the page's map-only diff does the same), and the engine's
 * statuses.
 *  - `qemu-img map` 7.2 and NBD base:allocation 6.0+ encode the same answer differently; by
 *    meaning they agree on every byte, by value on none.
 *  - `qemu-img map` 6.0 prints 7.2's output without "present" (reference §4.2): by meaning
 *    nothing differs, and 6.0 cannot tell an unallocated range from a zero cluster at the same
 *    depth, which is exactly where 7.2's "present" was added.
 */
import { describe, expect, it } from 'vitest';
import { allCases, type FixtureCase, golden } from '../../testing/fixtures.ts';
import { fixtureStatus } from '../../testing/openFixture.ts';
import { type ImportedMap, parseNbdinfoText, parseQemuImgMapJson } from '../import/mapFile.ts';
import { catalogueEntry } from '../interpret/catalogue.ts';
import { type Diff, diffInterpreted } from './diff.ts';
import { indistinguishableSentence, meaningNotes } from './meaning.ts';
import { diffSides } from './reason.ts';

interface MapEntry {
  start: number;
  length: number;
  depth: number;
  present?: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

/** Diff of two imported map files, as the page's map-only diff computes it. */
function diffMaps(a: ImportedMap, b: ImportedMap, mode?: 'meaning' | 'values'): Diff {
  const ia = catalogueEntry(a.interpretationId)!.interpretation;
  const ib = catalogueEntry(b.interpretationId)!.interpretation;
  return diffInterpreted(a.extents, b.extents, {
    labelA: ia.label,
    labelB: ib.label,
    lengthA: a.length,
    lengthB: b.length,
    meaningA: ia,
    meaningB: ib,
    ...(mode && { mode }),
  });
}

/**
 * qemu-img map 6.0's output for the same image: 7.2's without "present" (reference §4.2), cut
 * from the text (numbers past 2^53 stay as QEMU printed them; a JSON round trip would not).
 */
const as60 = (json: string): string => json.replace(/, "present": (?:true|false)/g, '');

const usable = (c: FixtureCase, map: string, nbd: string) =>
  c.error === null &&
  !c.covers.includes('limit') &&
  golden(c, map)?.trim() &&
  golden(c, `${map}.exit`) === undefined &&
  golden(c, nbd)?.trim() &&
  golden(c, `${nbd}.exit`) === undefined;

const pairs = allCases().flatMap((c) =>
  [
    ['map.json', 'nbd-base.txt'],
    ['map-nobacking.json', 'nbd-base-nobacking.txt'],
    ['map.sparse.json', 'nbd-base.sparse.txt'],
  ]
    .filter(([m, n]) => usable(c, m!, n!))
    .map(([m, n]) => ({ label: `${c.name} ${m} / ${n}`, c, map: m!, nbd: n! })),
);

describe('qemu-img map 7.2 against NBD base:allocation 6.0+, both recorded from QEMU 7.2', () => {
  it('covers every fixture QEMU maps (and the sparse-file goldens)', () => {
    expect(pairs.length).toBeGreaterThan(50);
    expect(pairs.some((p) => p.map === 'map.sparse.json')).toBe(true);
  });

  it.each(pairs)('$label: by meaning 0 bytes differ; by value none agree', ({ c, map, nbd }) => {
    const a = parseQemuImgMapJson(map, golden(c, map)!);
    const b = parseNbdinfoText(nbd, golden(c, nbd)!);
    expect(a.interpretationId).toBe('qemu-img-map-7.2');
    expect(b.interpretationId).toBe('nbd-base-allocation-6.0');
    const d = diffMaps(a, b);
    expect(d.mode).toBe('meaning');
    expect(d.bytesDiffering).toBe(0);
    expect(d.bytesAgreeing).toBe(a.length);
    const compared = d.facts.filter((f) => f.bytesBoth === a.length).map((f) => f.id);
    expect(compared).toEqual(['zero', 'data']);
    // NBD states the HOLE bit, the map its present, depth, offset: told by one side only.
    expect(d.facts.find((f) => f.id === 'hole')).toMatchObject({ declaredA: false, bytesOnlyB: a.length });
    expect(d.facts.find((f) => f.id === 'present')).toMatchObject({ declaredB: false, bytesOnlyA: a.length });
    // The complaint of issue 11.1: comparing encodings, "0 B agree".
    const raw = diffMaps(a, b, 'values');
    expect(raw.mode).toBe('values');
    expect(raw.bytesAgreeing).toBe(0);
    expect(raw.facts).toEqual([]);
  });
});

const maps = allCases().flatMap((c) =>
  ['map.json', 'map-nobacking.json']
    .filter((m) => usable(c, m, m.replace('map', 'nbd-base').replace('.json', '.txt')))
    .map((m) => ({ label: `${c.name} ${m}`, c, map: m })),
);

/** Bytes of zero, not-data entries by (depth, offset or not) and present, from a 7.2 golden. */
function zeroGroups(entries: MapEntry[]): Map<string, { present: number; absent: number }> {
  const g = new Map<string, { present: number; absent: number }>();
  for (const e of entries) {
    if (!e.zero || e.data) continue;
    const k = `${e.depth},${e.offset !== undefined}`;
    const x = g.get(k) ?? { present: 0, absent: 0 };
    if (e.present) x.present += e.length;
    else x.absent += e.length;
    g.set(k, x);
  }
  return g;
}

describe('qemu-img map 6.0 against 7.2 (6.0 = the recorded 7.2 output without "present")', () => {
  it.each(maps)(
    '$label: nothing differs; 6.0 prints unallocated and zero clusters the same',
    ({ c, map }) => {
      const text = golden(c, map)!;
      const entries = JSON.parse(text) as MapEntry[];
      const a = parseQemuImgMapJson('6.0.json', as60(text));
      const b = parseQemuImgMapJson(map, text);
      expect(a.interpretationId).toBe('qemu-img-map-6.0');
      const d = diffMaps(a, b);
      expect(d.bytesDiffering).toBe(0);
      // Where a 7.2 range is absent or present-zero at one depth (and both have an offset or
      // neither), 6.0 printed one value for both: exactly those are reported, with their bytes.
      const expected = [...zeroGroups(entries)]
        .filter(([, x]) => x.present > 0 && x.absent > 0)
        .map(([k, x]) => {
          const depth = Number(k.split(',')[0]);
          return {
            side: 'a',
            label: `depth ${depth}, zero`,
            facts: depth === 0 ? ['present', 'local'] : ['present'],
            bytes: [x.present, x.absent],
          };
        });
      const got = d.indistinguishable.map((x) => ({
        side: x.side,
        label: x.label,
        facts: x.facts,
        bytes: [
          x.members.find((m) => m.facts[0]!.value === 'yes')!.bytes,
          x.members.find((m) => m.facts[0]!.value === 'no')!.bytes,
        ],
      }));
      expect(got.sort((p, q) => p.label.localeCompare(q.label))).toEqual(
        expected.sort((p, q) => p.label.localeCompare(q.label)),
      );
      // Every example range lies in a golden entry of the member's kind.
      for (const x of d.indistinguishable) {
        for (const m of x.members) {
          const present = m.facts[0]!.value === 'yes';
          for (const ex of m.examples) {
            const inside = entries.some(
              (e) =>
                e.zero &&
                !e.data &&
                e.present === present &&
                e.start <= ex.start &&
                ex.start + ex.length <= e.start + e.length,
            );
            expect(inside).toBe(true);
          }
        }
      }
    },
  );

  it('the fixtures include both outcomes', () => {
    const withPair = maps.filter(({ c, map }) =>
      [...zeroGroups(JSON.parse(golden(c, map)!))].some(([, x]) => x.present > 0 && x.absent > 0),
    );
    expect(withPair.length).toBeGreaterThan(5);
    expect(withPair.length).toBeLessThan(maps.length);
  });

  it('zero-unmap: clusters 1 (zero) and 3 (unallocated) in words', () => {
    const text = golden('zero-unmap', 'map.json')!;
    const d = diffMaps(parseQemuImgMapJson('6.0.json', as60(text)), parseQemuImgMapJson('7.2.json', text));
    expect(d.indistinguishable).toHaveLength(1);
    expect(
      indistinguishableSentence(d.indistinguishable[0]!, { nameA: '6.0', nameB: '7.2', clusterSize: 65536 }),
    ).toBe(
      '6.0 prints "depth 0, zero" the same for 7.2\'s "depth 0, present, zero" (present yes, local yes: 65536 bytes in 1 extent, e.g. cluster 1 [0x10000, 0x20000)) and "depth 0, absent, zero" (present no, local no: 65536 bytes in 1 extent, e.g. cluster 3 [0x30000, 0x40000)); 7.2\'s present and local tell them apart.',
    );
  });
});

describe('the engine agrees with the goldens on the same comparisons', () => {
  const side = async (id: string, name: string, noBacking = false) => ({
    interpretation: catalogueEntry(id)!.interpretation,
    status: await fixtureStatus(name, 'top.qcow2', noBacking),
  });

  it('chain-3: 6.0 vs 7.2 over the status reports the pair at depth 0 and depth 2', async () => {
    const a = await side('qemu-img-map-6.0', 'chain-3');
    const b = { ...a, interpretation: catalogueEntry('qemu-img-map-7.2')!.interpretation };
    const d = diffSides(a, b);
    expect(d.bytesDiffering).toBe(0);
    // golden chain-3: [0,64K) present zero at depth 0 has no absent partner; [192K,256K) present
    // zero at depth 1 neither; [256K,448K) absent at depth 2 neither: no pair.
    expect(d.indistinguishable).toEqual([]);
    const null60 = await side('qemu-img-map-6.0', 'chain-3', true);
    const null72 = { ...null60, interpretation: b.interpretation };
    const dn = diffSides(null60, null72);
    expect(dn.indistinguishable.map((x) => [x.label, x.members.map((m) => m.examples[0])])).toEqual([
      [
        'depth 0, zero',
        [
          { start: 0, length: 65536 },
          { start: 65536, length: 65536 },
        ],
      ],
    ]);
  });

  it('nbd-hole-2021-thread with backing: null: 5.2 vs 6.0 differ in the HOLE bit at cluster 2 only', async () => {
    const a = await side('nbd-base-allocation-5.2', 'nbd-hole-2021-thread', true);
    const b = await side('nbd-base-allocation-6.0', 'nbd-hole-2021-thread', true);
    const d = diffSides(a, b);
    expect(d.kinds).toEqual([
      expect.objectContaining({
        id: 'a2-b3',
        facts: [{ fact: 'hole', label: 'NBD HOLE bit', a: 'no', b: 'yes' }],
        factsLabel: 'hole: A no, B yes',
      }),
    ]);
    const f = Object.fromEntries(d.facts.map((x) => [x.id, x]));
    expect(f.hole).toMatchObject({ bytesBoth: 262144, bytesDiffering: 65536 });
    expect(f.zero).toMatchObject({ bytesBoth: 262144, bytesDiffering: 0 });
    expect(f.present).toMatchObject({ declaredA: true, declaredB: false, bytesOnlyA: 262144 });
    expect(f.data).toMatchObject({ declaredA: false, declaredB: true, bytesOnlyB: 262144 });
    // 6.0 sends "hole,zero" for cluster 2 (ZERO_PLAIN) and clusters 0 and 3 (not allocated);
    // 5.2's bit told them apart: the oVirt complaint (reference §5.2).
    expect(d.indistinguishable).toEqual([
      expect.objectContaining({
        side: 'b',
        label: 'hole,zero',
        facts: ['present'],
        members: [
          expect.objectContaining({ label: 'hole,zero', bytes: 131072, extents: 2 }),
          expect.objectContaining({
            label: 'zero',
            bytes: 65536,
            examples: [{ start: 131072, length: 65536 }],
          }),
        ],
      }),
    ]);
    const notes = meaningNotes(d, { nameA: '5.2', nameB: '6.0', clusterSize: 65536 });
    expect(notes[0]).toBe('Compared by meaning: zero, hole (stated by both over 262144 bytes).');
    expect(notes).toContain(
      '5.2 also tells present (present in the chain) over 262144 bytes; 6.0 never states it.',
    );
    expect(notes).toContain(
      '6.0 also tells data (has data in host storage) over 262144 bytes; 5.2 never states it.',
    );
  });

  it('qemu-img map 7.2 vs allocation-depth: past a short backing file QEMU itself disagrees (reference §4.1)', async () => {
    const a = await side('qemu-img-map-7.2', 'short-base');
    const b = { ...a, interpretation: catalogueEntry('nbd-allocation-depth')!.interpretation };
    const d = diffSides(a, b);
    // golden short-base: map [128K,192K) "depth": 0, "present": false; nbd-depth "backing depth 2" over [0,192K).
    expect(golden('short-base', 'map.json')).toContain(
      '{ "start": 131072, "length": 65536, "depth": 0, "present": false, "zero": true, "data": false}',
    );
    expect(golden('short-base', 'nbd-depth.txt')).toContain('         0      196608    2  backing depth 2');
    expect(Array.from(d.start)).toEqual([131072]);
    expect(d.kinds[0]!.factsLabel).toBe('present: A no, B yes; depth: A layer 0, B layer 1');
  });
});

const depthPairs = allCases().flatMap((c) =>
  [
    ['map.json', 'nbd-depth.txt'],
    ['map-nobacking.json', 'nbd-depth-nobacking.txt'],
  ]
    .filter(([m, n]) => usable(c, m!, n!))
    .map(([m, n]) => ({ label: `${c.name} ${m} / ${n}`, c, map: m!, nbd: n! })),
);

/** Bytes where the golden map's owner (present ? depth + 1 : 0) and allocation-depth's value differ. */
function ownerMismatch(entries: MapEntry[], depth: ImportedMap): number {
  let bytes = 0;
  const m = depth.extents;
  for (const e of entries) {
    const owner = e.present ? e.depth + 1 : 0;
    for (let i = 0; i < m.count; i++) {
      const s = Math.max(e.start, m.start[i]!);
      const t = Math.min(e.start + e.length, m.start[i]! + m.length[i]!);
      if (t > s && m.value[i] !== owner) bytes += t - s;
    }
  }
  return bytes;
}

describe('qemu-img map 7.2 against qemu:allocation-depth, both recorded', () => {
  it.each(depthPairs)('$label: they differ exactly where the owners differ', ({ c, map, nbd }) => {
    const text = golden(c, map)!;
    const entries = JSON.parse(text) as MapEntry[];
    const a = parseQemuImgMapJson(map, text);
    const b = parseNbdinfoText(nbd, golden(c, nbd)!);
    const d = diffMaps(a, b);
    expect(d.bytesDiffering).toBe(ownerMismatch(entries, b));
    // and only past the end of a short backing file, where map says "present": false
    for (let i = 0; i < d.count; i++) {
      expect(d.kinds[d.kind[i]!]!.labelA).toMatch(/absent/);
    }
  });

  it('the short-backing cases are among them', () => {
    const differing = depthPairs.filter(({ c, map, nbd }) => {
      const b = parseNbdinfoText(nbd, golden(c, nbd)!);
      return ownerMismatch(JSON.parse(golden(c, map)!), b) > 0;
    });
    expect(differing.map((p) => p.c.name)).toEqual(expect.arrayContaining(['short-base', 'short-middle']));
  });
});

describe('the proposals by meaning, over every fixture', () => {
  const cases = allCases().filter(
    (c) => c.error === null && !c.covers.includes('limit') && !c.covers.includes('luks'),
  );
  it.each(cases)(
    '$name: joint-allocation says what base:allocation 6.0 and allocation-depth say',
    async (c) => {
      const st = await fixtureStatus(c.name, c.top);
      const s = (id: string) => ({ interpretation: catalogueEntry(id)!.interpretation, status: st });
      const joint = s('nbd-joint-allocation-proposed-2021-06');
      expect(diffSides(joint, s('nbd-base-allocation-6.0')).bytesDiffering).toBe(0);
      expect(diffSides(joint, s('nbd-allocation-depth')).bytesDiffering).toBe(0);
      // The OFFSET_VALID proposal's HOLE bit is 5.2's or 6.0's; the facts behind it never contradict.
      const prop = s('nbd-base-allocation-proposed-2021-06');
      const vs72 = diffSides(prop, s('qemu-img-map-7.2'));
      expect(vs72.count === 0 || vs72.kinds.every((k) => /present/.test(k.factsLabel))).toBe(true);
    },
  );
});

describe('the engine: qemu-img map 7.2 vs NBD base:allocation 6.0 over every fixture status', () => {
  const cases = allCases().filter(
    (c) => c.error === null && !c.covers.includes('limit') && !c.covers.includes('luks'),
  );
  it.each(cases)('$name: 0 bytes differ by meaning, with the chain and with backing: null', async (c) => {
    for (const noBacking of [false, true]) {
      const st = await fixtureStatus(c.name, c.top, noBacking);
      const s = (id: string) => ({ interpretation: catalogueEntry(id)!.interpretation, status: st });
      const d = diffSides(s('qemu-img-map-7.2'), s('nbd-base-allocation-6.0'));
      expect(d.bytesDiffering).toBe(0);
      expect(diffSides(s('qemu-img-map-8.2'), s('nbd-base-allocation-6.0')).bytesDiffering).toBe(0);
    }
  });
});
