/**
 * The image source's bitmaps through the worker's protocol, against QEMU's answers: the list
 * and flags qemu-img info prints, one lane per bitmap equal to nbdinfo --map=qemu:dirty-bitmap,
 * the heatmap's dirty and backup shares, each bitmap's bit in a hit, a bitmap as a diff side,
 * qemu-img measure in the report, and qemu-img compare of two opened images.
 */
import { describe, expect, it } from 'vitest';
import { BACKUP_ABSENT, BACKUP_DATA, BACKUP_ZERO } from '../core/interpret/bitmap.ts';
import { dirtyBitmapId } from '../core/interpret/ids.ts';
import { C_BACKUP_DATA, C_BACKUP_ZERO, C_CLEAN, C_DIRTY } from '../core/raster/classes.ts';
import { goldenBackupRuns } from '../testing/backupGolden.ts';
import { golden, parseNbdinfo } from '../testing/fixtures.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { CallFailed, workerHarness } from '../testing/workerHarness.ts';
import { MAX_SHOWN_BITMAPS } from './bitmaps.ts';

const open = async (
  w: ReturnType<typeof workerHarness>,
  c: string,
  names: string[],
  slot: 'main' | 'b' = 'main',
) =>
  (await w.call('open', { slot, from: { kind: 'files', files: names.map((n) => fixtureFile(c, n)) } })).info;

type Runs = [number, number, number, ...unknown[]][];
const share = (runs: Runs, v: number, lo: number, hi: number) =>
  runs.reduce((a, [o, l, x]) => (x === v ? a + Math.max(0, Math.min(hi, o + l) - Math.max(lo, o)) : a), 0) /
  (hi - lo);
const valueAt = (runs: Runs, o: number) => runs.find(([s, l]) => s <= o && o < s + l)![2];

const infoBitmaps = (c: string) =>
  (JSON.parse(golden(c, 'info.json')!) as { 'format-specific': { data: { bitmaps: unknown[] } } }[])[0]![
    'format-specific'
  ].data.bitmaps as { name: string; granularity: number; flags: string[] }[];

