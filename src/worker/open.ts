/**
 * What an open reads, as named byte sources the engine opens alike: dropped files (Blob reads),
 * a remote image and its backing files (HTTP range requests), or the sandbox's images; and the
 * pace at which an open reports on itself.
 */
import type { OpenFrom } from '../protocol/calls.ts';
import { BlobSource } from './blobSource.ts';
import type { NamedSource } from './chainFiles.ts';
import { openRemoteChain } from './remoteSource.ts';
import type { Sandbox } from './sandbox.ts';

export type Progress = (phase: string, done: number, total: number) => void;

export async function namedSources(
  from: Exclude<OpenFrom, { kind: 'maps' }>,
  sandbox: Sandbox,
  progress: Progress,
): Promise<NamedSource[]> {
  if (from.kind === 'files')
    return from.files.map((f) => ({ name: f.name, source: new BlobSource(f.name, f) }));
  if (from.kind === 'sandbox') return sandbox.sources(from.top);
  const stats = { requests: 0, bytes: 0 };
  return openRemoteChain(
    from.url,
    (u, init) => fetch(u, init),
    stats,
    (name, depth) =>
      progress(
        `fetching ${name} (layer ${depth + 1}): ${stats.requests} requests, ${stats.bytes} bytes`,
        depth,
        depth + 1,
      ),
  );
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
