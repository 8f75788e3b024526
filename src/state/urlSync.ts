/**
 * Keeps the URL hash and the store in step.
 *  - On load: the hash's layers and comparison apply at once; its range, selection and snapshot
 *    wait for the first map (a sample, a dropped image, a remote image the link names by URL,
 *    or the map the link carries) and apply to it.
 *  - The link's image identity is compared with each image that opens: the same image says so,
 *    a different one is named as different (the view still opens, clamped to it).
 *  - Afterwards every change is written back. History: a change more than HISTORY_SETTLE_MS
 *    after the previous write pushes an entry (deliberate navigation: a click, a layer toggle,
 *    the first step of a zoom); changes that follow quickly (dragging, wheel zooming) replace it,
 *    so Back walks settled views, not every frame. Pans and zooms within a gesture are written
 *    once the view rests (URL_WRITE_INTERVAL_MS); other changes at once.
 *  - Back/forward and hash edits (popstate) apply the entry's view, layers, selection and
 *    snapshot to the open map; an entry that names another remote image or carries another map
 *    opens it first (through `openLink`), then lands on its view.
 * What the link still has to do lives in the store (link.ts); only the writer's timing is here.
 * Problems with the hash become notices; the rest of the view is the default.
 */
import type { ChainInfo } from '../protocol/source.ts';
import { hasPlace, type LinkState, type Place } from './link.ts';
import { compareIdentity, identityOf } from './permalink.ts';
import type { AppState, Store } from './store.ts';
import { parseHash, toHash, type UrlState } from './url.ts';

/** Pause after which the next change is a new history entry rather than part of a drag. */
export const HISTORY_SETTLE_MS = 600;

/**
 * During a drag or wheel zoom the URL is written once the view has rested this long (each new
 * change restarts the wait), not on every frame: each write is a history.replaceState, which
 * cost 4-9 ms of a 16 ms frame while panning a 1 TiB map, and Chromium ignores history calls
 * made faster than about 200 in 10 s ("Throttling navigation to prevent the browser from
 * hanging"). The first change after a pause is pushed at once (HISTORY_SETTLE_MS).
 */
export const URL_WRITE_INTERVAL_MS = 150;

export interface HashLocation {
  get(): string;
  /** `push` adds a history entry; `replace` rewrites the current one. */
  set(hash: string, mode?: 'push' | 'replace'): void;
  /** Calls back on back/forward; returns an unsubscribe. */
  onPop?(cb: () => void): () => void;
  now?(): number;
  /** Runs `cb` after `ms` (setTimeout by default); returns a cancel. */
  later?(cb: () => void, ms: number): () => void;
}

/** The shareable part of the store, as the URL carries it (`map`: an encoded map to keep). */
export function stateFor(s: AppState, map?: string): UrlState {
  const c = s.chain;
  const files = c?.mapOnly ? c.mapOnly.files : (c?.layers.map((l) => l.name) ?? []);
  const image = c ? identityOf(c) : undefined;
  return {
    ...(s.sample !== undefined && { sample: s.sample }),
    ...(s.url !== undefined && !c?.mapOnly && { url: s.url }),
    ...(files.length > 0 && { files }),
    ...(image && { image }),
    view: s.view,
    layers: s.layers,
    ...(s.bitmap !== undefined && { bitmap: s.bitmap }),
    ...(s.selection !== undefined && { selection: s.selection }),
    ...(s.snapshot !== undefined && { snapshot: s.snapshot }),
    ...(s.diff && { diff: s.diff }),
    ...(map !== undefined && { map }),
  };
}

const placeOf = (s: AppState): Place => ({
  view: s.view,
  ...(s.selection !== undefined && { selection: s.selection }),
  ...(s.snapshot !== undefined && { snapshot: s.snapshot }),
});

/** `l` without the optional fields named. */
function drop(l: LinkState, ...keys: ('pending' | 'image' | 'expectMap' | 'map' | 'leaving')[]): LinkState {
  const out = { ...l };
  for (const k of keys) delete out[k];
  return out;
}

/** Moves the open map to a link's place (a selection past the map's end is dropped). */
export function applyPlace(store: Store, u: Place, chain: ChainInfo): void {
  const s = store.getState();
  if (u.view) s.setView(u.view);
  if (u.selection !== undefined && u.selection < chain.length) s.select(u.selection);
  else if (u.selection === undefined && s.selection !== undefined) s.select(undefined);
  if (u.snapshot !== s.snapshot) s.setSnapshot(u.snapshot);
}

/** Applies a link's layers, comparison and place to the open map. */
export function applyLink(store: Store, u: UrlState, chain: ChainInfo): void {
  const s = store.getState();
  if (u.layers) s.setLayers(u.layers);
  if (u.bitmap !== s.bitmap) s.setBitmap(u.bitmap);
  s.setDiff(u.diff);
  applyPlace(store, u, chain);
}

/**
 * Binds the store to the hash. `openLink` opens what a link names that the page is not showing
 * (its remote URL, or the map it carries); without it such hash changes only move the view.
 */
