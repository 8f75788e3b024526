import { describe, expect, it } from 'vitest';
import { loopbackWorker } from '../testing/loopback.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { Client } from './client.ts';
import { openFiles, openInto } from './loader.ts';
import { followSnapshot } from './snapshot.ts';
import { createAppStore } from './store.ts';
import { viewKey } from './views.ts';

const settle = () => new Promise((r) => setTimeout(r, 20));

function setup() {
  const worker = loopbackWorker();
  const client = new Client(worker);
  const s = createAppStore();
  followSnapshot(s, client);
  const views = () =>
    worker.posted
      .filter((m) => (m as { method?: string }).method === 'view')
      .map((m) => (m as { params: { view: string } }).params.view);
  return { s, client, views };
}

describe('the map follows the store snapshot', () => {
  it('the page asks for the chosen snapshot view once the image is open, and for the active L1 when it is cleared', async () => {
    const { s, client, views } = setup();
    s.getState().setSnapshot('s1');
    expect(views()).toEqual([]); // nothing open yet
    const id = await openFiles(s, client, [fixtureFile('snapshots', 'top.qcow2')]);
    // The link's snapshot survives the open that the store starts (urlSync applies it after).
    s.getState().setSnapshot('s1');
    await settle();
    expect(views()).toEqual(['snapshot:s1']);
    expect(viewKey(s.getState())).toBe('snapshot:s1');
    // Snapshot s1's L1 maps data at 0..0x20000 (clusterscope map --snapshot=s1); the active L1 does not.
    const rows = (view: string) => client.call('rows', { source: id!, view, count: 1 });
    expect((await rows(viewKey(s.getState()))).cells[0]).toEqual([
      '0x0',
      '128 KiB',
      '0',
      'yes',
      'no',
      'yes',
      '0x50000',
    ]);
    s.getState().setSnapshot(undefined);
    expect(viewKey(s.getState())).toBe('');
    expect((await rows(viewKey(s.getState()))).cells[0]![1]).not.toBe('128 KiB');
    expect(s.getState().notices).toEqual([]);
  });

  it('a snapshot the image does not have: a notice, the active L1, and the store says so', async () => {
    const { s, client } = setup();
    await openFiles(s, client, [fixtureFile('snapshots', 'top.qcow2')]);
    s.getState().setSnapshot('nope');
    await expect.poll(() => s.getState().snapshot).toBeUndefined();
    expect(s.getState().notices.at(-1)?.text).toMatch(
      /Snapshot 'nope' cannot be shown for this image \(.*no snapshot 'nope'.*\)\. The map shows the active L1 table\./,
    );
  });

  it('a later choice wins over an answer still on its way; a map without its image is left alone', async () => {
    const { s, client, views } = setup();
    await openFiles(s, client, [fixtureFile('snapshots', 'top.qcow2')]);
    s.getState().setSnapshot('nope');
    s.getState().setSnapshot('s1');
    await settle();
    expect(s.getState().snapshot).toBe('s1');
    expect(s.getState().notices).toEqual([]);
    const asked = views().length;
    const { payload } = await client.call('share', { source: s.getState().chain!.id });
    await openInto(s, client, { kind: 'maps', maps: [{ kind: 'link', payload }], files: [] }, [
      { name: 'link', size: 0 },
    ]);
    s.getState().setSnapshot('s1');
    await settle();
    expect(views()).toHaveLength(asked);
    expect(viewKey(s.getState())).toBe('');
  });
});
