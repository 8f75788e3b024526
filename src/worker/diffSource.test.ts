import { describe, expect, it } from 'vitest';
import { D_AGREE, D_KIND } from '../core/raster/diff.ts';
import type { DiffSide } from '../protocol/source.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { workerHarness } from '../testing/workerHarness.ts';

const K = 65536;
const NBD52 = 'nbd-base-allocation-5.2';
const NBD60 = 'nbd-base-allocation-6.0';
const thread = () => ({
  kind: 'files' as const,
  files: [fixtureFile('nbd-hole-2021-thread', 'top.qcow2'), fixtureFile('nbd-hole-2021-thread', 'base.raw')],
});

/** The June 2021 thread's comparison: qemu-nbd 5.2 against 6.0+, the top alone. */
const sides = (source: number): { a: DiffSide; b: DiffSide } => ({
  a: { source, interp: NBD52, view: 'backing-null' },
  b: { source, interp: NBD60, view: 'backing-null' },
});

describe('the diff source', () => {
  it('5.2 vs 6.0 at backing: null differs in exactly cluster 2 (the June 2021 thread)', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: thread() });
    const s = await w.call('diff', sides(info.id));
    expect(s.count).toBe(1);
    expect(s.kinds.map((k) => [k.label, k.bytes])).toEqual([['A zero / B hole,zero', K]]);
    expect(s.bytesAgreeing).toBe(3 * K);
    expect(s.a.viewWords).toBe('backing: null, active L1');
    const rows = await w.call('rows', { source: s.id, view: '', count: 10 });
    expect([rows.total, rows.start[0], rows.length[0]]).toEqual([1, 2 * K, K]);

    const b = await w.call('bins', { source: s.id, view: '', start: 0, end: 4 * K, n: 4 });
    const f = (bin: number, c: number) => b.fractions[bin * b.classes + c];
    expect([0, 1, 2, 3].map((bin) => f(bin, D_AGREE))).toEqual([1, 1, 0, 1]);
    expect([0, 1, 2, 3].map((bin) => f(bin, D_KIND))).toEqual([0, 0, 1, 0]);

    const l = await w.call('lanes', { source: s.id, view: '', start: 0, end: 4 * K, px: 4 });
    expect(s.lanes.map((x) => x.name)).toEqual([
      'A: NBD base:allocation (qemu-nbd 5.2 and older) @ backing-null',
      'B: NBD base:allocation (qemu-nbd 6.0 and newer) @ backing-null',
      'Difference',
    ]);
    const lane = (k: number) =>
      [0, 1, 2, 3].map((p) => {
        const base = (k * l.px + p) * l.classes;
        return s.classes[[...l.fractions.subarray(base, base + l.classes)].indexOf(1)];
      });
    // base:allocation legend: 0 data, 1 hole, 2 zero, 3 hole,zero (legend order). B is QEMU's own
    // answer (golden nbd-base-nobacking.txt: hole,zero / data / hole,zero x2); A differs in cluster 2.
    expect(lane(2)).toEqual(['agree', 'agree', 'kind-0', 'agree']);
    expect(lane(1)).toEqual(['value-3', 'value-0', 'value-3', 'value-3']);
    expect(lane(0)).toEqual(['value-3', 'value-0', 'value-2', 'value-3']);

    expect(rows.cells[0]![0]).toBe('cluster 2');
    expect(rows.cells[0]![4]).toMatch(/^cluster 2 /);
    expect(rows.cells[0]![4]).toContain('ZERO_PLAIN');
    expect(rows.klass[0]).toBe(D_KIND);

    const j = JSON.parse(
      (await w.call('export', { source: s.id, view: '', format: 'diff-json', release: 0 })).text,
    );
    expect(j.extents).toEqual([expect.objectContaining({ start: 2 * K, length: K, kind: 'a2-b3' })]);
    const a = await w.call('export', { source: s.id, view: '', format: 'a:nbdinfo', release: 0 });
    expect(a.text).toContain('131072');
  });

  it('a diff reading a source that a newer open replaced is refused', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: thread() });
    await w.call('open', { slot: 'main', from: thread() });
    const e = await w.call('diff', sides(info.id)).catch((x) => x);
    expect(String(e)).toContain(`source ${info.id} is not open`);
  });

  it('image B opens in its own slot and a side reads it: the overlap is compared, the tail is B alone', async () => {
    const w = workerHarness();
    const page = (
      await w.call('open', {
        slot: 'main',
        from: {
          kind: 'files',
          files: [fixtureFile('copy-early', 'vm.qcow2'), fixtureFile('copy-early', 'base.raw')],
        },
      })
    ).info;
    const bId = w.nextId();
    const b = (
      await w.call('open', {
        slot: 'b',
        from: {
          kind: 'files',
          files: [fixtureFile('copy-later', 'base.raw'), fixtureFile('copy-later', 'vm-later.qcow2')],
        },
      })
    ).info;
    expect(b.id).toBe(bId);
    expect(b.layers.map((l) => l.name)).toEqual(['vm-later.qcow2', 'base.raw']);
    expect(b.length).toBe(12 * K);
    expect(b.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(w.out.some((m) => m.type === 'progress' && m.id === bId)).toBe(true);

    const s = await w.call('diff', {
      a: { source: page.id, interp: NBD60, view: '' },
      b: { source: b.id, interp: NBD60, view: '' },
    });
    expect([s.a.file, s.b.file, s.b.source, s.a.source]).toEqual([
      'vm.qcow2',
      'vm-later.qcow2',
      b.id,
      page.id,
    ]);
    expect([s.lengthA, s.lengthB, s.overlap]).toEqual([8 * K, 12 * K, 8 * K]);
    // As `clusterscope diff --a=nbd-base-allocation-6.0 copy-early/vm.qcow2 copy-later/vm-later.qcow2`.
    expect(s.kinds.map((k) => [k.id, k.bytes])).toEqual([
      ['a0-b3', 2 * K],
      ['b-only', 4 * K],
    ]);
    expect([s.bytesDiffering, s.bytesAgreeing]).toEqual([6 * K, 6 * K]);
    expect(s.sizeNote).toMatch(/^Virtual sizes differ/);

    // A newer image B replaces the first, and the diff reading it closes with it.
    const b2 = (
      await w.call('open', {
        slot: 'b',
        from: { kind: 'files', files: [fixtureFile('copy-early', 'vm.qcow2')] },
      })
    ).info;
    expect(b2.missingBacking).toEqual({ name: 'base.raw', from: 'vm.qcow2' });
    const gone = await w.call('bins', { source: s.id, view: '', start: 0, end: K, n: 1 }).catch((x) => x);
    expect(String(gone)).toContain(`source ${s.id} is not open`);
    const stale = await w
      .call('diff', {
        a: { source: page.id, interp: NBD60, view: '' },
        b: { source: b.id, interp: NBD60, view: '' },
      })
      .catch((x) => x);
    expect(String(stale)).toContain(`source ${b.id} is not open`);
  });

  it('an image B QEMU refuses is refused with its error, as a drop is', async () => {
    const w = workerHarness();
    const e = await w
      .call('open', { slot: 'b', from: { kind: 'files', files: [fixtureFile('version-1', 'top.qcow2')] } })
      .catch((x) => x);
    const r = e.reply;
    expect(r?.type === 'error' && [r.files?.[0]?.file, r.error.kind]).toEqual(['top.qcow2', 'format']);
  });
});

