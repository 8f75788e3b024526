/**
 * The opt-in content scan (issue 11.3): the page's map is the chain as a dense copy reads
 * unless the person asks for the scan, which the worker builds as the `zero-scan` view of the
 * page's view (core/status/zeroScan.ts: what QEMU would answer on files whose holes are exactly
 * their all-zero blocks). Asked in one click with its cost said first, shown with progress,
 * cancellable; once read, the page shows the scanned view until the person turns it off. A new
 * image or another snapshot ends it (a scan of another view is another read, never implied).
 */
import { formatView, parseView } from '../core/interpret/viewSource.ts';
import { type Client, Superseded } from './client.ts';
import type { Store } from './store.ts';

export type { ScanState } from './store.ts';

/** The client channel the scan runs on (one scan at a time; cancel names it). */
export const SCAN_CHANNEL = 'scan';

/** A view key with the content scan added. */
export const scannedKey = (view: string): string => formatView({ ...parseView(view), zeroScan: true });

/** Starts the content scan of the page's current view; resolves when it ends (done, cancelled or failed). */
export async function startScan(store: Store, client: Pick<Client, 'call'>, view: string): Promise<void> {
  const s = store.getState();
  const chain = s.chain;
  if (chain?.kind !== 'image') return;
  const token = s.token;
  const still = () => store.getState().token === token && store.getState().scan?.view === view;
  s.setScan({ status: 'running', done: 0, total: 0, view });
  try {
    const v = await client.call(
      'view',
      { source: chain.id, view: scannedKey(view) },
      {
        channel: SCAN_CHANNEL,
        onProgress: (_phase, done, total) => {
          if (still()) store.getState().setScan({ status: 'running', done, total, view });
        },
      },
    );
    if (!still()) return;
    if (v.scan) store.getState().setScan({ status: 'done', info: v.scan, view, shown: true });
    else store.getState().setScan({ status: 'failed', error: 'the worker did not scan', view });
  } catch (e) {
    if (!still()) return;
    const cancelled = e instanceof Superseded;
    store
      .getState()
      .setScan(
        cancelled
          ? { status: 'cancelled', view }
          : { status: 'failed', error: e instanceof Error ? e.message : String(e), view },
      );
  }
}

/** Stops a running scan: the worker drops what it read, the map stays as it was. */
export function cancelScan(store: Store, client: Pick<Client, 'cancel'>): void {
  const scan = store.getState().scan;
  if (scan?.status !== 'running') return;
  client.cancel(SCAN_CHANNEL);
  store.getState().setScan({ status: 'cancelled', view: scan.view });
}

/** Shows the map with the scan's answers, or without them (the scan stays read). */
export function showScanned(store: Store, shown: boolean): void {
  const scan = store.getState().scan;
  if (scan?.status === 'done') store.getState().setScan({ ...scan, shown });
}
