/**
 * The diff the store names, computed in the worker (a diff source of its own) for the page's
 * source and, when B names one, image B: one call per change of A, B or either source; a newer
 * one supersedes. The answer goes to the store's `diffResult`, which the diff view shows.
 */
import { CallFailed, Superseded } from './client.ts';
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
  ]);
};

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
        { channel: 'diff' },
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
