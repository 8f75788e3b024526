import { describe, expect, it } from 'vitest';
import { layoutGrid } from '../state/grid.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { createHandler } from './handler.ts';
import {
  BIN_ABSENT,
  BIN_DATA,
  BIN_DEPTH,
  BIN_HOLE,
  BIN_HOLE_52,
  BIN_TOP,
  BIN_ZERO,
  type Request,
  type Response,
  PROTOCOL_VERSION as v,
} from './protocol.ts';

function harness() {
  const out: Response[] = [];
  const handle = createHandler((m) => out.push(m));
  const send = async (r: Request) => {
    await handle(r);
    return out;
  };
  return { out, send };
}

const K = 65536;

describe('worker handler', () => {
  it('opens the NBD-hole example chain matched by backing name, in any drop order', async () => {
    const { send } = harness();
    const out = await send({
      v,
      id: 1,
      type: 'open',
      files: [fixtureFile('nbd-hole-example', 'base.raw'), fixtureFile('nbd-hole-example', 'top.qcow2')],
    });
    const opened = out.find((m) => m.type === 'opened');
    if (opened?.type !== 'opened') throw new Error(JSON.stringify(out));
    expect(opened.chain.layers.map((l) => l.name)).toEqual(['top.qcow2', 'base.raw']);
    expect(opened.chain.length).toBe(4 * K);
    expect(opened.chain.extents.start).toBeInstanceOf(Float64Array);
    expect(out.some((m) => m.type === 'progress')).toBe(true);
  });

  it('bins one cluster per bin: c0 data from the base, c1 data in top, c2-c3 zero in top', async () => {
    const { send } = harness();
    await send({
      v,
      id: 1,
      type: 'open',
      files: [fixtureFile('nbd-hole-example', 'top.qcow2'), fixtureFile('nbd-hole-example', 'base.raw')],
    });
    const out = await send({ v, id: 2, type: 'bins', openId: 1, start: 0, end: 4 * K, bins: 4 });
    const bins = out.at(-1);
    if (bins?.type !== 'bins') throw new Error(JSON.stringify(bins));
    const f = (b: number, c: number) => bins.fractions[b * bins.classes + c];
    expect([0, 1, 2, 3].map((b) => f(b, BIN_DATA))).toEqual([1, 1, 0, 0]);
    expect([0, 1, 2, 3].map((b) => f(b, BIN_ZERO))).toEqual([0, 0, 1, 1]);
    expect([0, 1, 2, 3].map((b) => f(b, BIN_TOP))).toEqual([0, 1, 1, 1]);
    expect([0, 1, 2, 3].map((b) => f(b, BIN_DEPTH + 2))).toEqual([1, 0, 0, 0]);
    // qemu-nbd 6.0+: zero clusters are holes; 5.2: they are allocated in the chain, so not holes.
    expect([0, 1, 2, 3].map((b) => f(b, BIN_HOLE))).toEqual([0, 0, 1, 1]);
    expect([0, 1, 2, 3].map((b) => f(b, BIN_HOLE_52))).toEqual([0, 0, 0, 0]);
    // A bin spanning two clusters shows the mix.
    const out2 = await send({ v, id: 3, type: 'bins', openId: 1, start: K, end: 3 * K, bins: 1 });
    const mix = out2.at(-1);
    if (mix?.type !== 'bins') throw new Error();
    expect(mix.fractions[BIN_DATA]).toBe(0.5);
    expect(mix.fractions[BIN_ZERO]).toBe(0.5);
  });

  it('bins the whole image for the heatmap box the open names, as a bins request would', async () => {
    const { send } = harness();
    const grid = { width: 800, maxHeight: 300 };
    const out = await send({
      v,
      id: 1,
      type: 'open',
      files: [fixtureFile('nbd-hole-example', 'top.qcow2'), fixtureFile('nbd-hole-example', 'base.raw')],
      grid,
    });
    const opened = out.find((m) => m.type === 'opened');
    if (opened?.type !== 'opened') throw new Error(JSON.stringify(out));
    const first = opened.chain.firstBins!;
    const g = layoutGrid({ ...grid, start: 0, end: 4 * K, clusterSize: K, subclusters: false });
    expect(first).toMatchObject({ start: 0, end: g.cells * g.bytesPerCell, bins: g.cells });
    const asked = (
      await send({ v, id: 2, type: 'bins', openId: 1, start: first.start, end: first.end, bins: first.bins })
    ).at(-1);
    if (asked?.type !== 'bins') throw new Error(JSON.stringify(asked));
    expect([...first.fractions]).toEqual([...asked.fractions]);
    expect(first.classes).toBe(asked.classes);
    // Without a box, no bins ride along.
    const plain = (
      await send({ v, id: 3, type: 'open', files: [fixtureFile('nbd-hole-example', 'top.qcow2')] })
    ).find((m) => m.type === 'opened' && m.id === 3);
    if (plain?.type !== 'opened') throw new Error();
    expect(plain.chain.firstBins).toBeUndefined();
  });

  it('exports the whole map as qemu-img map JSON and nbdinfo --map text, as QEMU printed them', async () => {
    const { send } = harness();
    await send({
      v,
      id: 1,
      type: 'open',
      files: [fixtureFile('nbd-hole-example', 'top.qcow2'), fixtureFile('nbd-hole-example', 'base.raw')],
    });
    const json = (
      await send({ v, id: 2, type: 'export', openId: 1, format: 'qemu-img-map-json', release: 7002 })
    ).at(-1);
    if (json?.type !== 'export') throw new Error(JSON.stringify(json));
    expect(json.text).toContain(
      '{ "start": 0, "length": 65536, "depth": 1, "present": true, "zero": false, "data": true',
    );
    expect(json.text).toContain(
      '{ "start": 131072, "length": 131072, "depth": 0, "present": true, "zero": true',
    );
    const nbd = (
      await send({ v, id: 3, type: 'export', openId: 1, format: 'nbdinfo-map', release: 10002 })
    ).at(-1);
    if (nbd?.type !== 'export') throw new Error();
    expect(nbd.text).toBe('         0      131072    0  data\n    131072      131072    3  hole,zero\n');
  });

  it('reduces each lane to one category per pixel: layers, qemu-img map, NBD, depth', async () => {
    const { send } = harness();
    await send({
      v,
      id: 1,
      type: 'open',
      files: [fixtureFile('nbd-hole-example', 'top.qcow2'), fixtureFile('nbd-hole-example', 'base.raw')],
    });
    const t = (await send({ v, id: 2, type: 'tracks', openId: 1, start: 0, end: 4 * K, px: 4 })).at(-1);
    if (t?.type !== 'tracks') throw new Error(JSON.stringify(t));
    expect(t.lanes).toBe(5);
    const lane = (i: number) => [...t.values.subarray(i * 4, i * 4 + 4)];
    expect(lane(0)).toEqual([0, 1, 2, 2]); // top.qcow2: unallocated, data, zero, zero
    expect(lane(1)).toEqual([1, 1, 1, 1]); // base.raw: data
    expect(lane(2)).toEqual([1, 1, 2, 2]); // qemu-img map
    expect(lane(3)).toEqual([1, 1, 5, 5]); // base:allocation: data, data, hole,zero, hole,zero
    expect(lane(4)).toEqual([10, 9, 9, 9]); // depth 2, then local
  });

  it('matches an external data file by name and does not list it as unused', async () => {
    const { send } = harness();
    const out = await send({
      v,
      id: 1,
      type: 'open',
      files: [fixtureFile('datafile', 'data.raw'), fixtureFile('datafile', 'top.qcow2')],
    });
    const opened = out.find((m) => m.type === 'opened');
    if (opened?.type !== 'opened') throw new Error(JSON.stringify(out.at(-1)));
    expect(opened.chain.layers.map((l) => l.name)).toEqual(['top.qcow2']);
    expect(opened.chain.unused).toEqual([]);
  });

  it('names a missing backing file and still maps the top as with backing: null', async () => {
    const { send } = harness();
    const out = await send({ v, id: 1, type: 'open', files: [fixtureFile('nbd-hole-example', 'top.qcow2')] });
    const opened = out.find((m) => m.type === 'opened');
    if (opened?.type !== 'opened') throw new Error(JSON.stringify(out));
    expect(opened.chain.missingBacking).toEqual({ name: 'base.raw', from: 'top.qcow2' });
    expect(opened.chain.layers).toHaveLength(1);
    const bins = (await send({ v, id: 2, type: 'bins', openId: 1, start: 0, end: K, bins: 1 })).at(-1);
    if (bins?.type !== 'bins') throw new Error();
    expect(bins.fractions[BIN_ABSENT]).toBe(1);
  });

  it('opens a 3-file chain dropped at once and keeps the layers above a missing base', async () => {
    const { send } = harness();
    const files = ['top.qcow2', 'base.qcow2', 'mid.qcow2'].map((n) => fixtureFile('chain-3', n));
    const out = await send({ v, id: 1, type: 'open', files });
    const opened = out.find((m) => m.type === 'opened');
    if (opened?.type !== 'opened') throw new Error(JSON.stringify(out));
    expect(opened.chain.layers.map((l) => l.name)).toEqual(['top.qcow2', 'mid.qcow2', 'base.qcow2']);
    const partial = await send({ v, id: 2, type: 'open', files: [files[0]!, files[2]!] });
    const p = partial.find((m) => m.type === 'opened' && m.id === 2);
    if (p?.type !== 'opened') throw new Error();
    expect(p.chain.layers.map((l) => l.name)).toEqual(['top.qcow2', 'mid.qcow2']);
    expect(p.chain.missingBacking).toEqual({ name: 'base.qcow2', from: 'mid.qcow2' });
  });

  it('hit-tests an offset: L2 entries top down to the owning layer and every interpretation', async () => {
    const { send } = harness();
    await send({
      v,
      id: 1,
      type: 'open',
      files: [fixtureFile('nbd-hole-example', 'top.qcow2'), fixtureFile('nbd-hole-example', 'base.raw')],
    });
    const out = await send({ v, id: 2, type: 'hit', openId: 1, offset: 2 * K + 5 });
    const hit = out.at(-1);
    if (hit?.type !== 'hit' || !hit.detail) throw new Error(JSON.stringify(hit));
    const d = hit.detail;
    expect(d.clusterIndex).toBe(2);
    expect(d.kind).toBe('ZERO_PLAIN');
    expect(d.entries[0]).toMatchObject({ l1Index: 0, l2Index: 2, type: 'zero', raw: '0x0000000000000001' });
    expect(d.values.map((x) => x.label)).toEqual(['depth 0, present, zero', 'hole,zero', 'zero', 'local']);
    expect(d.values[1]!.explain).toMatch(/HOLE.*DATA/);
    const c1 = (await send({ v, id: 3, type: 'hit', openId: 1, offset: K })).at(-1);
    if (c1?.type !== 'hit' || !c1.detail) throw new Error();
    expect(c1.detail.entries[0]!.refcount).toBe(1);
  });

  it('reports a file that is not an image of a known format as a typed error', async () => {
    const { send } = harness();
    const bytes = new Uint8Array(512);
    bytes.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]); // qcow2 magic, version 9
    const out = await send({ v, id: 1, type: 'open', files: [new File([bytes], 'bad.qcow2')] });
    const err = out.at(-1);
    if (err?.type !== 'error') throw new Error(JSON.stringify(err));
    expect(err.error.file).toBe('bad.qcow2');
    expect(err.error.structure).toMatch(/header|version/);
  });

  it('a newer open supersedes the one in flight', async () => {
    const { out, send } = harness();
    const a = send({ v, id: 1, type: 'open', files: [fixtureFile('chain-3', 'top.qcow2')] });
    const b = send({ v, id: 2, type: 'open', files: [fixtureFile('extl2', 'top.qcow2')] });
    await Promise.all([a, b]);
    expect(out.some((m) => m.id === 1 && m.type === 'cancelled')).toBe(true);
    expect(out.some((m) => m.id === 1 && m.type === 'opened')).toBe(false);
    expect(out.some((m) => m.id === 2 && m.type === 'opened')).toBe(true);
    const stale = (await send({ v, id: 3, type: 'bins', openId: 1, start: 0, end: 1, bins: 1 })).at(-1);
    expect(stale?.type).toBe('error');
  });
});
