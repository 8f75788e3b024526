import { describe, expect, it } from 'vitest';
import { OpenFailed } from '../worker/client.ts';
import type { ChainInfo, ErrorInfo, HitDetail } from '../worker/protocol.ts';
import { followSelection, openFiles } from './loader.ts';
import { createAppStore } from './store.ts';
import { fromHash, toHash } from './url.ts';

const K = 65536;
const chain = (length: number): ChainInfo => ({
  layers: [{ name: 'top.qcow2', format: 'qcow2', virtualSize: length, fileSize: 1, clusterSize: K }],
  length,
  clusterSize: K,
  findings: [],
  rejected: [],
  unused: [],
  extents: {
    count: 0,
    start: new Float64Array(),
    length: new Float64Array(),
    kind: new Uint8Array(),
    flags: new Uint8Array(),
    layer: new Uint16Array(),
    host: new Float64Array(),
  },
});

describe('store', () => {
  it('opening a chain shows all of it', () => {
    const s = createAppStore();
    s.getState().opened(3, chain(100 * K));
    expect(s.getState().view).toEqual({ start: 0, end: 100 * K });
    expect(s.getState().openId).toBe(3);
  });

  it('zooms about an anchor, never below four clusters, and pans within the image', () => {
    const s = createAppStore();
    s.getState().opened(1, chain(100 * K));
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
    s.getState().setDetail({ offset: 2 * K } as HitDetail);
    expect(s.getState().detail).toBeUndefined();
    s.getState().setDetail({ offset: K } as HitDetail);
    expect(s.getState().detail?.offset).toBe(K);
    s.getState().select(undefined);
    expect(s.getState().selection).toBeUndefined();
    expect(s.getState().detail).toBeUndefined();
  });

  it('loads through a worker client: progress, then the chain; a failure lists each file error', async () => {
    const s = createAppStore();
    const phases: string[] = [];
    s.subscribe((st) => phases.push(st.load.status));
    const client = {
      open: async (_f: readonly File[], cb: { onProgress(p: string, d: number, t: number): void }) => {
        cb.onProgress('L2 tables', 1, 2);
        return { openId: 7, chain: chain(4 * K) };
      },
      hit: async (_id: number, offset: number) => ({ offset }) as HitDetail,
    };
    await openFiles(s, client, [new File([new Uint8Array(4)], 'top.qcow2')]);
    expect(phases).toEqual(['loading', 'loading', 'ready']);
    expect(s.getState().files).toEqual([{ name: 'top.qcow2', size: 4 }]);
    const stop = followSelection(s, client);
    s.getState().select(K);
    await new Promise((r) => setTimeout(r, 0));
    expect(s.getState().detail?.offset).toBe(K);
    stop();
    const err: ErrorInfo = {
      kind: 'format',
      name: 'FormatError',
      file: 'x',
      structure: 'header',
      detail: 'd',
      message: 'm',
    };
    const failing = {
      ...client,
      open: async () => Promise.reject(new OpenFailed(err, [err])),
    };
    await openFiles(s, failing, [new File([], 'x')]);
    expect(s.getState().load.status).toBe('error');
    expect(s.getState().openErrors).toEqual([err]);
    expect(s.getState().chain).toBeUndefined();
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
    s.getState().startLoad([], { sample: 'chain-3' });
    s.getState().opened(1, chain(8 * K));
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