export function bindUrl(store: Store, loc: HashLocation, openLink?: (link: UrlState) => void): UrlState {
  const now = loc.now ?? (() => Date.now());
  const later =
    loc.later ??
    ((cb: () => void, ms: number) => {
      const t = setTimeout(cb, ms);
      return () => clearTimeout(t);
    });
  const parsed = parseHash(loc.get());
  const initial = parsed.state;
  const st0 = store.getState();
  for (const p of parsed.problems) st0.notify('error', `${p} Showing the default view instead.`);
  if (initial.layers) st0.setLayers(initial.layers);
  if (initial.bitmap !== undefined) st0.setBitmap(initial.bitmap);
  if (initial.diff) st0.setDiff(initial.diff);
  st0.setLink({
    ...st0.link,
    ...(hasPlace(initial) && { pending: initial }),
    ...(initial.image && { image: initial.image }),
    ...(initial.map !== undefined && { expectMap: initial.map }),
  });

  /** When the store last changed what the URL shows; a replace waiting to be written (its cancel). */
  let lastChange = Number.NEGATIVE_INFINITY;
  let queued: (() => void) | undefined;
  /** The store is being changed from here: its notifications are not new navigation. */
  let applying = false;
  const guarded = (f: () => void) => {
    applying = true;
    try {
      f();
    } finally {
      applying = false;
    }
  };
  const link = (f: (l: LinkState) => LinkState) =>
    guarded(() => store.getState().setLink(f(store.getState().link)));
  const write = (hash: string, mode: 'push' | 'replace') => {
    queued?.();
    queued = undefined;
    loc.set(hash, mode);
  };

  store.subscribe((s, prev) => {
    if (applying) return;
    if (s.load.status === 'loading' && prev.load.status !== 'loading')
      link((l) => (prev.chain?.mapOnly?.fromLink ? { ...l, leaving: placeOf(prev) } : drop(l, 'leaving')));
    if (s.load.status === 'error') link((l) => ({ ...l, opening: false }));
    const c = s.chain;
    if (c && c.id !== store.getState().link.seen) {
      // The first map (partial or whole) of a new open.
      const p = store.getState().link.pending;
      link((l) => ({
        ...drop(l, 'pending', 'expectMap', 'map', ...(c.mapOnly || p ? (['leaving'] as const) : [])),
        seen: c.id,
        opening: false,
        // A place the link names wins over the one the previous map showed.
        ...(c.mapOnly?.fromLink && l.expectMap !== undefined && { map: l.expectMap }),
      }));
      if (p) guarded(() => applyPlace(store, p, c));
    }
    if (
      c &&
      !c.mapOnly &&
      s.load.status === 'ready' &&
      c.complete &&
      c.id !== store.getState().link.checked
    ) {
      // Identity once the open is done (a partial map has no fingerprint yet).
      const l = store.getState().link;
      const same = l.image ? compareIdentity(l.image, c) : undefined;
      if (same) guarded(() => s.notify(same.same ? 'info' : 'warn', same.message));
      // The same image dropped over the link's map: keep the place the map was showing.
      const carry = same?.same ? l.leaving : undefined;
      link((x) => ({ ...drop(x, 'leaving'), checked: c.id }));
      if (carry) guarded(() => applyPlace(store, carry, c));
    }
    const cur = store.getState();
    if (!cur.chain || cur.link.opening) return;
    const hash = toHash(stateFor(cur, cur.link.map));
    if (hash === loc.get()) {
      // Back where the URL already is: a write still waiting would be stale.
      queued?.();
      queued = undefined;
      return;
    }
    const t = now();
    const settled = t - lastChange > HISTORY_SETTLE_MS && prev.chain === s.chain;
    lastChange = t;
    if (settled) return write(hash, 'push');
    // A new map (an open, a partial map; at most every 250 ms) or a change other than the view
    // (a click, a toggle, a comparison) is written at once; only pans and zooms come in bursts.
    if (prev.chain !== s.chain || s.view === prev.view) return write(hash, 'replace');
    // Part of a gesture: write the newest state once the view rests (it is read again then).
    queued?.();
    queued = later(() => {
      queued = undefined;
      const st = store.getState();
      if (st.link.opening) return;
      const h = toHash(stateFor(st, st.link.map));
      if (h !== loc.get()) write(h, 'replace');
    }, URL_WRITE_INTERVAL_MS);
  });

  loc.onPop?.(() => {
    const st = store.getState();
    const u = parseHash(loc.get()).state;
    const elsewhere =
      u.url !== undefined ? u.url !== st.url : u.map !== undefined && (u.map !== st.link.map || !st.chain);
    if (elsewhere && openLink) {
      guarded(() => {
        if (u.layers) st.setLayers(u.layers);
        if (u.bitmap !== st.bitmap) st.setBitmap(u.bitmap);
        st.setDiff(u.diff);
      });
      link((l) => ({
        ...drop(l, 'pending', 'expectMap'),
        ...(hasPlace(u) && { pending: u }),
        ...(u.map !== undefined && { expectMap: u.map }),
        ...(u.image && { image: u.image }),
        opening: true,
      }));
      openLink(u);
      return;
    }
    const chain = st.chain;
    if (!chain) return;
    guarded(() => applyLink(store, u, chain));
    const hash = toHash(stateFor(store.getState(), store.getState().link.map));
    queued?.();
    queued = undefined;
    if (hash !== loc.get()) loc.set(hash, 'replace');
    lastChange = Number.NEGATIVE_INFINITY;
  });
  return initial;
}
