/**
 * Opening image B from the diff view (file picker or a drop on the view): progress and errors
 * for the control, the store updated by state/secondImage.ts. A newer open supersedes.
 */
import { useCallback, useState } from 'react';
import type { ErrorInfo } from '../../protocol/errors.ts';
import { CallFailed, Superseded } from '../../state/client.ts';
import { errorOf } from '../../state/loader.ts';
import { openSecondImage } from '../../state/secondImage.ts';
import { useServices } from '../appContext.ts';

export type SecondOpenState =
  | { readonly status: 'idle' }
  | { readonly status: 'opening'; readonly names: string; readonly phase: string; readonly pct: number }
  | { readonly status: 'error'; readonly errors: readonly ErrorInfo[] };

export function useSecondImage(): [SecondOpenState, (files: readonly File[]) => void] {
  const { store, client } = useServices();
  const [state, setState] = useState<SecondOpenState>({ status: 'idle' });
  const open = useCallback(
    (files: readonly File[]) => {
      if (!files.length) return;
      const names = files.map((f) => f.name).join(', ');
      setState({ status: 'opening', names, phase: 'opening', pct: 0 });
      openSecondImage(store, client, files, (phase, done, total) =>
        setState({ status: 'opening', names, phase, pct: total > 0 ? Math.round((100 * done) / total) : 0 }),
      ).then(
        () => setState({ status: 'idle' }),
        (e: unknown) => {
          if (e instanceof Superseded) return;
          const errors: readonly ErrorInfo[] =
            e instanceof CallFailed ? e.files : [errorOf(e, names, 'image B')];
          setState({ status: 'error', errors });
        },
      );
    },
    [store, client],
  );
  return [state, open];
}
