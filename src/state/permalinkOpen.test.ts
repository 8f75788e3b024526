import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../testing/fixtures.ts';
import { loopbackWorker } from '../testing/loopback.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { Client } from './client.ts';
import { mapFileText } from './permalink.ts';
import { openMapFiles, splitMapFiles } from './permalinkOpen.ts';
import { createAppStore } from './store.ts';

const goldenFile = (c: string, name: string, as = name) =>
  new File([readFileSync(join(FIXTURES, 'golden', c, name))], as);

describe('dropped map files in the page', () => {
  it("sorts qemu-img map's human table as a map, and an image as an image", async () => {
    const human = goldenFile('nbd-hole-example', 'map.txt');
    const img = fixtureFile('nbd-hole-example', 'top.qcow2');
    const { maps, images } = await splitMapFiles([human, img]);
    expect(maps.map((f) => f.name)).toEqual(['map.txt']);
    expect(images.map((f) => f.name)).toEqual(['top.qcow2']);
  });

  it('opens the human table as the map it is, as far as its last row reaches', async () => {
    const s = createAppStore();
    await openMapFiles(s, new Client(loopbackWorker()), [goldenFile('nbd-hole-example', 'map.txt')]);
    const c = s.getState().chain;
    expect(s.getState().openErrors).toEqual([]);
    expect(c?.mapOnly).toBeDefined();
    // The human table lists only mapped ranges: it says nothing past its last row.
    const rows = readFileSync(join(FIXTURES, 'golden', 'nbd-hole-example', 'map.txt'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/).map(Number));
    const last = rows[rows.length - 1]!;
    expect(c?.length).toBe(last[0]! + last[1]!);
  });

  it('refuses a clusterscope map file with a wrong member, naming the file and the member', async () => {
    const s = createAppStore();
    const good = JSON.parse(mapFileText({ files: ['top.qcow2'], map: 'AAAA', hash: '' }));
    const bad = new File([JSON.stringify({ ...good, image: 'top.qcow2' })], 'shared.json');
    await openMapFiles(s, new Client(loopbackWorker()), [bad]);
    const st = s.getState();
    expect(st.load.status).toBe('error');
    expect(st.openErrors[0]?.message).toBe(
      'shared.json: clusterscope map file "image": must be an object {name, size, fingerprint}, not a string',
    );
  });
});
