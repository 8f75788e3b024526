import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFixtureChainWithDataFile } from '../../testing/fixtureChain.ts';
import { FIXTURES, golden } from '../../testing/fixtures.ts';
import { checkImage } from '../check/checkImage.ts';
import { MemorySource } from '../io/byteSource.ts';
import { openQcow2 } from '../qcow2/image.ts';
import { layerStatus } from '../status/layerStatus.ts';
import {
  HOST_DATA,
  HOST_FREE,
  HOST_HEADER,
  HOST_L1,
  HOST_L2,
  HOST_LEAKED,
  HOST_REFBLOCK,
  HOST_REFTABLE,
  type HostFileMap,
  hostMap,
  hostMaps,
} from './hostmap.ts';

async function mapOf(dir: string) {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'images', dir, 'top.qcow2')));
  const img = await openQcow2(new MemorySource('top.qcow2', bytes));
  const st = await layerStatus(img);
  const m = await hostMap(img, st.extents, await checkImage(img));
  const kindAt = (cluster: number) => {
    for (let i = 0; i < m.count; i++)
      if (cluster >= m.start[i]! && cluster < m.start[i]! + m.length[i]!) return m.kind[i];
    return undefined;
  };
  return { img, m, kindAt };
}

describe('host map', () => {
  it('names the metadata clusters qemu-img create lays out: header, refcount table and block, L1, L2', async () => {
    const { img, kindAt } = await mapOf('refcount-leak');
    const cs = img.header.clusterSize;
    expect(kindAt(0)).toBe(HOST_HEADER);
    expect(kindAt(img.header.refcountTableOffset / cs)).toBe(HOST_REFTABLE);
    expect(kindAt(img.header.l1TableOffset / cs)).toBe(HOST_L1);
    const kinds = new Set<number>();
    for (let c = 0; c < img.source.size / cs; c++) kinds.add(kindAt(c)!);
    expect(kinds).toContain(HOST_L2);
    expect(kinds).toContain(HOST_REFBLOCK);
    expect(kinds).toContain(HOST_DATA);
  });

  it('marks the cluster qemu-img check calls leaked', async () => {
    const { kindAt } = await mapOf('refcount-leak');
    // qemu-img check: "Leaked cluster 6 refcount=1 reference=0"
    expect(kindAt(6)).toBe(HOST_LEAKED);
  });

  it('covers every host cluster of the file exactly once', async () => {
    const { m } = await mapOf('snapshots');
    let sum = 0;
    for (let i = 0; i < m.count; i++) sum += m.length[i]!;
    expect(sum).toBe(m.clusters);
  });
});

describe('host maps of an image with an external data file (reference §2.7)', () => {
  const maps = async (name: string) => {
    const chain = await openFixtureChainWithDataFile(name);
    const img = chain.layers[0]!;
    if (img.format !== 'qcow2') throw new Error('not qcow2');
    const st = await layerStatus(img);
    const dataFile = chain.dataFiles?.get(0);
    return {
      img,
      all: await hostMaps(img, st.extents, { check: await checkImage(img), ...(dataFile && { dataFile }) }),
    };
  };
  const kindsOf = (m: HostFileMap) => {
    const out: number[] = [];
    for (let i = 0; i < m.count; i++) for (let c = 0; c < m.length[i]!; c++) out.push(m.kind[i]!);
    return out;
  };

  it.each(['datafile', 'datafile-raw'])(
    '%s: the qcow2 file holds only metadata; the data file holds the clusters qemu-img map gives offsets for',
    async (name) => {
      const { all } = await maps(name);
      expect(all.map((m) => [m.file, m.role, m.sizeKnown])).toEqual([
        ['top.qcow2', 'image', true],
        ['data.raw', 'data-file', true],
      ]);
      const [image, data] = all as [HostFileMap, HostFileMap];
      // qemu-img check: every refcounted cluster of top.qcow2 is metadata (image-end-offset 327680).
      expect(JSON.parse(golden(name, 'check.json')!)['image-end-offset']).toBe(327680);
      expect(kindsOf(image)).toEqual([HOST_HEADER, HOST_REFTABLE, HOST_REFBLOCK, HOST_L1, HOST_L2]);
      expect(image.legend.map((l) => l.label)).toEqual([
        'header',
        'L1 table',
        'L2 table',
        'refcount table',
        'refcount block',
      ]);
      // The data file's clusters in use are those qemu-img map prints an "offset" for.
      const entries = JSON.parse(golden(name, 'map.json')!) as {
        start: number;
        length: number;
        offset?: number;
      }[];
      const expected = new Array<number>(data.clusters).fill(HOST_FREE);
      for (const e of entries) {
        if (e.offset === undefined) continue;
        for (let c = e.offset / 65536; c < (e.offset + e.length) / 65536; c++) expected[c] = HOST_DATA;
      }
      expect(data.size).toBe(393216);
      expect(kindsOf(data)).toEqual(expected);
      expect(data.legend.map((l) => l.label)).toEqual(
        expected.includes(HOST_FREE) ? ['free', 'data'] : ['data'],
      );
    },
  );

  it('without the data file opened its size is inferred from the clusters in use', async () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'images', 'datafile', 'top.qcow2')));
    const img = await openQcow2(new MemorySource('top.qcow2', bytes));
    const all = await hostMaps(img, (await layerStatus(img)).extents);
    expect(all[1]).toMatchObject({ file: 'data.raw', sizeKnown: false, size: 393216 });
  });

  it('an image without a data file has one map, with its data clusters', async () => {
    const { m } = await mapOf('refcount-leak');
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'images', 'refcount-leak', 'top.qcow2')));
    const img = await openQcow2(new MemorySource('top.qcow2', bytes));
    const all = await hostMaps(img, (await layerStatus(img)).extents);
    expect(all).toHaveLength(1);
    expect(all[0]!.legend.some((l) => l.kind === HOST_DATA)).toBe(true);
    expect(m.count).toBeGreaterThan(0);
  });
});
