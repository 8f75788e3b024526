/**
 * Which view of the page's source the page shows: the chain as opened, or an internal
 * snapshot's L1 (the store's `snapshot`). Views are keys the worker builds and keeps
 * (core/interpret/viewSource.ts text form); nothing is replaced or mirrored.
 */
import { formatView } from '../core/interpret/viewSource.ts';
import type { AppState } from './store.ts';

export const viewKey = (s: Pick<AppState, 'snapshot' | 'chain'>): string =>
  s.snapshot !== undefined && s.chain?.kind === 'image'
    ? formatView({ backing: 'chain', snapshot: s.snapshot })
    : '';