describe('a diff shared in a link map', () => {
  /** Everything the diff view shows of one diff: summary numbers, bins, lanes and rows over the image. */
  async function seen(w: ReturnType<typeof workerHarness>, source: number) {
    const s = await w.call('diff', sides(source));
    const q = { source: s.id, view: '', start: 0, end: 4 * K };
    const bins = await w.call('bins', { ...q, n: 8 });
    const lanes = await w.call('lanes', { ...q, px: 8 });
    const rows = await w.call('rows', { source: s.id, view: '', count: 10 });
    return {
      s,
      seen: {
        kinds: s.kinds.map((k) => [k.id, k.label, k.bytes, k.extents]),
        totals: [s.bytesDiffering, s.bytesAgreeing, s.overlap, s.clusterSize],
        extents: [...rows.start].map((x, i) => [x, rows.length[i], rows.klass[i]]),
        legends: [s.a.legend, s.b.legend, s.a.title, s.b.title],
        bins: [...bins.fractions],
        lanes: [...lanes.fractions],
      },
    };
  }

  it('the recipient without the image sees the same diff as the sender: kinds, bytes, bins, lanes', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: thread() });
    const sender = await seen(w, info.id);
    expect(sender.seen.kinds).toEqual([['a2-b3', 'A zero / B hole,zero', K, 1]]);

    const shared = await w.call('share', { source: sender.s.id });
    const plain = await w.call('share', { source: info.id });
    expect(shared.payload).not.toBe(plain.payload);

    const map = (
      await w.call('open', {
        slot: 'main',
        from: { kind: 'maps', maps: [{ kind: 'link', payload: shared.payload }], files: ['top.qcow2'] },
      })
    ).info;
    expect(map.mapOnly?.sources.map((x) => x.interpretation)).toEqual(
      expect.arrayContaining([
        'nbd-base-allocation-5.2@backing-null',
        'nbd-base-allocation-6.0@backing-null',
      ]),
    );
    const recipient = await seen(w, map.id);
    expect(recipient.seen).toEqual(sender.seen);

    const rows = await w.call('rows', { source: recipient.s.id, view: '', count: 1 });
    expect(rows.cells[0]![4]).toMatch(
      /^cluster 2 .*A .* reports zero; B .* reports hole,zero\. From the shared map/,
    );
    const csv = await w.call('export', { source: recipient.s.id, view: '', format: 'diff-csv', release: 0 });
    expect(csv.text).toContain('a2-b3');
  });

  it('a comparison the map does not carry is refused in words, and a plain map link has no diff', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: thread() });
    const d = await w.call('diff', sides(info.id));
    const shared = await w.call('share', { source: d.id });
    const map = (
      await w.call('open', {
        slot: 'main',
        from: { kind: 'maps', maps: [{ kind: 'link', payload: shared.payload }], files: [] },
      })
    ).info;
    const other = await w
      .call('diff', { a: { source: map.id, interp: 'qemu-img-map-7.2', view: '' }, b: sides(map.id).b })
      .catch((x) => x);
    expect(String(other)).toMatch(
      /carries no extents for A = qemu-img-map-7\.2; it carries .*nbd-base-allocation-5\.2@backing-null, nbd-base-allocation-6\.0@backing-null/,
    );
    // Swapped sides are both carried: the recipient may swap A and B.
    const { a, b } = sides(map.id);
    await w.call('diff', { a: b, b: a });

    const image = (await w.call('open', { slot: 'main', from: thread() })).info;
    const plain = await w.call('share', { source: image.id });
    const plainMap = (
      await w.call('open', {
        slot: 'main',
        from: { kind: 'maps', maps: [{ kind: 'link', payload: plain.payload }], files: [] },
      })
    ).info;
    const none = await w.call('diff', sides(plainMap.id)).catch((x) => x);
    // A plain map carries each interpretation under its own view only, and says so.
    expect(String(none)).toMatch(
      /carries no extents for A = nbd-base-allocation-5\.2@backing-null; it carries qemu-img-map-8\.2, nbd-base-allocation-6\.0, nbd-base-allocation-5\.2, nbd-allocation-depth/,
    );
  });
});

