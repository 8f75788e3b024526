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
