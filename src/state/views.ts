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

/**
 * How far an opening image's map must grow before what walks all of it (the lanes: every
 * interpretation of the map so far, rastered) is asked again. Asked at every partial map, it
 * made opening quadratic: a 16 TiB image of 1 M extents spent 7.5 s of its 23 s open in lanes.
 * Asked each time the mapped end has grown by this factor, all the asks together cost at most
 * 1 / (1 - 1/1.5) = 3 times the last one.
 */
export const REASK_GROWTH = 1.5;

/** sourceKey(), but an opening image's key changes only each time its map grows by REASK_GROWTH. */
export const pacedSourceKey = (s: RasterInfo): string => {
  if (!('complete' in s) || (s as ChainInfo).complete) return sourceKey(s);
  const end = (s as ChainInfo).mappedEnd;
  return `${s.id}@g${end > 0 ? Math.floor(Math.log(end) / Math.log(REASK_GROWTH)) : 0}`;
};