describe('image source: persistent bitmaps', () => {
  it('lists every bitmap with the flags qemu-img info prints, one lane each, and the backup bytes', async () => {
    const w = workerHarness();
    const info = await open(w, 'bitmaps-checkpoints', ['top.qcow2']);
    const bms = info.bitmaps!;
    expect(bms.map((b) => ({ name: b.name, granularity: b.granularity, flags: b.flags }))).toEqual(
      infoBitmaps('bitmaps-checkpoints'),
    );
    expect(bms.map((b) => b.id)).toEqual(bms.map((b) => dirtyBitmapId(b.name)));
    expect(bms.map((b) => info.lanes[b.lane]!.name)).toEqual(bms.map((b) => `bitmap ${b.name}`));
    const files: Record<string, string> = { cp1: 'nbd-bitmap-cp1.txt', cp4: 'nbd-bitmap-cp4.txt' };
    for (const [name, file] of Object.entries(files)) {
      const want = goldenBackupRuns('bitmaps-checkpoints', file, info.length);
      const sum = (v: number) => want.filter((r) => r[2] === v).reduce((a, r) => a + r[1], 0);
      const b = bms.find((x) => x.name === name)!;
      expect(b.backup, name).toEqual({
        dirty: sum(BACKUP_DATA) + sum(BACKUP_ZERO) + sum(BACKUP_ABSENT),
        data: sum(BACKUP_DATA),
        zero: sum(BACKUP_ZERO),
        absent: sum(BACKUP_ABSENT),
      });
    }
  });

  it('rasters each lane as nbdinfo --map=qemu:dirty-bitmap:NAME and bins the chosen bitmap for the heatmap', async () => {
    const w = workerHarness();
    const info = await open(w, 'bitmaps-checkpoints', ['top.qcow2']);
    const px = 64;
    const t = await w.call('lanes', { source: info.id, view: '', start: 0, end: info.length, px });
    const cases: [string, string][] = [
      ['cp2', 'nbd-bitmap-cp2.txt'],
      ['cp4', 'nbd-bitmap-cp4.txt'],
      ['Daily.Backup:1', 'nbd-bitmap-.44aily.2e.42ackup.3a1.txt'],
    ];
    for (const [name, file] of cases) {
      const lane = info.bitmaps!.find((b) => b.name === name)!.lane;
      const dirty = parseNbdinfo(golden('bitmaps-checkpoints', file)!);
      for (let p = 0; p < px; p++) {
        const lo = (info.length * p) / px;
        const hi = (info.length * (p + 1)) / px;
        const base = (lane * px + p) * t.classes;
        expect(t.fractions[base + C_DIRTY], `${name} px ${p}`).toBeCloseTo(share(dirty, 1, lo, hi), 5);
        expect(t.fractions[base + C_CLEAN], `${name} px ${p}`).toBeCloseTo(share(dirty, 0, lo, hi), 5);
      }
    }
    const n = 64;
    const bins = await w.call('bins', {
      source: info.id,
      view: '',
      start: 0,
      end: info.length,
      n,
      bitmap: 'cp1',
    });
    const backup = goldenBackupRuns('bitmaps-checkpoints', 'nbd-bitmap-cp1.txt', info.length);
    for (let k = 0; k < n; k++) {
      const lo = (info.length * k) / n;
      const hi = (info.length * (k + 1)) / n;
      expect(bins.fractions[k * bins.classes + C_BACKUP_DATA]).toBeCloseTo(
        share(backup, BACKUP_DATA, lo, hi),
        5,
      );
      expect(bins.fractions[k * bins.classes + C_BACKUP_ZERO]).toBeCloseTo(
        share(backup, BACKUP_ZERO, lo, hi),
        5,
      );
    }
  });

  it("a hit gives every bitmap's bit, granule, flags and what the granule holds", async () => {
    const w = workerHarness();
    const info = await open(w, 'bitmaps-checkpoints', ['top.qcow2']);
    const dirty = (f: string) => parseNbdinfo(golden('bitmaps-checkpoints', f)!);
    for (const offset of [0, 64 * 1024 + 10, 1024 * 1024 + 1000, 3 * 1024 * 1024, 4 * 1024 * 1024 - 1]) {
      const h = (await w.call('hit', { source: info.id, view: '', offset }))!;
      const cp1 = h.bitmaps!.find((b) => b.name === 'cp1')!;
      expect(cp1.state).toBe(valueAt(dirty('nbd-bitmap-cp1.txt'), offset) ? 'dirty' : 'clean');
      expect([cp1.granuleStart, cp1.granuleEnd]).toEqual([
        offset - (offset % 65536),
        offset - (offset % 65536) + 65536,
      ]);
      expect(cp1.flags).toEqual([]);
      expect(cp1.enabled).toBe(false);
      const daily = h.bitmaps!.find((b) => b.name === 'Daily.Backup:1')!;
      expect(daily.granuleEnd - daily.granuleStart).toBe(2 * 1024 * 1024);
      const g = daily.granule;
      expect(g.data + g.zero + g.absent + g.unknown).toBe(2 * 1024 * 1024);
      // The inspector's values include qemu:dirty-bitmap:NAME as nbdinfo labels it.
      const v = h.values.find((x) => x.id === dirtyBitmapId('cp4'))!;
      expect(v.label).toBe(valueAt(dirty('nbd-bitmap-cp4.txt'), offset) ? 'dirty' : 'clean');
    }
    // The 2 MiB granule at 0 of 'Daily.Backup:1' holds data where base:allocation says data.
    const h = (await w.call('hit', { source: info.id, view: '', offset: 0 }))!;
    const base = parseNbdinfo(golden('bitmaps-checkpoints', 'nbd-base.txt')!);
    const data = base
      .filter((r) => r[2] === 0)
      .reduce((a, [o, l]) => a + Math.max(0, Math.min(2 ** 21, o + l) - o), 0);
    expect(h.bitmaps!.find((b) => b.name === 'Daily.Backup:1')!.granule.data).toBe(data);
  });

  it("an in-use bitmap keeps its lane, empty, with qemu-nbd's sentence; its bit is not read", async () => {
    const w = workerHarness();
    const info = await open(w, 'bitmaps-inuse', ['top.qcow2']);
    const en = info.bitmaps!.find((b) => b.name === 'enabled')!;
    expect(en.inconsistent).toBe(true);
    // qemu-nbd's sentence, then why.
    const qemu = golden('bitmaps-inuse', 'nbd-bitmap-enabled.txt.err')!
      .replace(/^qemu-nbd: /, '')
      .trim();
    expect(en.problem!.startsWith(qemu)).toBe(true);
    expect(info.lanes[en.lane]!.note).toBe(en.problem);
    const h = (await w.call('hit', { source: info.id, view: '', offset: 0 }))!;
    expect(h.bitmaps!.find((b) => b.name === 'enabled')!.state).toBe('inconsistent');
    expect(h.bitmaps!.find((b) => b.name === 'later')!.state).toBe('clean');
    expect(h.values.some((v) => v.id === dirtyBitmapId('enabled'))).toBe(false);
  });

  it("over a chain: the lower layer's bitmaps have lanes too; -B finds the top's of a shared name", async () => {
    const w = workerHarness();
    const info = await open(w, 'bitmaps-chain', ['top.qcow2', 'base.qcow2']);
    expect(info.bitmaps!.map((b) => [b.name, b.layerName, b.exported])).toEqual([
      ['both', 'top.qcow2', true],
      ['top-only', 'top.qcow2', true],
      ['base-only', 'base.qcow2', true],
      ['both', 'base.qcow2', false],
    ]);
    // backing: null: the base's bitmaps are not in the view (qemu-nbd: Bitmap 'base-only' is not found).
    await expect(
      w.call('diff', {
        a: { source: info.id, interp: dirtyBitmapId('base-only'), view: 'backing-null' },
        b: { source: info.id, interp: 'written-in-top', view: 'backing-null' },
      }),
    ).rejects.toThrow(CallFailed);
    expect(JSON.stringify(w.out.at(-1))).toContain("Bitmap 'base-only' is not found");
  });

  it('diffs a bitmap against written-in-top, with the reasons in words', async () => {
    const w = workerHarness();
    const info = await open(w, 'bitmaps-chain', ['top.qcow2', 'base.qcow2']);
    const d = await w.call('diff', {
      a: { source: info.id, interp: dirtyBitmapId('top-only'), view: '' },
      b: { source: info.id, interp: 'written-in-top', view: '' },
    });
    expect(d.a.title).toBe('NBD qemu:dirty-bitmap:top-only');
    expect(d.bytesDiffering).toBe(3 * 65536);
    expect(d.kinds.map((k) => k.factsLabel)).toEqual(['dirty: A yes, B no']);
    const rows = await w.call('rows', { source: d.id, view: '', count: 10 });
    expect(rows.cells[0]!.at(-1)).toMatch(/granularity 128 KiB.*reports not in top/);
  });
});

