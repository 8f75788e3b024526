/**
 * Glue between the store and the worker: opening files, keeping the selection's detail fresh.
 * Takes the client as an interface so tests can pass a fake worker.
 */
import { OpenFailed, Superseded } from '../worker/client.ts';
import type { ChainInfo, HitDetail, OpenSource } from '../worker/protocol.ts';
import type { Store } from './store.ts';
import { linkableUrl } from './url.ts';

export interface OpenClient {
  open(
    files: readonly File[],
    cb: {
      onProgress(phase: string, done: number, total: number): void;
      onPartial?(openId: number, chain: ChainInfo, end: number): void;
    },
    source?: OpenSource,
  ): Promise<{ openId: number; chain: ChainInfo }>;
  hit(openId: number, offset: number): Promise<HitDetail | undefined>;
}

/** Opens dropped or fetched files; `sample` names the gallery sample they are. */
export function openFiles(
  store: Store,
  client: OpenClient,
  files: readonly File[],
  sample?: string,
): Promise<number | undefined> {
  return runOpen(
    store,
    client,
    files,
    files.map((f) => ({ name: f.name, size: f.size })),
    sample,
  );
}

/**
 * Opens a remote image by URL (the "Open by URL" form and links that name a URL) or a sandbox
 * chain through the same worker and views. A URL the links may carry is kept in the store.
 */
export function openSource(
  store: Store,
  client: OpenClient,
  source: OpenSource,
): Promise<number | undefined> {
  const name = source.kind === 'url' ? source.url : source.top;
  return runOpen(store, client, [], [{ name, size: 0 }], undefined, source);
}

/** One open, any origin: progress and partial maps into the store; the open id, or undefined if it failed. */
async function runOpen(
  store: Store,
  client: OpenClient,
  files: readonly File[],
  names: readonly { name: string; size: number }[],
  sample?: string,
  source?: OpenSource,
): Promise<number | undefined> {
  const url = source?.kind === 'url' ? linkableUrl(source.url) : undefined;
  store.getState().startLoad(names, {
    ...(sample !== undefined && { sample }),
    ...(url !== undefined && { url }),
  });
  try {
    const { openId, chain } = await client.open(
      files,
      {
        onProgress: (phase, done, total) => store.getState().progress(phase, done, total),
        onPartial: (openId, chain, end) => store.getState().partial(openId, chain, end),
      },
      source,
    );
    store.getState().opened(openId, chain);
    return openId;
  } catch (e) {
    if (e instanceof Superseded) return undefined;
    if (e instanceof OpenFailed) {
      store.getState().failed(e.files);
      return undefined;
    }
    const message = e instanceof Error ? e.message : String(e);
    const file = names[0]?.name ?? '';
    store
      .getState()
      .failed([{ kind: 'internal', name: 'Error', file, structure: 'open', detail: message, message }]);
    return undefined;
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
