import { describe, expect, it } from 'vitest';
import type { ChainInfo } from '../protocol/source.ts';
import { createAppStore } from '../state/store.ts';
import { viewBatch } from './viewBatch.ts';

const G = 1024 ** 3;

function setup() {
  const store = createAppStore();
  const chain = { id: 1, length: 64 * G, clusterSize: 65536, layers: [] } as unknown as ChainInfo;
  store.getState().opened(store.getState().token, { info: chain });
  store.getState().setView({ start: 0, end: 8 * G });
  const frames: (() => void)[] = [];
  const changes: unknown[] = [];
  store.subscribe((s, p) => s.view !== p.view && changes.push(s.view));
  const b = viewBatch(
    store,
    (cb) => frames.push(cb),
    () => frames.pop(),
  );
  const tick = () => {
    for (const f of frames.splice(0)) f();
  };
  return { store, b, frames, changes, tick };
}

describe('viewBatch', () => {
  it('folds the pans of one frame into one store update at the frame', () => {
    const { store, b, changes, tick } = setup();
    for (let i = 0; i < 10; i++) b.pan(G / 4);
    expect(changes).toHaveLength(0);
    tick();
    expect(changes).toHaveLength(1);
    expect(store.getState().view).toEqual({ start: 2.5 * G, end: 10.5 * G });
  });

  it('multiplies zoom factors and zooms about the latest anchor', () => {
    const { store, b, changes, tick } = setup();
    b.zoom(2, 0);
    b.zoom(2, 0);
    tick();
    expect(changes).toHaveLength(1);
    expect(store.getState().view).toEqual({ start: 0, end: 2 * G });
  });

  it('applies a pending pan before a zoom that follows it in the same frame', () => {
    const { store, b, changes, tick } = setup();
    b.pan(G);
    b.zoom(2, G);
    expect(changes).toHaveLength(1);
    expect(store.getState().view).toEqual({ start: G, end: 9 * G });
    tick();
    expect(changes).toHaveLength(2);
    expect(store.getState().view).toEqual({ start: G, end: 5 * G });
  });

  it('flush applies at once and leaves no frame behind', () => {
    const { b, frames, changes, tick } = setup();
    b.pan(G);
    b.flush();
    expect(changes).toHaveLength(1);
    expect(frames).toHaveLength(0);
    tick();
    expect(changes).toHaveLength(1);
  });
});
