import { describe, expect, it } from 'vitest';
import {
  C_ABSENT,
  C_COMPRESSED,
  C_DATA,
  C_DEPTH,
  C_HOLE,
  C_HOLE_52,
  C_TOP,
  C_ZERO,
} from '../core/raster/classes.ts';
import { layoutGrid } from '../core/raster/grid.ts';
import type { Lanes } from '../protocol/results.ts';
import { golden } from '../testing/fixtures.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { CallFailed, workerHarness } from '../testing/workerHarness.ts';
import { PARTIAL_INTERVAL_MS } from './open.ts';

const K = 65536;
const example = () => [
  fixtureFile('nbd-hole-example', 'top.qcow2'),
  fixtureFile('nbd-hole-example', 'base.raw'),
];
const files = (list: File[]) => ({ kind: 'files' as const, files: list });

/** The class of lane `l`'s pixel `p` holding all its bytes (one class per pixel here), or -1. */
function laneClass(t: Lanes, l: number, p: number): number {
  const base = (l * t.px + p) * t.classes;
  for (let c = 0; c < t.classes; c++) if (t.fractions[base + c] === 1) return c;
  return -1;
}

describe('worker handler', () => {
  it('opens the NBD-hole example chain matched by backing name, in any drop order', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: files(example().reverse()) });
    expect(info.layers.map((l) => l.name)).toEqual(['top.qcow2', 'base.raw']);
    expect(info.length).toBe(4 * K);
    expect(info.complete).toBe(true);
    expect(info.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    // The page gets what it shows, never the extents themselves.
    expect(JSON.stringify(info)).not.toContain('extents');
    expect(w.out.some((m) => m.type === 'progress')).toBe(true);
  });

  it('bins one cluster per bin: c0 data from the base, c1 data in top, c2-c3 zero in top', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: files(example()) });
    const bins = await w.call('bins', { source: info.id, view: '', start: 0, end: 4 * K, n: 4 });
    const f = (b: number, c: number) => bins.fractions[b * bins.classes + c];
    expect(bins.classes).toBe(info.classes.length);
    expect([0, 1, 2, 3].map((b) => f(b, C_DATA))).toEqual([1, 1, 0, 0]);
    expect([0, 1, 2, 3].map((b) => f(b, C_ZERO))).toEqual([0, 0, 1, 1]);
    expect([0, 1, 2, 3].map((b) => f(b, C_TOP))).toEqual([0, 1, 1, 1]);
    expect([0, 1, 2, 3].map((b) => f(b, C_DEPTH + 2))).toEqual([1, 0, 0, 0]);
    // qemu-nbd 6.0+: zero clusters are holes; 5.2: they are allocated in the chain, so not holes.
    expect([0, 1, 2, 3].map((b) => f(b, C_HOLE))).toEqual([0, 0, 1, 1]);
    expect([0, 1, 2, 3].map((b) => f(b, C_HOLE_52))).toEqual([0, 0, 0, 0]);
    // A bin spanning two clusters shows the mix.
    const mix = await w.call('bins', { source: info.id, view: '', start: K, end: 3 * K, n: 1 });
    expect(mix.fractions[C_DATA]).toBe(0.5);
    expect(mix.fractions[C_ZERO]).toBe(0.5);
  });

  it('bins the whole image for the heatmap box the open names, as a bins request would', async () => {
    const w = workerHarness();
    const grid = { width: 800, maxHeight: 300 };
    const { info, firstBins } = await w.call('open', { slot: 'main', from: files(example()), grid });
    const first = firstBins!;
    const g = layoutGrid({ ...grid, start: 0, end: 4 * K, clusterSize: K, subclusters: false });
    expect(first).toMatchObject({ start: 0, end: g.cells * g.bytesPerCell, n: g.cells });
    const asked = await w.call('bins', {
      source: info.id,
      view: '',
      start: first.start,
      end: first.end,
      n: first.n,
    });
    expect([...first.fractions]).toEqual([...asked.fractions]);
    expect(first.classes).toBe(asked.classes);
    // Without a box, no bins ride along.
    const plain = await w.call('open', {
      slot: 'main',
      from: files([fixtureFile('nbd-hole-example', 'top.qcow2')]),
    });
    expect(plain.firstBins).toBeUndefined();
  });

  it('exports the whole map as qemu-img map JSON and nbdinfo --map text, as QEMU printed them', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: files(example()) });
    const json = await w.call('export', {
      source: info.id,
      view: '',
      format: 'qemu-img-map-json',
      release: 7002,
    });
    expect(json.text).toContain(
      '{ "start": 0, "length": 65536, "depth": 1, "present": true, "zero": false, "data": true',
    );
    expect(json.text).toContain(
      '{ "start": 131072, "length": 131072, "depth": 0, "present": true, "zero": true',
    );
    const nbd = await w.call('export', { source: info.id, view: '', format: 'nbdinfo-map', release: 10002 });
    expect(nbd.text).toBe('         0      131072    0  data\n    131072      131072    3  hole,zero\n');
  });

  it('lanes: a pixel holds the share of each class in its bytes; layers, qemu-img map, NBD, depth', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: files(example()) });
    expect(info.lanes.map((l) => l.name)).toEqual([
      'top.qcow2',
      'base.raw',
      'qemu-img map',
      'NBD base:allocation',
      'allocation depth',
    ]);
    const t = await w.call('lanes', { source: info.id, view: '', start: 0, end: 4 * K, px: 4 });
    expect(t.lanes).toBe(5);
    const lane = (l: number) => [0, 1, 2, 3].map((p) => laneClass(t, l, p));
    expect(lane(0)).toEqual([C_ABSENT, C_DATA, C_ZERO, C_ZERO]); // top.qcow2: unallocated, data, zero, zero
    expect(lane(1)).toEqual([C_DATA, C_DATA, C_DATA, C_DATA]); // base.raw: data
    expect(lane(2)).toEqual([C_DATA, C_DATA, C_ZERO, C_ZERO]); // qemu-img map
    expect(lane(3)).toEqual([C_DATA, C_DATA, C_HOLE, C_HOLE]); // base:allocation: data, data, hole,zero x2
    expect(lane(4)).toEqual([C_DEPTH + 2, C_DEPTH + 1, C_DEPTH + 1, C_DEPTH + 1]); // depth 2, then local
    // One pixel over the whole image: the share of each class, not the majority's alone.
    const one = await w.call('lanes', { source: info.id, view: '', start: 0, end: 4 * K, px: 1 });
    expect([one.fractions[C_DATA], one.fractions[C_ZERO], one.fractions[C_ABSENT]]).toEqual([
      0.25, 0.5, 0.25,
    ]);
    expect(one.fractions[C_COMPRESSED]).toBe(0);
  });

  it('an unrelated image dropped first with a chain: the longest chain is shown, the other named with why', async () => {
    const w = workerHarness();
    const other = new File([await fixtureFile('compressed-zlib', 'top.qcow2').arrayBuffer()], 'other.qcow2');
    const { info } = await w.call('open', {
      slot: 'main',
      from: files([other, ...['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixtureFile('chain-3', n))]),
    });
    expect(info.layers.map((l) => l.name)).toEqual(['top.qcow2', 'mid.qcow2', 'base.qcow2']);
    expect(info.unused).toEqual([
      {
        name: 'other.qcow2',
        why: 'not in the chain of top.qcow2 (an image of its own; the longest chain dropped is shown: drop it alone to see it)',
      },
    ]);
  });

  it('a file without the qcow2 magic is read as raw, and the page says so and why', async () => {
    const w = workerHarness();
    const text = new File(['Offset  Length\n'.repeat(64)], 'disk.qcow2');
    const { info } = await w.call('open', { slot: 'main', from: files([text]) });
    expect(info.layers[0]!.format).toBe('raw');
    expect(info.probedRaw).toBe(
      'disk.qcow2 is read as a raw disk image: it starts with 4f 66 66 73, not the qcow2 magic 51 46 49 fb ("QFI\\xfb"), so probing takes it for raw, as qemu-img does without -f; with -f qcow2 (as qemu-img -f qcow2) it is refused: Image is not in qcow2 format',
    );
    const good = await w.call('open', { slot: 'main', from: files(example()) });
    expect(good.info.probedRaw).toBeUndefined();
  });

  it('a second file of a name already dropped is left out, and said', async () => {
    const w = workerHarness();
    const again = new File([await fixtureFile('compressed-zlib', 'top.qcow2').arrayBuffer()], 'top.qcow2');
    const { info } = await w.call('open', { slot: 'main', from: files([...example(), again]) });
    expect(info.layers.map((l) => l.name)).toEqual(['top.qcow2', 'base.raw']);
    expect(info.unused.map((u) => u.name)).toEqual(['top.qcow2']);
    expect(info.unused[0]!.why).toMatch(/^a second file named top\.qcow2: a browser gives file names only/);
  });

  it('matches an external data file by name and does not list it as unused', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', {
      slot: 'main',
      from: files([fixtureFile('datafile', 'data.raw'), fixtureFile('datafile', 'top.qcow2')]),
    });
    expect(info.layers.map((l) => l.name)).toEqual(['top.qcow2']);
    expect(info.layers[0]!.dataFile).toBe('data.raw');
    expect(info.unused).toEqual([]);
    // Two host files, each with its own layout: the qcow2 file holds metadata only.
    const maps = await w.call('hostmap', { source: info.id, px: 64 });
    expect(maps.map((m) => m.file)).toEqual(['top.qcow2', 'data.raw']);
    const count = (m: (typeof maps)[number], key: string) => m.counts[m.classes.indexOf(key)];
    expect(count(maps[0]!, 'host-data')).toBe(0);
    expect(count(maps[0]!, 'host-l2')).toBe(1);
    // data.raw: the clusters qemu-img map gives offsets for (fixtures/golden/datafile/map.json).
    const qemu = JSON.parse(golden('datafile', 'map.json')!) as { length: number; offset?: number }[];
    const withOffset = qemu.filter((e) => e.offset !== undefined).reduce((n, e) => n + e.length / K, 0);
    expect(count(maps[1]!, 'host-data')).toBe(withOffset);
    // The inspector says which file a host offset is in.
    const hit = (await w.call('hit', { source: info.id, view: '', offset: 0 }))!;
    expect([hit.hostOffset, hit.hostFile]).toEqual([0, 'data.raw']);
  });

  it('names a missing backing file and still maps the top as with backing: null', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', {
      slot: 'main',
      from: files([fixtureFile('nbd-hole-example', 'top.qcow2')]),
    });
    expect(info.missingBacking).toEqual({ name: 'base.raw', from: 'top.qcow2' });
    expect(info.layers).toHaveLength(1);
    const bins = await w.call('bins', { source: info.id, view: '', start: 0, end: K, n: 1 });
    expect(bins.fractions[C_ABSENT]).toBe(1);
  });

  it('opens a 3-file chain dropped at once and keeps the layers above a missing base', async () => {
    const w = workerHarness();
    const list = ['top.qcow2', 'base.qcow2', 'mid.qcow2'].map((n) => fixtureFile('chain-3', n));
    const { info } = await w.call('open', { slot: 'main', from: files(list) });
    expect(info.layers.map((l) => l.name)).toEqual(['top.qcow2', 'mid.qcow2', 'base.qcow2']);
    const cut = (await w.call('open', { slot: 'main', from: files([list[0]!, list[2]!]) })).info;
    expect(cut.layers.map((l) => l.name)).toEqual(['top.qcow2', 'mid.qcow2']);
    expect(cut.missingBacking).toEqual({ name: 'base.qcow2', from: 'mid.qcow2' });
  });

  it('hit-tests an offset: L2 entries top down to the owning layer and every interpretation', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: files(example()) });
    const d = (await w.call('hit', { source: info.id, view: '', offset: 2 * K + 5 }))!;
    expect(d.clusterIndex).toBe(2);
    expect(d.owner?.kind).toBe('ZERO_PLAIN');
    expect(d.entries[0]).toMatchObject({ l1Index: 0, l2Index: 2, type: 'zero', raw: '0x0000000000000001' });
    expect(d.values.map((x) => x.label)).toEqual(['depth 0, present, zero', 'hole,zero', 'zero', 'local']);
    expect(d.values[1]!.explain).toMatch(/HOLE.*DATA/);
    const c1 = (await w.call('hit', { source: info.id, view: '', offset: K }))!;
    expect(c1.entries[0]!.refcount).toBe(1);
    expect(await w.call('hit', { source: info.id, view: '', offset: 4 * K })).toBeNull();
  });

  it('rows: qemu-img map rows of a range, clipped to it, a page at a time', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: files(example()) });
    const all = await w.call('rows', { source: info.id, view: '', count: 10 });
    expect(all.total).toBe(3);
    expect(all.columns).toEqual(['start', 'length', 'depth', 'present', 'zero', 'data', 'offset']);
    expect(all.cells.map((c) => c.slice(0, 6))).toEqual([
      ['0x0', '64 KiB', '1', 'yes', 'no', 'yes'],
      ['0x10000', '64 KiB', '0', 'yes', 'no', 'yes'],
      ['0x20000', '128 KiB', '0', 'yes', 'yes', 'no'],
    ]);
    const clipped = await w.call('rows', {
      source: info.id,
      view: '',
      range: { start: K + K / 2, end: 3 * K },
      count: 10,
    });
    expect([...clipped.start]).toEqual([K + K / 2, 2 * K]);
    expect([...clipped.length]).toEqual([K / 2, K]);
    const page = await w.call('rows', { source: info.id, view: '', at: 2 * K + 1, count: 1 });
    expect([page.from, page.total, page.start[0]]).toEqual([2, 3, 2 * K]);
  });

  it('reports a file that is not an image of a known format as a typed error', async () => {
    const w = workerHarness();
    const bytes = new Uint8Array(512);
    bytes.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]); // qcow2 magic, version 9
    const e = await w
      .call('open', { slot: 'main', from: files([new File([bytes], 'bad.qcow2')]) })
      .catch((x) => x);
    expect(e).toBeInstanceOf(CallFailed);
    const r = (e as CallFailed).reply;
    if (r?.type !== 'error') throw e;
    expect(r.error.file).toBe('bad.qcow2');
    expect(r.error.structure).toMatch(/header|version/);
    expect(r.files?.map((f) => f.file)).toEqual(['bad.qcow2']);
  });

  it('a newer open on a channel supersedes the one in flight: it never delivers', async () => {
    const w = workerHarness();
    const chan = 'open:main';
    const a = w.call('open', { slot: 'main', from: files([fixtureFile('chain-3', 'top.qcow2')]) }, chan);
    const b = w.call('open', { slot: 'main', from: files([fixtureFile('extl2', 'top.qcow2')]) }, chan);
    const [ra, rb] = await Promise.allSettled([a, b]);
    expect(ra.status).toBe('rejected');
    expect(w.final(1)?.type).toBe('cancelled');
    expect(w.out.some((m) => m.id === 1 && (m.type === 'result' || m.type === 'partial'))).toBe(false);
    if (rb.status !== 'fulfilled') throw rb.reason;
    expect(rb.value.info.layers[0]!.name).toBe('top.qcow2');
    expect(rb.value.info.subclusters).toBe(true);
    // The superseded open's source was never placed: asking it is refused in words.
    const stale = await w.call('bins', { source: 1, view: '', start: 0, end: 1, n: 1 }).catch((x) => x);
    expect(String(stale)).toMatch(/source 1 is not open/);
  });

  it('a newer bins request on the same channel cancels the older one before it computes', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: files(example()) });
    const q = { source: info.id, view: '', start: 0, end: 4 * K };
    const [older, newer] = await Promise.allSettled([
      w.call('bins', { ...q, n: 4 }, 'bins:map'),
      w.call('bins', { ...q, n: 2 }, 'bins:map'),
    ]);
    expect(older.status).toBe('rejected');
    expect(newer.status === 'fulfilled' && newer.value.n).toBe(2);
    // The older one got no result at all: it stopped before computing.
    expect(w.out.filter((m) => m.type === 'result' && (m.result as { n?: number }).n === 4)).toEqual([]);
  });

  it('posts partial maps as the open goes on: at once, then at a pace, never the final part', async () => {
    const run = async (step: number) => {
      let t = 0;
      const w = workerHarness({ now: () => (t += step) });
      const { info } = await w.call('open', {
        slot: 'main',
        from: files([fixtureFile('cluster-512', 'top.qcow2')]),
      });
      const parts = w.out
        .filter((m) => m.type === 'partial')
        .map((m) => (m.type === 'partial' ? m.partial : 0));
      return { parts: parts as { info: { mappedEnd: number; complete: boolean } }[], length: info.length };
    };
    const slow = await run(0);
    expect(slow.parts).toHaveLength(1);
    expect(slow.parts[0]!.info.complete).toBe(false);
    const fast = await run(PARTIAL_INTERVAL_MS);
    expect(fast.parts.length).toBeGreaterThan(1);
    expect(fast.parts.every((p) => p.info.mappedEnd < fast.length)).toBe(true);
  });

  it('views are keys: a snapshot view maps that snapshot, the chain view is unchanged', async () => {
    const w = workerHarness();
    const { info } = await w.call('open', {
      slot: 'main',
      from: files([fixtureFile('snapshots', 'top.qcow2')]),
    });
    expect((await w.call('snapshots', { source: info.id })).map((s) => s.name)).toEqual(['s1', 's2']);
    const whole = { source: info.id, start: 0, end: info.length, n: 1 };
    const active = await w.call('bins', { ...whole, view: '' });
    const s1 = await w.call('bins', { ...whole, view: 'snapshot:s1' });
    expect(s1.fractions[C_DATA]).not.toBe(active.fractions[C_DATA]);
    expect((await w.call('bins', { ...whole, view: '' })).fractions).toEqual(active.fractions);
    const missing = await w.call('view', { source: info.id, view: 'snapshot:nope' }).catch((x) => x);
    expect(String(missing)).toMatch(/no snapshot 'nope' \(snapshots: s1, s2\)/);
  });
});
