/**
 * Keeps the URL hash and the store in step: the hash's view, layers and selection are applied
 * to the first chain that opens; afterwards every change is written back (replaceState, so
 * zooming does not flood history).
 */
import type { Store } from './store.ts';
import { fromHash, toHash, type UrlState } from './url.ts';

export interface HashLocation {
  get(): string;
  set(hash: string): void;
}

export function bindUrl(store: Store, loc: HashLocation): UrlState {
  const initial = fromHash(loc.get());
  if (initial.layers) store.getState().setLayers(initial.layers);
  if (initial.diff) store.getState().setDiff(initial.diff);
  let pending: UrlState | undefined = initial.view || initial.selection !== undefined ? initial : undefined;
  store.subscribe((s, prev) => {
    if (pending && s.chain && s.chain !== prev.chain) {
      const p = pending;
      pending = undefined;
      if (p.view) s.setView(p.view);
      if (p.selection !== undefined && p.selection < s.chain.length) s.select(p.selection);
      return;
    }
    if (!s.chain) return;
    const hash = toHash({
      ...(s.sample !== undefined && { sample: s.sample }),
      view: s.view,
      layers: s.layers,
      ...(s.selection !== undefined && { selection: s.selection }),
      ...(s.diff && { diff: s.diff }),
    });
    if (hash !== loc.get()) loc.set(hash);
  });
  return initial;
}
