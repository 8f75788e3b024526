import { describe, expect, it } from 'vitest';
import { fixtureFile } from '../testing/testFiles.ts';
import type { DiffSideSpec } from './diffProtocol.ts';
import { createHandler } from './handler.ts';
import { type Request, type Response, PROTOCOL_VERSION as v } from './protocol.ts';

const K = 65536;
/** The June 2021 thread's comparison: qemu-nbd 5.2 against 6.0+, the top alone. */
const A: DiffSideSpec = { interp: 'nbd-base-allocation-5.2', view: 'backing-null' };
const B: DiffSideSpec = { interp: 'nbd-base-allocation-6.0', view: 'backing-null' };

function harness() {
  const out: Response[] = [];
  const handle = createHandler((m) => out.push(m));
  const send = async <T extends Response['type']>(
    r: Request,
    type: T,
  ): Promise<Extract<Response, { type: T }>> => {
    await handle(r);
    const m = [...out].reverse().find((x) => x.id === r.id);
    if (m?.type !== type) throw new Error(JSON.stringify(m));
    return m as Extract<Response, { type: T }>;
  };
  return { send };
}

/** Everything the diff view shows of one diff: summary numbers, bins and lanes over the image. */
async function seen(send: ReturnType<typeof harness>['send'], openId: number, id: number) {
  const d = await send({ v, id, type: 'diff', openId, a: A, b: B }, 'diff');
  const s = d.summary;
  const bins = await send(
    { v, id: id + 1, type: 'diffBins', diffId: id, start: 0, end: 4 * K, bins: 8 },
    'diffBins',
  );
  const lanes = await send(
    { v, id: id + 2, type: 'diffLanes', diffId: id, start: 0, end: 4 * K, px: 8 },
    'diffLanes',
  );
  return {
    kinds: s.kinds.map((k) => [k.id, k.label, k.bytes, k.extents]),
    totals: [s.bytesDiffering, s.bytesAgreeing, s.overlap, s.clusterSize],
    extents: [...s.start].map((x, i) => [x, s.length[i], s.kind[i]]),
    legends: [s.a.legend, s.b.legend, s.a.title, s.b.title],
    bins: [...bins.fractions],
    lanes: [...lanes.values],
  };
}

describe('a diff shared in a link map', () => {
  it('the recipient without the image sees the same diff as the sender: kinds, bytes, bins, lanes', async () => {
    const { send } = harness();
    const files = [
      fixtureFile('nbd-hole-2021-thread', 'top.qcow2'),
      fixtureFile('nbd-hole-2021-thread', 'base.raw'),
    ];
    await send({ v, id: 1, type: 'open', files }, 'opened');
    const sender = await seen(send, 1, 10);
    expect(sender.kinds).toEqual([['a2-b3', 'A zero / B hole,zero', K, 1]]);

    const shared = await send({ v, id: 20, type: 'shareMap', openId: 1, diff: { a: A, b: B } }, 'shareMap');
    const plain = await send({ v, id: 21, type: 'shareMap', openId: 1 }, 'shareMap');
    expect(shared.payload).not.toBe(plain.payload);

    const opened = await send(
      {
        v,
        id: 30,
        type: 'openMap',
        sources: [{ kind: 'link', payload: shared.payload }],
        meta: { files: ['top.qcow2'] },
      },
      'opened',
    );
    expect(opened.chain.mapOnly?.sources.map((x) => x.interpretation)).toEqual(
      expect.arrayContaining([
        'nbd-base-allocation-5.2@backing-null',
        'nbd-base-allocation-6.0@backing-null',
      ]),
    );
    const recipient = await seen(send, 30, 40);
    expect(recipient).toEqual(sender);

    const why = await send({ v, id: 50, type: 'diffReasons', diffId: 40, from: 0, to: 1 }, 'diffReasons');
    expect(why.reasons[0]).toMatch(
      /^cluster 2 .*A .* reports zero; B .* reports hole,zero\. From the shared map/,
    );
    const csv = await send({ v, id: 51, type: 'diffExport', diffId: 40, format: 'diff-csv' }, 'diffExport');
    expect(csv.text).toContain('a2-b3');
  });

  it('a comparison the map does not carry is refused in words, and a plain map link has no diff', async () => {
    const { send } = harness();
    const files = [
      fixtureFile('nbd-hole-2021-thread', 'top.qcow2'),
      fixtureFile('nbd-hole-2021-thread', 'base.raw'),
    ];
    await send({ v, id: 1, type: 'open', files }, 'opened');
    const shared = await send({ v, id: 2, type: 'shareMap', openId: 1, diff: { a: A, b: B } }, 'shareMap');
    await send(
      {
        v,
        id: 3,
        type: 'openMap',
        sources: [{ kind: 'link', payload: shared.payload }],
        meta: { files: [] },
      },
      'opened',
    );
    const other = { interp: 'qemu-img-map-7.2', view: '' };
    const e = await send({ v, id: 4, type: 'diff', openId: 3, a: other, b: B }, 'error');
    expect(e.error.message).toMatch(
      /carries no extents for A = qemu-img-map-7\.2; it carries .*nbd-base-allocation-5\.2@backing-null, nbd-base-allocation-6\.0@backing-null/,
    );
    // Swapped sides are both carried: the recipient may swap A and B.
    await send({ v, id: 5, type: 'diff', openId: 3, a: B, b: A }, 'diff');

    const plain = await send({ v, id: 6, type: 'shareMap', openId: 1 }, 'shareMap');
    await send(
      { v, id: 7, type: 'openMap', sources: [{ kind: 'link', payload: plain.payload }], meta: { files: [] } },
      'opened',
    );
    const none = await send({ v, id: 8, type: 'diff', openId: 7, a: A, b: B }, 'error');
    // A plain map carries each interpretation under its own view only, and says so.
    expect(none.error.message).toMatch(
      /carries no extents for A = nbd-base-allocation-5\.2@backing-null; it carries qemu-img-map-8\.2, nbd-base-allocation-6\.0, nbd-base-allocation-5\.2, nbd-allocation-depth/,
    );
  });
});
