import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../testing/fixtures.ts';
import { checkImage } from '../check/checkImage.ts';
import { MemorySource } from '../io/byteSource.ts';
import { openQcow2 } from '../qcow2/image.ts';
import { layerStatus } from '../status/layerStatus.ts';
import {
  HOST_DATA,
  HOST_HEADER,
  HOST_L1,
  HOST_L2,
  HOST_LEAKED,
  HOST_REFBLOCK,
  HOST_REFTABLE,
  hostMap,
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
