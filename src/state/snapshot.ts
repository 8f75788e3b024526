/**
 * The store's `snapshot` names the view the page shows (views.ts): whoever set it (the Image
 * panel, a link's `snap=`, Back/Forward), the heatmap, lanes, rows and inspector ask the worker
 * for that view. This checks the view can be built once the image is open: a snapshot the image
 * lacks gets a notice, and the store (so the URL) goes back to the active L1.
 */
import { Superseded } from './client.ts';
import type { Caller } from './loader.ts';
import type { Store } from './store.ts';
import { viewKey } from './views.ts';

export function followSnapshot(store: Store, client: Caller): () => void {
  let asked = '';
  const sync = () => {
    const s = store.getState();
    const c = s.chain;
    // A map without its image has no L1 to switch (a link's map was made from the snapshot already).
    if (c?.kind !== 'image' || !c.complete || s.snapshot === undefined) {
      asked = '';
      return;
    }
    const want = s.snapshot;
    const key = `${c.id}\n${want}`;
    if (key === asked) return;
    asked = key;
    client.call('view', { source: c.id, view: viewKey(s) }, { channel: 'view:snapshot' }).then(
      () => {},
      (e: unknown) => {
        if (e instanceof Superseded) return;
        const st = store.getState();
        if (st.chain?.id !== c.id || st.snapshot !== want) return;
        const why = e instanceof Error ? e.message : String(e);
        st.setSnapshot(undefined);
        st.notify(
          'warn',
          `Snapshot '${want}' cannot be shown for this image (${why}). The map shows the active L1 table.`,
        );
      },
    );
  };
  return store.subscribe(sync);
}