describe('image report: qemu-img measure', () => {
  it.each(['bitmaps', 'bitmaps-checkpoints', 'bitmaps-inuse', 'compressed-zlib', 'snapshots'])(
    '%s equals qemu-img measure -O qcow2 and -O raw',
    async (c) => {
      const w = workerHarness();
      const info = await open(w, c, ['top.qcow2']);
      const r = await w.call('report', { source: info.id });
      const q = JSON.parse(golden('measure', `${c}.qcow2.json`)!);
      const raw = JSON.parse(golden('measure', `${c}.raw.json`)!);
      expect(r.measure).toEqual({
        qcow2: {
          required: q.required,
          fullyAllocated: q['fully-allocated'],
          ...(q.bitmaps !== undefined && { bitmaps: q.bitmaps }),
        },
        raw: { required: raw.required, fullyAllocated: raw['fully-allocated'] },
      });
    },
  );

  it('of a chain, as qemu-img measure of its top with the backing file', async () => {
    const w = workerHarness();
    const info = await open(w, 'bitmaps-chain', ['top.qcow2', 'base.qcow2']);
    const r = await w.call('report', { source: info.id });
    const q = JSON.parse(golden('measure', 'bitmaps-chain.qcow2.json')!);
    expect(r.measure).toMatchObject({
      qcow2: { required: q.required, fullyAllocated: q['fully-allocated'] },
    });
  });
});