describe('a diff by meaning (issue 11.1)', () => {
  const chain3 = () => ({
    kind: 'files' as const,
    files: ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixtureFile('chain-3', n)),
  });

  it('qemu-img map 7.2 and NBD base:allocation 6.0 agree everywhere; by value every byte differs', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: chain3() });
    const side = (interp: string) => ({ source: info.id, interp, view: '' });
    const byMeaning = await w.call('diff', { a: side('qemu-img-map-7.2'), b: side(NBD60) });
    expect([byMeaning.mode, byMeaning.count, byMeaning.bytesDiffering]).toEqual(['meaning', 0, 0]);
    expect(byMeaning.notes[0]).toMatch(/^Compared by meaning: .*zero.*data/);
    const byValue = await w.call('diff', { a: side('qemu-img-map-7.2'), b: side(NBD60), mode: 'values' });
    expect(byValue.mode).toBe('values');
    expect(byValue.bytesAgreeing).toBe(0);
  });

  it('qemu-img map 6.0 against 7.2: no difference, but 6.0 cannot tell an absent cluster from a zero one', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: thread() });
    const side = (interp: string) => ({ source: info.id, interp, view: 'backing-null' });
    const d = await w.call('diff', { a: side('qemu-img-map-6.0'), b: side('qemu-img-map-7.2') });
    expect(d.count).toBe(0);
    expect(d.notes.join('\n')).toMatch(
      /A \(qemu-img map \(QEMU 6\.0\)\) prints "depth 0, zero" the same for .*"depth 0, absent, zero".*cluster 3.*"depth 0, present, zero".*cluster 2.*present and local tell them apart/,
    );
  });
});
