/**
 * Which view of the page's source the page shows: the chain as opened, or an internal
 * snapshot's L1 (the store's `snapshot`), zero-scanned when the person asked (scan.ts). Views are keys the worker builds and keeps
 * (core/interpret/viewSource.ts text form); nothing is replaced or mirrored.
 */
import { formatView } from '../core/interpret/viewSource.ts';
import type { ChainInfo, RasterInfo } from '../protocol/source.ts';
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

/**
 * A source as a key for what the page asks of it: its id, and for an image still opening how
 * far its map reaches, so that bins and lanes asked during the open are asked again when it grows.
 */
export const sourceKey = (s: RasterInfo): string =>
  'complete' in s ? `${s.id}@${(s as ChainInfo).complete ? 'all' : (s as ChainInfo).mappedEnd}` : `${s.id}`;
