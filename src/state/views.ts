/**
 * Which view of the page's source the page shows: the chain as opened, or an internal
 * snapshot's L1 (the store's `snapshot`), zero-scanned when the person asked (scan.ts). Views are keys the worker builds and keeps
 * (core/interpret/viewSource.ts text form); nothing is replaced or mirrored.
 */
import { formatView } from '../core/interpret/viewSource.ts';
import { scannedKey } from './scan.ts';
import type { AppState } from './store.ts';

/** The view the person chose (chain or snapshot), without the content scan. */
export const chosenView = (s: Pick<AppState, 'snapshot' | 'chain'>): string =>
  s.snapshot !== undefined && s.chain?.kind === 'image'
    ? formatView({ backing: 'chain', snapshot: s.snapshot })
    : '';

/** The view the page shows: the chosen one, zero-scanned once a scan of it is read and shown. */
export const viewKey = (s: Pick<AppState, 'snapshot' | 'chain' | 'scan'>): string => {
  const chosen = chosenView(s);
  return s.scan?.status === 'done' && s.scan.shown && s.scan.view === chosen ? scannedKey(chosen) : chosen;
};
