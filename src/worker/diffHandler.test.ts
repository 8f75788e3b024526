import { describe, expect, it } from 'vitest';
import { fixtureFile } from '../testing/testFiles.ts';
import type { DiffResponse } from './diffProtocol.ts';
import { LANE_AGREE } from './diffProtocol.ts';
import { createHandler } from './handler.ts';
import { type Response, PROTOCOL_VERSION as v } from './protocol.ts';

const K = 65536;
const NBD52 = 'nbd-base-allocation-5.2';
const NBD60 = 'nbd-base-allocation-6.0';

async function openThread() {
  const out: (Response | DiffResponse)[] = [];
  const handle = createHandler((m) => out.push(m));
  await handle({
    v,
    id: 1,
    type: 'open',
    files: [
      fixtureFile('nbd-hole-2021-thread', 'top.qcow2'),
      fixtureFile('nbd-hole-2021-thread', 'base.raw'),
    ],
  });
  const last = <T extends string>(type: T) => {
    const m = out.at(-1);
    if (m?.type !== type) throw new Error(JSON.stringify(m));
    return m as Extract<Response, { type: T }>;
  };
  return { handle, out, last };
}

describe('worker diff', () => {
  it('5.2 vs 6.0 at backing: null differs in exactly cluster 2 (the June 2021 thread)', async () => {
    const { handle, last } = await openThread();
    await handle({
      v,
      id: 2,
      type: 'diff',
      openId: 1,
      a: { interp: NBD52, view: 'backing-null' },
      b: { interp: NBD60, view: 'backing-null' },
    });
    const s = last('diff').summary;
    expect(s.count).toBe(1);
    expect([s.start[0], s.length[0]]).toEqual([2 * K, K]);
    expect(s.kinds.map((k) => [k.label, k.bytes])).toEqual([['A zero / B hole,zero', K]]);
    expect(s.bytesAgreeing).toBe(3 * K);
    expect(s.a.viewWords).toBe('backing: null, active L1');

    await handle({ v, id: 3, type: 'diffBins', diffId: 2, start: 0, end: 4 * K, bins: 4 });
    const b = last('diffBins');
    expect(b.classes).toBe(2);
    expect(Array.from(b.fractions)).toEqual([1, 0, 1, 0, 0, 1, 1, 0]);

    await handle({ v, id: 4, type: 'diffLanes', diffId: 2, start: 0, end: 4 * K, px: 4 });
    const l = last('diffLanes');
    // base:allocation legend: 0 data, 1 hole, 2 zero, 3 hole,zero (legend order).
    expect(Array.from(l.values.slice(8))).toEqual([LANE_AGREE, LANE_AGREE, 0, LANE_AGREE]);

    await handle({ v, id: 5, type: 'diffReasons', diffId: 2, from: 0, to: 10 });
    const r = last('diffReasons').reasons;
    expect(r).toHaveLength(1);
    expect(r[0]).toMatch(/^cluster 2 /);
    expect(r[0]).toContain('ZERO_PLAIN');

    await handle({ v, id: 6, type: 'diffExport', diffId: 2, format: 'diff-json' });
    const j = JSON.parse(last('diffExport').text);
    expect(j.extents).toEqual([expect.objectContaining({ start: 2 * K, length: K, kind: 'a2-b3' })]);

    await handle({ v, id: 7, type: 'diffExport', diffId: 2, format: 'a:nbdinfo' });
    expect(last('diffExport').text).toContain('131072');
  });

  it('a diff made for an older open is refused', async () => {
    const { handle, last } = await openThread();
    await handle({
      v,
      id: 2,
      type: 'diff',
      openId: 99,
      a: { interp: NBD52, view: '' },
      b: { interp: NBD60, view: '' },
    });
    expect(last('error').error.message).toContain('not current');
  });

  it('a second image opens under its own id and a side reads it: the overlap is compared, the tail is B alone', async () => {
    const out: (Response | DiffResponse)[] = [];
    const handle = createHandler((m) => out.push(m));
    const last = <T extends string>(type: T) => {
      const m = out.at(-1);
      if (m?.type !== type) throw new Error(JSON.stringify(m));
      return m as Extract<Response | DiffResponse, { type: T }>;
    };
    await handle({
      v,
      id: 1,
      type: 'open',
      files: [fixtureFile('copy-early', 'vm.qcow2'), fixtureFile('copy-early', 'base.raw')],
    });
    await handle({
      v,
      id: 2,
      type: 'diffOpen',
      files: [fixtureFile('copy-later', 'base.raw'), fixtureFile('copy-later', 'vm-later.qcow2')],
    });
    const info = last('diffOpen').chain;
    expect(info.files).toEqual(['vm-later.qcow2', 'base.raw']);
    expect(info.length).toBe(12 * K);
    expect(info.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(out.some((m) => m.type === 'progress' && m.id === 2)).toBe(true);

    await handle({
      v,
      id: 3,
      type: 'diff',
      openId: 1,
      a: { interp: NBD60, view: '' },
      b: { interp: NBD60, view: '', chain: 2 },
    });
    const s = last('diff').summary;
    expect([s.a.file, s.b.file, s.b.chain, s.a.chain]).toEqual(['vm.qcow2', 'vm-later.qcow2', 2, undefined]);
    expect([s.lengthA, s.lengthB, s.overlap]).toEqual([8 * K, 12 * K, 8 * K]);
    // As `clusterscope diff --a=nbd-base-allocation-6.0 copy-early/vm.qcow2 copy-later/vm-later.qcow2`.
    expect(s.kinds.map((k) => [k.id, k.bytes])).toEqual([
      ['a0-b3', 2 * K],
      ['b-only', 4 * K],
    ]);
    expect([s.bytesDiffering, s.bytesAgreeing]).toEqual([6 * K, 6 * K]);

    // A newer second image replaces the first: a diff naming the old id is refused in words.
    await handle({ v, id: 4, type: 'diffOpen', files: [fixtureFile('copy-early', 'vm.qcow2')] });
    expect(last('diffOpen').chain.missingBacking).toEqual({ name: 'base.raw', from: 'vm.qcow2' });
    await handle({
      v,
      id: 5,
      type: 'diff',
      openId: 1,
      a: { interp: NBD60, view: '' },
      b: { interp: NBD60, view: '', chain: 2 },
    });
    expect(last('error').error.message).toContain('image B (open 2) is not open any more');
  });

  it('an image QEMU refuses is refused with its error, as a drop is', async () => {
    const out: (Response | DiffResponse)[] = [];
    const handle = createHandler((m) => out.push(m));
    await handle({ v, id: 1, type: 'diffOpen', files: [fixtureFile('version-1', 'top.qcow2')] });
    const m = out.at(-1);
    expect(m?.type).toBe('error');
    expect(m?.type === 'error' && [m.files?.[0]?.file, m.error.kind]).toEqual(['top.qcow2', 'format']);
  });

  it('lists the internal snapshots of the page image and of a second image', async () => {
    const out: (Response | DiffResponse)[] = [];
    const handle = createHandler((m) => out.push(m));
    await handle({ v, id: 1, type: 'open', files: [fixtureFile('snapshots', 'top.qcow2')] });
    await handle({ v, id: 2, type: 'diffSnapshots', chain: 1 });
    const m = out.at(-1);
    expect(m?.type === 'diffSnapshots' && m.snapshots.map((x) => x.name)).toEqual(['s1', 's2']);
    await handle({ v, id: 3, type: 'diffOpen', files: [fixtureFile('copy-early', 'vm.qcow2')] });
    await handle({ v, id: 4, type: 'diffSnapshots', chain: 3 });
    const n = out.at(-1);
    expect(n?.type === 'diffSnapshots' && n.snapshots).toEqual([]);
    await handle({ v, id: 5, type: 'diffSnapshots', chain: 77 });
    expect(out.at(-1)?.type).toBe('error');
  });
});