describe('compare: two opened images', () => {
  const pairs: [string, string][] = [
    ['a.qcow2', 'a-byte.qcow2'],
    ['a.qcow2', 'a-realloc.qcow2'],
    ['a.qcow2', 'long-data.qcow2'],
    ['long-zero.qcow2', 'a.qcow2'],
  ];
  it.each(pairs)(
    "%s / %s: qemu-img compare's words and exit status, every range, what it read as planned",
    async (x, y) => {
      const w = workerHarness();
      const a = await open(w, 'compare', [x]);
      const b = await open(w, 'compare', [y], 'b');
      const plan = await w.call('comparePlan', { a: a.id, b: b.id });
      const r = await w.call('compare', { a: a.id, b: b.id });
      expect(r.lines.map((l) => `${l}\n`).join('')).toBe(golden('compare', `${x}--${y}.txt`));
      expect(r.exit).toBe(Number(golden('compare', `${x}--${y}.txt.exit`) ?? 0));
      expect(r.bytesRead).toEqual(plan.bytes);
      if (r.exit === 1) {
        expect(r.count).toBeGreaterThan(0);
        expect(r.lines.at(-1)).toBe(`Content mismatch at offset ${r.start[0]! - (r.start[0]! % 512)}!`);
      } else expect(r.count).toBe(0);
      const progress = w.out.filter((m) => m.type === 'progress' && m.phase === 'reading guest data');
      expect(progress.at(-1)).toMatchObject({
        done: plan.bytes[0] + plan.bytes[1],
        total: plan.bytes[0] + plan.bytes[1],
      });
    },
  );

  it('a cancel on its channel stops it', async () => {
    const w = workerHarness();
    const a = await open(w, 'compare', ['a.qcow2']);
    const b = await open(w, 'compare', ['a-byte.qcow2'], 'b');
    const p = w.call('compare', { a: a.id, b: b.id }, 'compare');
    await w.handle({ v: 2, id: 999, method: 'cancel', params: { channel: 'compare' } });
    await expect(p).rejects.toThrow(CallFailed);
    expect(w.out.some((m) => m.type === 'cancelled')).toBe(true);
  });
});

describe('image source: many bitmaps', () => {
  it('lists, lanes and reads the first MAX_SHOWN_BITMAPS, counting the rest', async () => {
    const w = workerHarness();
    const n = MAX_SHOWN_BITMAPS + 3;
    const st = await w.call('sandbox', {
      ops: [
        { op: 'reset' },
        { op: 'create', name: 'many.qcow2', format: 'qcow2', size: 1024 * 1024 },
        ...Array.from({ length: n }, (_, i) => ({
          op: 'bitmap' as const,
          image: 'many.qcow2',
          name: `b${i}`,
          action: 'add' as const,
        })),
        { op: 'write', image: 'many.qcow2', offset: 0, length: 65536, pattern: 1 },
      ],
    });
    expect(st.error).toBeUndefined();
    const { info } = await w.call('open', { slot: 'main', from: { kind: 'sandbox', top: 'many.qcow2' } });
    expect(info.bitmaps).toHaveLength(MAX_SHOWN_BITMAPS);
    expect(info.bitmapsOmitted).toBe(3);
    expect(info.lanes).toHaveLength(1 + 3 + MAX_SHOWN_BITMAPS);
    expect(info.bitmaps!.every((b) => b.backup?.dirty === 65536)).toBe(true);
  });
});
