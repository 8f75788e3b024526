/**
 * Keeps the URL hash and the store in step.
 *  - On load: the hash's layers apply at once; its range and selection wait for the first chain
 *    (a sample, a dropped image, or the map the link carries) and apply to it.
 *  - The link's image identity is compared with each image that opens: the same image says so,
 *    a different one is named as different (the view still opens, clamped to it).
 *  - Afterwards every change is written back. History: a change more than HISTORY_SETTLE_MS
 *    after the previous write pushes an entry (deliberate navigation: a click, a layer toggle,
 *    the first step of a zoom); changes that follow quickly (dragging, wheel zooming) replace it,
 *    so Back walks settled views, not every frame.
 *  - Back/forward (popstate) apply the entry's view, layers and selection to the open chain.
 * Problems with the hash become notices; the rest of the view is the default.
 */
import type { ChainInfo } from '../worker/protocol.ts';
import { compareIdentity, identityOf } from './permalink.ts';
import type { Store } from './store.ts';
import { parseHash, toHash, type UrlState } from './url.ts';

/** Pause after which the next change is a new history entry rather than part of a drag. */
export const HISTORY_SETTLE_MS = 600;

export interface HashLocation {
  get(): string;
  /** `push` adds a history entry; `replace` rewrites the current one. */
  set(hash: string, mode?: 'push' | 'replace'): void;
  /** Calls back on back/forward; returns an unsubscribe. */
  onPop?(cb: () => void): () => void;
  now?(): number;
}

type State = ReturnType<Store['getState']>;

/** The shareable part of the store, as the URL carries it (`map`: an encoded map to keep). */
export function stateFor(s: State, map?: string): UrlState {
  const c = s.chain;
  const files = c?.mapOnly ? c.mapOnly.files : (c?.layers.map((l) => l.name) ?? []);
  const image = c ? identityOf(c) : undefined;
  return {
    ...(s.sample !== undefined && { sample: s.sample }),
    ...(files.length > 0 && { files }),
    ...(image && { image }),
    view: s.view,
    layers: s.layers,
    ...(s.selection !== undefined && { selection: s.selection }),
    ...(s.snapshot !== undefined && { snapshot: s.snapshot }),
    ...(s.diff && { diff: s.diff }),
    ...(map !== undefined && { map }),
  };
}

export function bindUrl(store: Store, loc: HashLocation): UrlState {
  const now = loc.now ?? (() => Date.now());
  const parsed = parseHash(loc.get());
  const initial = parsed.state;
  for (const p of parsed.problems) store.getState().notify('error', `${p} Showing the default view instead.`);
  if (initial.layers) store.getState().setLayers(initial.layers);
  if (initial.snapshot !== undefined) store.getState().setSnapshot(initial.snapshot);
  if (initial.diff) store.getState().setDiff(initial.diff);
  let pending: UrlState | undefined = initial.view || initial.selection !== undefined ? initial : undefined;
  let lastWrite = Number.NEGATIVE_INFINITY;
  let applying = false;
  /** The map the link carried, kept in the hash while that map is what is shown. */
  let linkMap: string | undefined = initial.map;

  const apply = (u: UrlState, chain: ChainInfo) => {
    const s = store.getState();
    if (u.view) s.setView(u.view);
    if (u.selection !== undefined && u.selection < chain.length) s.select(u.selection);
    else if (u.selection === undefined && s.selection !== undefined) s.select(undefined);
  };
  const guarded = (f: () => void) => {
    applying = true;
    try {
      f();
    } finally {
      applying = false;
    }
  };

  store.subscribe((s, prev) => {
    if (applying) return;
    if (s.chain && s.chain !== prev.chain) {
      const c = s.chain;
      if (!c.mapOnly?.fromLink) linkMap = undefined;
      // Identity once the open is done (a partial map has no fingerprint yet).
      const same =
        initial.image && !c.mapOnly && s.load.status === 'ready'
          ? compareIdentity(initial.image, c)
          : undefined;
      if (same) s.notify(same.same ? 'info' : 'warn', same.message);
      // The same image dropped over the link's map: keep the place the map was showing.
      const carry =
        prev.chain?.mapOnly?.fromLink && same?.same
          ? { view: prev.view, ...(prev.selection !== undefined && { selection: prev.selection }) }
          : undefined;
      const p = pending ?? carry;
      pending = undefined;
      if (p) guarded(() => apply(p, c));
    }
    if (!s.chain) return;
    const hash = toHash(stateFor(store.getState(), linkMap));
    if (hash === loc.get()) return;
    const t = now();
    const mode = t - lastWrite > HISTORY_SETTLE_MS && prev.chain === s.chain ? 'push' : 'replace';
    lastWrite = t;
    loc.set(hash, mode);
  });

  loc.onPop?.(() => {
    const st = store.getState();
    const chain = st.chain;
    if (!chain) return;
    const u = parseHash(loc.get()).state;
    guarded(() => {
      if (u.layers) st.setLayers(u.layers);
      st.setDiff(u.diff);
      apply(u, chain);
    });
    const hash = toHash(stateFor(store.getState(), linkMap));
    if (hash !== loc.get()) loc.set(hash, 'replace');
    lastWrite = Number.NEGATIVE_INFINITY;
  });
  return initial;
}
