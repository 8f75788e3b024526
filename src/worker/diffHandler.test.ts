import { describe, expect, it } from 'vitest';
import type { DiffResponse } from './diffProtocol.ts';
import { LANE_AGREE } from './diffProtocol.ts';
import { createHandler } from './handler.ts';
import { type Response, PROTOCOL_VERSION as v } from './protocol.ts';
import { fixtureFile } from './testFiles.ts';

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
});
