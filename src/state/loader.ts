/**
 * Glue between the store and the worker: opening files, keeping the selection's detail fresh.
 * Takes the client as an interface so tests can pass a fake worker.
 */
import { OpenFailed, Superseded } from '../worker/client.ts';
import type { ChainInfo, HitDetail } from '../worker/protocol.ts';
import type { Store } from './store.ts';

export interface OpenClient {
  open(
    files: readonly File[],
    cb: {
      onProgress(phase: string, done: number, total: number): void;
      onPartial?(openId: number, chain: ChainInfo, end: number): void;
    },
  ): Promise<{ openId: number; chain: ChainInfo }>;
  hit(openId: number, offset: number): Promise<HitDetail | undefined>;
}

export async function openFiles(store: Store, client: OpenClient, files: readonly File[], sample?: string) {
  const s = store.getState();
  s.startLoad(
    files.map((f) => ({ name: f.name, size: f.size })),
    sample,
  );
  try {
    const { openId, chain } = await client.open(files, {
      onProgress: (phase, done, total) => store.getState().progress(phase, done, total),
      onPartial: (openId, chain, end) => store.getState().partial(openId, chain, end),
    });
    store.getState().opened(openId, chain);
  } catch (e) {
    if (e instanceof Superseded) return;
    if (e instanceof OpenFailed) {
      store.getState().failed(e.files);
      return;
    }
    const message = e instanceof Error ? e.message : String(e);
    const file = files[0]?.name ?? '';
    store
      .getState()
      .failed([{ kind: 'internal', name: 'Error', file, structure: 'open', detail: message, message }]);
  }
}

/** Asks the worker about the selected offset whenever the selection changes. */
export function followSelection(store: Store, client: OpenClient): () => void {
  return store.subscribe((s, prev) => {
    if (s.selection === prev.selection || s.selection === undefined) return;
    const offset = s.selection;
    client.hit(s.openId, offset).then(
      (d) => store.getState().setDetail(d),
      () => {},
    );
  });
}

/** Fetches a sample's files from this origin (public/samples/<dir>/...). */
export async function fetchSample(base: string, dir: string, names: readonly string[]): Promise<File[]> {
  return Promise.all(
    names.map(async (n) => {
      const r = await fetch(`${base}samples/${dir}/${n}`);
      if (!r.ok) throw new Error(`sample ${dir}/${n}: HTTP ${r.status}`);
      return new File([await r.blob()], n);
    }),
  );
}
