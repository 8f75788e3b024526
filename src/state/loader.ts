/**
 * Glue between the store and the worker: opening images (dropped files, a remote URL, the
 * sandbox's), keeping the selection's detail fresh. Takes the client as an interface so tests
 * can pass their own.
 */
import type { OpenFrom } from '../protocol/calls.ts';
import type { ErrorInfo } from '../protocol/errors.ts';
import { CallFailed, type Client, Superseded } from './client.ts';
import type { Store } from './store.ts';
import { linkableUrl } from './url.ts';
import { viewKey } from './views.ts';

export type Caller = Pick<Client, 'call'>;

/** The channel the page's own open goes on: a newer one supersedes it. */
export const OPEN_MAIN = 'open:main';

/** An ErrorInfo for a failure that is not the engine's (a fetch, a bug), naming the file. */
export function errorOf(e: unknown, file: string, structure: string): ErrorInfo {
  const message = e instanceof Error ? e.message : String(e);
  return { kind: 'internal', name: 'Error', file, structure, detail: message, message };
}

/**
 * One open into the page's slot, from anything: progress and partial maps into the store under
 * the load's token; resolves with the source id, or undefined if it failed or was superseded.
 */
export async function openInto(
  store: Store,
  client: Caller,
  from: OpenFrom,
  names: readonly { name: string; size: number }[],
  origin: { sample?: string; url?: string } = {},
): Promise<number | undefined> {
  const token = store.getState().startLoad(names, origin);
  const grid = store.getState().gridBox;
  let shown = false;
  try {
    const o = await client.call(
      'open',
      { slot: 'main', from, ...(grid && { grid }) },
      {
        channel: OPEN_MAIN,
        onProgress: (phase, done, total) => store.getState().progress(token, phase, done, total),
        onPartial: (p) => {
          shown = true;
          store.getState().partial(token, p);
        },
      },
    );
    store.getState().opened(token, o);
    return o.info.id;
  } catch (e) {
    if (e instanceof Superseded) return undefined;
    // An open that ends past a budget (a LimitError) after parts of its map keeps them on screen.
    const limit = e instanceof CallFailed && e.error.kind === 'limit';
    store
      .getState()
      .failed(
        token,
        e instanceof CallFailed ? e.files : [errorOf(e, names[0]?.name ?? '', 'open')],
        shown && limit,
      );
    return undefined;
  }
}

/** Opens dropped or fetched image files; `sample` names the gallery sample they are. */
export function openFiles(store: Store, client: Caller, files: readonly File[], sample?: string) {
  return openInto(
    store,
    client,
    { kind: 'files', files },
    files.map((f) => ({ name: f.name, size: f.size })),
    sample !== undefined ? { sample } : {},
  );
}

/**
 * Opens a remote image by URL (the "Open by URL" form and links that name a URL) or a sandbox
 * chain through the same worker and views. A URL the links may carry is kept in the store.
 */
export function openSource(
  store: Store,
  client: Caller,
  from: Extract<OpenFrom, { kind: 'url' | 'sandbox' }>,
) {
  const name = from.kind === 'url' ? from.url : from.top;
  const url = from.kind === 'url' ? linkableUrl(from.url) : undefined;
  return openInto(store, client, from, [{ name, size: 0 }], url !== undefined ? { url } : {});
}

/** Asks the worker about the selected offset whenever the selection (or the view it is read in) changes. */
export function followSelection(store: Store, client: Caller): () => void {
  return store.subscribe((s, prev) => {
    if (s.selection === undefined || !s.chain) return;
    const view = viewKey(s);
    if (s.selection === prev.selection && s.chain === prev.chain && view === viewKey(prev)) return;
    const offset = s.selection;
    client.call('hit', { source: s.chain.id, view, offset }, { channel: 'hit:selection' }).then(
      (d) => store.getState().setDetail(d ?? undefined),
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
