/** Diff exports: versioned JSON and RFC 4180 CSV, with reasons when the sides are given. */
import { describe, expect, it } from 'vitest';
import { fixtureStatus } from '../../testing/openFixture.ts';
import { catalogueEntry } from '../interpret/catalogue.ts';
import { diffInterpreted } from './diff.ts';
import { DIFF_FORMAT_VERSION, diffToJson, formatDiffCsv, formatDiffJson } from './export.ts';
import { diffSides, explainDifference } from './reason.ts';

const one = (start: number, length: number, value: number) => ({
  count: 1,
  start: Float64Array.of(start),
  length: Float64Array.of(length),
  value: Uint32Array.of(value),
  host: Float64Array.of(-1),
  layer: Uint16Array.of(0),
});

describe('diff export', () => {
  it('JSON carries format, version, both sides, kinds with byte counts and the extents', async () => {
    const st = await fixtureStatus('nbd-hole-2021-thread', 'top.qcow2', true);
    const a = { interpretation: catalogueEntry('nbd-base-allocation-5.2')!.interpretation, status: st };
    const b = { interpretation: catalogueEntry('nbd-base-allocation-6.0')!.interpretation, status: st };
    const d = diffSides(a, b);
    const info = (id: string) => ({
      interpretation: id,
      title: catalogueEntry(id)!.interpretation.title,
      view: 'backing-null',
      file: 'top.qcow2',
    });
    const json = JSON.parse(
      formatDiffJson(d, {
        a: info('nbd-base-allocation-5.2'),
        b: info('nbd-base-allocation-6.0'),
        reason: (i) => explainDifference(d, i, a, b),
      }),
    );
    expect(json).toMatchObject({
      format: 'clusterscope-diff',
      version: DIFF_FORMAT_VERSION,
      compare: 'meaning',
      a: { interpretation: 'nbd-base-allocation-5.2', view: 'backing-null' },
      lengthA: 262144,
      lengthB: 262144,
      bytesDiffering: 65536,
      bytesAgreeing: 196608,
      kinds: [
        {
          id: 'a2-b3',
          label: 'A zero / B hole,zero',
          a: 2,
          b: 3,
          facts: [{ fact: 'hole', a: 'no', b: 'yes' }],
          bytes: 65536,
          extents: 1,
        },
      ],
      facts: expect.arrayContaining([
        expect.objectContaining({ id: 'hole', bytesBoth: 262144, bytesDiffering: 65536 }),
        expect.objectContaining({ id: 'present', declaredB: false, bytesOnlyA: 262144 }),
      ]),
      indistinguishable: [expect.objectContaining({ side: 'b', label: 'hole,zero', facts: ['present'] })],
    });
    expect(JSON.parse(formatDiffJson(diffSides(a, b, 'values')))).toMatchObject({
      compare: 'values',
      facts: [],
      indistinguishable: [],
    });
    expect(json.extents).toHaveLength(1);
    expect(json.extents[0]).toMatchObject({ start: 131072, length: 65536, kind: 'a2-b3' });
    expect(json.extents[0].reason).toMatch(/^cluster 2 /);
  });

  it('CSV quotes fields with commas and quotes, CRLF line ends, and says how it compared', () => {
    const d = diffInterpreted(one(0, 512, 2), one(0, 512, 3), {
      labelA: () => 'zero',
      labelB: () => 'hole,zero',
    });
    expect(formatDiffCsv(d, { reason: () => 'says "hi", twice' })).toBe(
      'start,end,length,kind,a,b,compare,facts,reason\r\n0,512,512,a2-b3,zero,"hole,zero",values,,"says ""hi"", twice"\r\n',
    );
    const nbd52 = catalogueEntry('nbd-base-allocation-5.2')!.interpretation;
    const nbd60 = catalogueEntry('nbd-base-allocation-6.0')!.interpretation;
    const m = diffInterpreted(one(0, 512, 2), one(0, 512, 3), { meaningA: nbd52, meaningB: nbd60 });
    expect(formatDiffCsv(m)).toBe(
      'start,end,length,kind,a,b,compare,facts\r\n0,512,512,a2-b3,2,3,meaning,"hole: A no, B yes"\r\n',
    );
    expect(diffToJson(d).extents).toEqual([{ start: 0, length: 512, kind: 'a2-b3' }]);
  });
});
