/**
 * The diff view's second image (issue 4: "two different files"): opened from the files picked
 * for side B, beside the page's own chain, into a Session of its own. Matching by backing file
 * name, the walk and its limits are the same as for a drop (chainFiles.ts, core/status).
 */
import { chainStatus } from '../core/status/resolve.ts';
import { BlobSource } from './blobSource.ts';
import { openDropped } from './chainFiles.ts';
import type { DiffChainInfo } from './diffProtocol.ts';
import { toErrorInfo } from './errorInfo.ts';
import { gridClusterSize, Session } from './session.ts';

export interface SecondOpenOptions {
  readonly signal: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

export async function openSecondChain(files: readonly File[], opts: SecondOpenOptions): Promise<Session> {
  const dropped = await openDropped(files.map((f) => ({ name: f.name, source: new BlobSource(f.name, f) })));
  const st = await chainStatus(dropped.chain, {
    signal: opts.signal,
    ...(opts.onProgress && { onProgress: opts.onProgress }),
  });
  const s = new Session(dropped, st);
  await s.fingerprint();
  return s;
}

/** What the diff view shows of a second image: names, size, identity, what went wrong. */
export async function secondChainInfo(s: Session): Promise<DiffChainInfo> {
  const st = s.status;
  const d = s.dropped;
  return {
    files: st.chain.layers.map((l) => l.name),
    length: st.length,
    clusterSize: gridClusterSize(st.chain),
    fingerprint: await s.fingerprint(),
    ...(d.missingBacking && { missingBacking: d.missingBacking }),
    rejected: d.rejected,
    unused: d.unused,
    ...(st.error && { error: toErrorInfo(st.error) }),
  };
}
