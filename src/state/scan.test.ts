import { describe, expect, it } from 'vitest';
import { loopbackWorker } from '../testing/loopback.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { Client } from './client.ts';
import { openFiles } from './loader.ts';
import { cancelScan, showScanned, startScan } from './scan.ts';
import { createAppStore } from './store.ts';
import { viewKey } from './views.ts';

const K = 65536;

async function setup() {
  const client = new Client(loopbackWorker());
  const s = createAppStore();
  const id = await openFiles(
    s,
    client,
    ['top.qcow2', 'base.raw'].map((n) => fixtureFile('host-hole-raw-base', n)),
  );
  return { s, client, id: id! };
}

describe('the content scan in the page state', () => {
  it('runs with progress, then the page shows the scanned view until it is turned off', async () => {
    const { s, client, id } = await setup();
    const seen: string[] = [];
    const off = s.subscribe((x) => {
      if (x.scan?.status) seen.push(x.scan.status);
    });
    await startScan(s, client, '');
    off();
    expect(seen[0]).toBe('running');
    expect(s.getState().scan).toMatchObject({ status: 'done', shown: true, info: { bytesRead: 5 * K } });
    expect(viewKey(s.getState())).toBe('zero-scan');
    // Cluster 3 of base.raw is all zero: scanned, QEMU on the sparse file says hole,zero there.
    const hit = await client.call('hit', { source: id, view: viewKey(s.getState()), offset: 3 * K });
    expect(hit?.values.find((v) => v.id.startsWith('nbd-base-allocation'))?.label).toBe('hole,zero');
    showScanned(s, false);
    expect(viewKey(s.getState())).toBe('');
    showScanned(s, true);
    expect(viewKey(s.getState())).toBe('zero-scan');
  });

  it('cancelled, the map stays as it was; another snapshot or a new image ends a scan', async () => {
    const { s, client } = await setup();
    const run = startScan(s, client, '');
    cancelScan(s, client);
    await run;
    expect(s.getState().scan?.status).toBe('cancelled');
    expect(viewKey(s.getState())).toBe('');
    await startScan(s, client, '');
    expect(viewKey(s.getState())).toBe('zero-scan');
    s.getState().setSnapshot('s1');
    expect(s.getState().scan).toBeUndefined();
    s.getState().setSnapshot(undefined);
    await startScan(s, client, '');
    s.getState().startLoad([{ name: 'x', size: 1 }]);
    expect(s.getState().scan).toBeUndefined();
  });
});

describe('a diff with a content-scanned side', () => {
  it('says what it reads first, shows progress, and a cancel stops it until asked again', async () => {
    const { followDiff, cancelDiff } = await import('./diffFollow.ts');
    const { s, client } = await setup();
    followDiff(s, client);
    const seen: unknown[] = [];
    s.subscribe((x) => seen.push(x.diffResult));
    s.getState().setDiff({
      a: { interp: 'qemu-img-map-7.2', view: 'zero-scan' },
      b: { interp: 'qemu-img-map-7.2', view: '' },
    });
    await new Promise((r) => setTimeout(r, 50));
    const progress = seen.filter(
      (r): r is { status: 'computing'; progress: { phase: string; done: number; total: number } } =>
        (r as { progress?: unknown }).progress !== undefined,
    );
    expect(progress[0]?.progress).toEqual({ phase: 'A: content scan', done: 0, total: 5 * K });
    expect(s.getState().diffResult.status).toBe('ready');
    // Cancelled while computing: nothing is compared until it is asked again.
    s.getState().setDiff({
      a: { interp: 'qemu-img-map-7.2', view: 'backing-null,zero-scan' },
      b: { interp: 'qemu-img-map-7.2', view: '' },
    });
    cancelDiff(s, client);
    expect(s.getState().diffResult.status).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 50));
    expect(s.getState().diffResult.status).toBe('cancelled');
    s.getState().rerunDiff();
    await new Promise((r) => setTimeout(r, 50));
    expect(s.getState().diffResult.status).toBe('ready');
  });
});
