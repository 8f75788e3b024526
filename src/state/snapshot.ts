/**
 * The map follows the store's `snapshot`, whoever set it (the Image panel, a link's `snap=`,
 * Back/Forward): once an image is open, the worker re-maps it through that internal snapshot's
 * L1 table (or the active one), and the map, tracks and inspector show the result. An image
 * without that snapshot gets a notice and the active L1, and the store (so the URL) says so.
 */
import type { ChainInfo, HitDetail } from '../worker/protocol.ts';
import type { Store } from './store.ts';

export interface SnapshotClient {
  /** The open chain re-mapped through a snapshot's L1 (undefined: the active L1). */
  snapshotView(openId: number, snapshot: string | undefined): Promise<ChainInfo>;
  hit(openId: number, offset: number): Promise<HitDetail | undefined>;
}

export function followSnapshot(store: Store, client: SnapshotClient): () => void {
  /** What the worker maps for an open, as its last answer said: each open starts on the active L1. */
  let shown: { openId: number; snapshot?: string } = { openId: 0 };
  /** The newest request on its way; older answers only update `shown`. */
  let latest: { openId: number; snapshot: string | undefined } | undefined;

  const ask = (openId: number, want: string | undefined) => {
    const req = { openId, snapshot: want };
    latest = req;
    client.snapshotView(openId, want).then(
      (chain) => {
        // The worker now maps this snapshot for this open, whichever request it answers.
        if (shown.openId === openId) shown = { openId, ...(want !== undefined && { snapshot: want }) };
        const st = store.getState();
        if (latest !== req) {
          // An older answer arrived after the newest: the worker holds the older choice, so ask again.
          if (latest === undefined) sync();
          return;
        }
        latest = undefined;
        if (st.openId !== openId) return;
        st.opened(openId, chain);
        // The selected cluster's entries differ under another L1: ask again.
        const sel = st.selection;
        if (sel !== undefined)
          client.hit(openId, sel).then(
            (d) => store.getState().setDetail(d),
            () => {},
          );
      },
      (e: unknown) => {
        if (latest !== req) return;
        latest = undefined;
        const st = store.getState();
        if (st.openId !== openId) return;
        const why = e instanceof Error ? e.message : String(e);
        const now = shown.snapshot === undefined ? 'the active L1 table' : `snapshot ${shown.snapshot}`;
        st.setSnapshot(shown.snapshot);
        st.notify(
          'warn',
          `Snapshot '${want ?? ''}' cannot be shown for this image (${why}). The map shows ${now}.`,
        );
      },
    );
  };

  const sync = () => {
    const s = store.getState();
    const c = s.chain;
    // A map without its image has no L1 to switch (a link's map was made from the snapshot already).
    if (s.load.status !== 'ready' || !c || c.mapOnly) return;
    if (shown.openId !== s.openId) shown = { openId: s.openId };
    const want = s.snapshot;
    const onItsWay = latest?.openId === s.openId ? latest : undefined;
    if (onItsWay ? onItsWay.snapshot === want : shown.snapshot === want) return;
    ask(s.openId, want);
  };
  return store.subscribe(sync);
}
