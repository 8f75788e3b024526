/**
 * What an open reads, as named byte sources the engine opens alike: dropped files (Blob reads),
 * a remote image and its backing files (HTTP range requests), or the sandbox's images; and the
 * pace at which an open reports on itself.
 */
import type { OpenFrom } from '../protocol/calls.ts';
import { BlobSource } from './blobSource.ts';
import { type DroppedChain, openDropped } from './chainFiles.ts';
import { openRemoteChain } from './remoteSource.ts';
import type { Sandbox } from './sandbox.ts';

export type Progress = (phase: string, done: number, total: number) => void;

/** The chain an open names: its files matched into a chain, the gap named if one is missing. */
export async function openSources(
  from: Exclude<OpenFrom, { kind: 'maps' }>,
  sandbox: Sandbox,
  progress: Progress,
  signal: AbortSignal,
): Promise<DroppedChain> {
  if (from.kind === 'url') return openRemote(from, progress, signal);
  const named =
    from.kind === 'files'
      ? from.files.map((f) => ({ name: f.name, source: new BlobSource(f.name, f) }))
      : sandbox.sources(from.top);
  progress('opening', 0, 1);
  return openDropped(named);
}

/**
 * A remote image and its backing files, read with the page's fetch (worker/remoteSource.ts);
 * aborting `signal` aborts every request. A backing file on an origin nobody allowed is not
 * read: the chain stops above it, and its URL goes with the missing backing so the page can ask.
 */
async function openRemote(
  from: Extract<OpenFrom, { kind: 'url' }>,
  progress: Progress,
  signal: AbortSignal,
): Promise<DroppedChain> {
  const stats = { requests: 0, bytes: 0, asked: 0 };
  const remote = await openRemoteChain(
    from.url,
    { fetch: (u, init) => fetch(u, init), stats, signal },
    from.origins ?? [],
    (name, depth) =>
      progress(
        `fetching ${name} (layer ${depth + 1}): ${stats.requests} requests, ${stats.bytes} bytes`,
        depth,
        depth + 1,
      ),
  );
  progress('opening', 0, 1);
  const dropped = await openDropped(remote.sources);
  const b = remote.blocked;
  const mb = dropped.missingBacking;
  return b && mb?.name === b.name ? { ...dropped, missingBacking: { ...mb, blockedUrl: b.url } } : dropped;
}

/** The name an open's errors carry when no file could be read. */
export function openName(from: OpenFrom): string {
  switch (from.kind) {
    case 'files':
      return from.files[0]?.name ?? '';
    case 'url':
      return from.url;
    case 'sandbox':
      return from.top;
    case 'maps': {
      const m = from.maps[0];
      return m?.kind === 'file' ? m.file.name : m?.kind === 'text' ? m.name : (m?.fromFile ?? 'link');
    }
  }
}

/**
 * Time between two partial maps of an open; the first is posted without waiting (it paints the
 * first cells). Each one costs a chain resolve and the page's redraw, so they are not posted per
 * L2 table.
 */
export const PARTIAL_INTERVAL_MS = 250;

/** Time between two progress events: each one re-renders the page (2048 tables = 2048 renders). */
export const PROGRESS_INTERVAL_MS = 50;

/**
 * Share of an open's time its partial maps may take. Each one resolves the chain read so far
 * and bins it for the heatmap, so its cost grows with the extents read: with a fixed interval a
 * shared-L2 image of 1 M extents spent 40 of its 41 s on partial maps (0.4-0.9 s each, one per
 * L2 table once each cost more than the interval). The next partial waits until the time
 * spent on partials is at most this share of the time since the open began.
 */
export const PARTIAL_TIME_SHARE = 0.25;

/**
 * The longest the worker computes while an open or a view scans before it lets its event loop
 * turn (core/cancel.ts checkpoint()): a cancel or a newer open is seen within this. A turn
 * costs well under a millisecond, so 50 ms costs the scan nothing and keeps the page's
 * superseding prompt (state/client.ts SUPERSEDE_MS is 40 times longer).
 */
export const YIELD_MS = 50;

/** Runs in a later task (not a microtask): messages queued meanwhile are handled first. */
export function nextTask(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}

/** A Cancellation.pause for core's scans: a turn of the event loop once YIELD_MS have passed. */
export function yielder(now: () => number = () => performance.now()): () => Promise<void> | undefined {
  let last = now();
  return () => {
    const t = now();
    if (t - last < YIELD_MS) return undefined;
    return nextTask().then(() => {
      last = now();
    });
  };
}

/**
 * Paces an open's partial maps: `due()` says whether one may be made now (the first at once,
 * then PARTIAL_INTERVAL_MS apart at least, and within PARTIAL_TIME_SHARE of the open's time);
 * `spent(ms)` adds what one cost.
 */
export function partialPacer(now: () => number = () => performance.now()) {
  const began = now();
  let last = Number.NEGATIVE_INFINITY;
  let cost = 0;
  return {
    due(): boolean {
      const t = now();
      if (t - last < PARTIAL_INTERVAL_MS || cost > PARTIAL_TIME_SHARE * (t - began)) return false;
      last = t;
      return true;
    },
    spent(ms: number): void {
      cost += ms;
    },
  };
}

/** True when an event is due: the first, a final one, or `interval` after the previous. */
export function throttle(
  interval: number,
  now: () => number = () => performance.now(),
): (final?: boolean) => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return (final = false) => {
    const t = now();
    if (!final && t - last < interval) return false;
    last = t;
    return true;
  };
}
