import { describe, expect, it } from 'vitest';
import type { ErrorInfo } from '../protocol/errors.ts';
import type { Hit } from '../protocol/results.ts';
import type { ChainInfo } from '../protocol/source.ts';
import { chainInfo } from '../testing/chainInfo.ts';
import { loopbackWorker } from '../testing/loopback.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { CallFailed, Client } from './client.ts';
import { followSelection, openFiles } from './loader.ts';
import { createAppStore } from './store.ts';
import { fromHash, toHash } from './url.ts';

const K = 65536;
const chain = (length: number, id = 1, name = 'top.qcow2') => chainInfo(length, { id, names: [name] });
/** A store that opened `c` as its newest load. */
const open = (s: ReturnType<typeof createAppStore>, c: ChainInfo) =>
  s.getState().opened(s.getState().startLoad([]), { info: c });

describe('store', () => {
  it('opening a chain shows all of it', () => {
    const s = createAppStore();
    open(s, chain(100 * K, 3));
    expect(s.getState().view).toEqual({ start: 0, end: 100 * K });
    expect(s.getState().chain?.id).toBe(3);
  });

  it('zooms about an anchor, never below four clusters, and pans within the image', () => {
    const s = createAppStore();
    open(s, chain(100 * K));
    s.getState().zoom(2, 0);
    expect(s.getState().view).toEqual({ start: 0, end: 50 * K });
    s.getState().zoom(1000, 10 * K);
    expect(s.getState().view.end - s.getState().view.start).toBe(4 * K);
    expect(s.getState().view.start).toBeLessThanOrEqual(10 * K);
    s.getState().pan(-1000 * K);
    expect(s.getState().view).toEqual({ start: 0, end: 4 * K });
    s.getState().pan(1000 * K);
    expect(s.getState().view).toEqual({ start: 96 * K, end: 100 * K });
    s.getState().resetView();
    expect(s.getState().view).toEqual({ start: 0, end: 100 * K });
  });

  it('toggles layers and keeps a selection detail only for the current selection', () => {
    const s = createAppStore();
    s.getState().toggleLayer('depth');
    expect(s.getState().layers.depth).toBe(true);
    s.getState().select(K);
    s.getState().setDetail({ offset: 2 * K } as Hit);
    expect(s.getState().detail).toBeUndefined();
    s.getState().setDetail({ offset: K } as Hit);
    expect(s.getState().detail?.offset).toBe(K);
    s.getState().select(undefined);
    expect(s.getState().selection).toBeUndefined();
    expect(s.getState().detail).toBeUndefined();
  });

  it('loads through the worker: progress, then the map; a failure lists each file error', async () => {
    const s = createAppStore();
    const phases: string[] = [];
    s.subscribe((st) => phases.push(st.load.status));
    const client = new Client(loopbackWorker());
    const files = [fixtureFile('nbd-hole-example', 'top.qcow2'), fixtureFile('nbd-hole-example', 'base.raw')];
    await openFiles(s, client, files);
    expect(phases[0]).toBe('loading');
    expect(phases.at(-1)).toBe('ready');
    expect(s.getState().files.map((f) => f.name)).toEqual(['top.qcow2', 'base.raw']);
    expect(s.getState().chain?.layers.map((l) => l.name)).toEqual(['top.qcow2', 'base.raw']);
    const stop = followSelection(s, client);
    s.getState().select(K);
    await expect.poll(() => s.getState().detail?.offset).toBe(K);
    expect(s.getState().detail?.values[0]?.label).toBe('depth 0, present, data');
    stop();
    const err: ErrorInfo = {
      kind: 'format',
      name: 'FormatError',
      file: 'x',
      structure: 'header',
      detail: 'd',
      message: 'm',
    };
    const failing = { call: async () => Promise.reject(new CallFailed(err, [err])) };
    await openFiles(s, failing, [new File([], 'x')]);
    expect(s.getState().load.status).toBe('error');
    expect(s.getState().openErrors).toEqual([err]);
    expect(s.getState().chain).toBeUndefined();
  });

  it('a pick racing the first open: the newest open is the only one that lands (issue 11.2)', async () => {
    const s = createAppStore();
    const client = new Client(loopbackWorker());
    // The sample opens on page load; the person picks a file before it is done.
    const sample = openFiles(
      s,
      client,
      [fixtureFile('nbd-hole-example', 'top.qcow2'), fixtureFile('nbd-hole-example', 'base.raw')],
      'nbd-hole-example',
    );
    const picked = openFiles(s, client, [fixtureFile('cluster-4k', 'top.qcow2')]);
    await Promise.all([sample, picked]);
    expect(s.getState().files.map((f) => f.name)).toEqual(['top.qcow2']);
    expect(s.getState().sample).toBeUndefined();
    expect(s.getState().chain?.layers.map((l) => l.name)).toEqual(['top.qcow2']);
    // What the page exports is the picked image's map: one layer, 4 KiB clusters, no raw base.
    const c = s.getState().chain!;
    expect(c.clusterSize).toBe(4096);
    const r = await client.call('export', {
      source: c.id,
      view: '',
      format: 'qemu-img-map-json',
      release: 7002,
    });
    expect(r.text).not.toContain('"depth": 1');
    // A late answer of the first load changes nothing.
    s.getState().opened(1, { info: chain(4 * K, 999, 'late.qcow2') });
    expect(s.getState().chain?.id).toBe(c.id);
  });
});

describe('URL state', () => {
  it('round-trips view, layers, selection and sample with a version', () => {
    const st = createAppStore().getState();
    const h = toHash({
      sample: 'chain-3',
      view: { start: K, end: 9 * K },
      layers: st.layers,
      selection: 3 * K,
    });
    expect(h).toContain('v=2');
    expect(fromHash(h)).toEqual({
      sample: 'chain-3',
      view: { start: K, end: 9 * K },
      layers: st.layers,
      selection: 3 * K,
    });
  });
  it('ignores a hash of an unknown version', () => {
    expect(fromHash('#v=99&sel=10')).toEqual({});
  });
});

describe('URL binding', () => {
  it('applies the hash to the first chain, then writes changes back', async () => {
    const { bindUrl } = await import('./urlSync.ts');
    let hash = '#v=1&sample=chain-3&view=10000-50000&layers=data,depth&sel=20000';
    const s = createAppStore();
    const initial = bindUrl(s, { get: () => hash, set: (h) => (hash = h) });
    expect(initial.sample).toBe('chain-3');
    expect(s.getState().layers.depth).toBe(true);
    expect(s.getState().layers.zero).toBe(false);
    s.getState().opened(s.getState().startLoad([], { sample: 'chain-3' }), { info: chain(8 * K) });
    expect(s.getState().view).toEqual({ start: K, end: 5 * K });
    expect(s.getState().selection).toBe(2 * K);
    s.getState().zoom(0.1);
    // A change right after the last write waits for URL_WRITE_INTERVAL_MS (urlSync.ts).
    const { URL_WRITE_INTERVAL_MS } = await import('./urlSync.ts');
    await new Promise((r) => setTimeout(r, URL_WRITE_INTERVAL_MS + 20));
    expect(hash).toContain('range=0x0-0x80000');
    expect(hash).toContain('sample=chain-3');
  });
});
