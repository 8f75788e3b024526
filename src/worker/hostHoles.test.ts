/**
 * Host holes through the worker (issue 11.3): where QEMU on the original, sparse host could say
 * otherwise, the hit marks the bytes; the content scan is a view, built with progress and
 * cancel, whose exports equal QEMU run on files whose holes are exactly their zero blocks.
 */
import { describe, expect, it } from 'vitest';
import { QEMU_7_2 } from '../core/interpret/releases.ts';
import { golden, parseNbdinfo } from '../testing/fixtures.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { CallFailed, workerHarness } from '../testing/workerHarness.ts';

const K = 65536;
const open = async (w: ReturnType<typeof workerHarness>, dir: string, names: string[]) => {
  const id = w.nextId();
  await w.call('open', {
    slot: 'main',
    from: { kind: 'files', files: names.map((n) => fixtureFile(dir, n)) },
  });
  return id;
};

describe('host holes in the worker', () => {
  it('the thread example: the raw base may have holes; its clusters are marked, the scan planned', async () => {
    const w = workerHarness();
    const src = await open(w, 'host-hole-raw-base', ['top.qcow2', 'base.raw']);
    const h = await w.call('hostHoles', { source: src, view: '' });
    // The top's data cluster (c1) could sit on a hole too, but the top does not look
    // preallocated, so QEMU's heuristic would not look; the raw base's c0 and c3 likely do.
    expect(h.exposures.map((x) => [x.rule, x.layerName, x.bytes, x.likely])).toEqual([
      ['qcow2-data', 'top.qcow2', K, false],
      ['raw-hole', 'base.raw', 2 * K, true],
    ]);
    expect(h.bytes).toBe(3 * K);
    // Neighbouring ranges are read in one batch (SCAN_COALESCE_GAP): base.raw's 4 clusters, and
    // the top's data cluster.
    expect(h.scan.bytes).toBe(5 * K);
    expect(h.summary).toMatch(/likely answers differently/);
    const hit = await w.call('hit', { source: src, view: '', offset: 3 * K });
    expect(hit?.hostHole).toMatchObject({ rule: 'raw-hole', likely: true });
    expect(hit?.hostHole?.qemuWould).toContain('"zero": true, "data": false');
    // The top's data cluster only may (QEMU's heuristic would not look): not marked.
    expect((await w.call('hit', { source: src, view: '', offset: K }))?.hostHole).toBeUndefined();
    // Cluster 2 is a zero cluster of the top: no host bytes, nothing to guess.
    expect((await w.call('hit', { source: src, view: '', offset: 2 * K }))?.hostHole).toBeUndefined();
  });

  it('the content scan is a view: progress while it reads, then QEMU on the sparse files', async () => {
    const w = workerHarness();
    const src = await open(w, 'host-hole-raw-base', ['top.qcow2', 'base.raw']);
    const id = w.nextId();
    const v = await w.call('view', { source: src, view: 'zero-scan' }, 'scan');
    expect(v.scan?.bytesRead).toBe(5 * K);
    const progress = w.out.filter((m) => m.id === id && m.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ phase: 'content scan', done: 5 * K, total: 5 * K });
    const map = await w.call('export', {
      source: src,
      view: 'zero-scan',
      format: 'qemu-img-map-json',
      release: QEMU_7_2,
    });
    expect(JSON.parse(map.text)).toEqual(JSON.parse(golden('host-hole-raw-base', 'map.sparse.json')!));
    const nbd = await w.call('export', {
      source: src,
      view: 'zero-scan',
      format: 'nbdinfo-map',
      release: QEMU_7_2,
    });
    expect(parseNbdinfo(nbd.text)).toEqual(
      parseNbdinfo(golden('host-hole-raw-base', 'nbd-base.sparse.txt')!),
    );
    // Scanned, nothing is left to guess.
    expect((await w.call('hostHoles', { source: src, view: 'zero-scan' })).exposures).toEqual([]);
    expect(
      (await w.call('hit', { source: src, view: 'zero-scan', offset: 3 * K }))?.hostHole,
    ).toBeUndefined();
  });

  it('a preallocated image: data clusters likely read as zero on the host; the scan equals QEMU there', async () => {
    const w = workerHarness();
    const src = await open(w, 'prealloc-metadata', ['top.qcow2']);
    const h = await w.call('hostHoles', { source: src, view: '' });
    expect(h.exposures.some((x) => x.rule === 'qcow2-data' && x.likely)).toBe(true);
    await w.call('view', { source: src, view: 'zero-scan' }, 'scan');
    const map = await w.call('export', {
      source: src,
      view: 'zero-scan',
      format: 'qemu-img-map-json',
      release: QEMU_7_2,
    });
    expect(JSON.parse(map.text)).toEqual(JSON.parse(golden('prealloc-metadata', 'map.sparse.json')!));
  });

  it('a scan superseded on its channel is cancelled, and not kept: asked again, it scans again', async () => {
    const w = workerHarness();
    const src = await open(w, 'host-hole-raw-base', ['top.qcow2', 'base.raw']);
    const first = w.call('view', { source: src, view: 'zero-scan' }, 'scan');
    await w.call('cancel', { channel: 'scan' });
    await expect(first).rejects.toBeInstanceOf(CallFailed);
    const v = await w.call('view', { source: src, view: 'zero-scan' }, 'scan');
    expect(v.scan?.bytesRead).toBe(5 * K);
  });
});
