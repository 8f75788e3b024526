/**
 * The diff the store names, computed in the worker for the open chain (and B's second image,
 * when it names one): one request per change of A, B or either chain; a newer one supersedes
 * (its late answer is dropped here too).
 */
import { useEffect, useMemo, useState } from 'react';
import { secondFor } from '../../state/diff.ts';
import { Superseded } from '../../worker/client.ts';
import { DiffClient, DiffFailed } from '../../worker/diffClient.ts';
import type { DiffSummary } from '../../worker/diffProtocol.ts';
import { useApp, useServices } from '../appContext.ts';

export type DiffResult =
  | { readonly status: 'idle' }
  /** B names a second image that is not open (a link was opened): its files are needed. */
  | { readonly status: 'needs-b' }
  | { readonly status: 'computing' }
  | { readonly status: 'error'; readonly message: string }
  | { readonly status: 'ready'; readonly diffId: number; readonly summary: DiffSummary };

export function useDiffClient(): DiffClient {
  const { client } = useServices();
  return useMemo(() => new DiffClient(client), [client]);
}

export function useDiff(): DiffResult {
  const dc = useDiffClient();
  const spec = useApp((s) => s.diff);
  const openId = useApp((s) => s.openId);
  const ready = useApp((s) => s.chain !== undefined);
  // The second image's id when B names one and it is open (undefined: B reads the page's image).
  const bChain = useApp((s) => secondFor(s.diff, s.second)?.chainId);
  const [r, setR] = useState<DiffResult>({ status: 'idle' });
  useEffect(() => {
    if (!spec || !ready) {
      setR({ status: 'idle' });
      return;
    }
    if (spec.bImage && bChain === undefined) {
      setR({ status: 'needs-b' });
      return;
    }
    let live = true;
    setR({ status: 'computing' });
    const b = bChain === undefined ? spec.b : { ...spec.b, chain: bChain };
    dc.diff(openId, spec.a, b).then(
      ({ diffId, summary }) => {
        if (live) setR({ status: 'ready', diffId, summary });
      },
      (e: unknown) => {
        if (!live || e instanceof Superseded) return;
        setR({ status: 'error', message: e instanceof DiffFailed ? e.error.message : String(e) });
      },
    );
    return () => {
      live = false;
    };
  }, [dc, spec, openId, ready, bChain]);
  return r;
}
