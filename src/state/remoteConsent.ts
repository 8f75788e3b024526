/**
 * Asking before the page reads from a host the person did not type (issue 15 point 5): the URL a
 * link names (its author chose it, not the person opening it; `url=http://169.254.169.254/...`
 * would otherwise be requested the moment the link opens), and a remote image's backing file on
 * another origin than the image's (the image's bytes chose it). The question is store state (the
 * page shows it); the open that asked waits here for the answer.
 */
import type { RemoteAsk, Store } from './store.ts';

export { NO_CONSENT, type RemoteAsk, type RemoteConsent } from './store.ts';

/** The person's answer; 'gone' when the question went away unanswered (a newer open or question). */
export type Answer = 'yes' | 'no' | 'gone';

const waiting = new WeakMap<Store, (a: Answer) => void>();

export const originOf = (url: string): string => new URL(url).origin;

/** True when the person typed or allowed `url`'s origin in this page's life. */
export const trusted = (store: Store, url: string): boolean =>
  store.getState().remote.origins.includes(originOf(url));

/** Remembers that the person typed or allowed `url`'s origin. */
export function trust(store: Store, url: string): void {
  const r = store.getState().remote;
  const o = originOf(url);
  if (!r.origins.includes(o)) store.getState().setRemote({ ...r, origins: [...r.origins, o] });
}

/**
 * Shows `ask` and resolves with the answer. A newer question replaces it, and any new open (a
 * drop, a sample) makes it moot: both resolve it with 'gone'.
 */
export function askFirst(store: Store, ask: RemoteAsk): Promise<Answer> {
  waiting.get(store)?.('gone');
  return new Promise((resolve) => {
    const token = store.getState().token;
    const done = (a: Answer) => {
      if (waiting.get(store) !== done) return;
      waiting.delete(store);
      unsubscribe();
      const { ask: _, ...rest } = store.getState().remote;
      store.getState().setRemote(rest);
      resolve(a);
    };
    const unsubscribe = store.subscribe((s) => {
      if (s.token !== token) done('gone');
    });
    waiting.set(store, done);
    store.getState().setRemote({ ...store.getState().remote, ask });
  });
}

/** The person answered the question on screen. */
export function answer(store: Store, yes: boolean): void {
  waiting.get(store)?.(yes ? 'yes' : 'no');
}
