/**
 * The diff the store names, computed in the worker (a diff source of its own) for the page's
 * source and, when B names one, image B: one call per change of A, B or either source; a newer
 * one supersedes. The answer goes to the store's `diffResult`, which the diff view shows.
 */
import { CallFailed, type Client, Superseded } from './client.ts';
import { secondFor } from './diff.ts';
import type { Caller } from './loader.ts';
import type { AppState, Store } from './store.ts';

/** What the diff depends on: a change of any part asks again. */
const keyOf = (s: AppState): string => {
  const b = secondFor(s.diff, s.second);
  return JSON.stringify([
    s.diff?.a,
    s.diff?.b,
    s.diff?.byValue,
    s.diff?.bImage,
    s.chain?.id,
    s.chain?.complete,
    b?.id,
    s.diffRun,
  ]);
};

/** The client channel diffs run on: a newer one supersedes, a cancel names it. */
export const DIFF_CHANNEL = 'diff';

/** Stops the diff being computed (a long content scan of a side); the view says so and offers it again. */
export function cancelDiff(store: Store, client: Pick<Client, 'cancel'>): void {
  if (store.getState().diffResult.status !== 'computing') return;
  client.cancel(DIFF_CHANNEL);
  store.getState().setDiffResult({ status: 'cancelled' });
}

export function followDiff(store: Store, client: Caller): () => void {
  let asked = '';
  const sync = () => {
    const s = store.getState();
    const key = keyOf(s);
    if (key === asked) return;
    asked = key;
    const spec = s.diff;
    const c = s.chain;
    if (!spec || !c?.complete) {
      if (s.diffResult.status !== 'idle') s.setDiffResult({ status: 'idle' });
      return;
    }
    const b = secondFor(spec, s.second);
    if (spec.bImage && !b) return s.setDiffResult({ status: 'needs-b' });
    s.setDiffResult({ status: 'computing' });
    client
      .call(
        'diff',
        {
          a: { source: c.id, ...spec.a },
          b: { source: b?.id ?? c.id, ...spec.b },
          mode: spec.byValue ? 'values' : 'meaning',
        },
        {
          channel: DIFF_CHANNEL,
          onProgress: (phase, done, total) => {
            if (asked === key)
              store.getState().setDiffResult({ status: 'computing', progress: { phase, done, total } });
          },
        },
      )
      .then(
        (info) => {
          if (asked === key) store.getState().setDiffResult({ status: 'ready', info });
        },
        (e: unknown) => {
          if (e instanceof Superseded || asked !== key) return;
          const message = e instanceof CallFailed ? e.error.message : String(e);
          store.getState().setDiffResult({ status: 'error', message });
        },
      );
  };
  return store.subscribe(sync);
}
