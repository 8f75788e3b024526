/**
 * Opening the diff view's second image: the files picked for side B go to the worker, which
 * opens them as a chain of their own; the store keeps its id, the diff spec (and so the URL)
 * names it. When the spec already named an image B that is not open (a link was opened), the
 * image given is checked against it, as the page's image is checked against the link's.
 */
import type { DiffChainInfo } from '../worker/diffProtocol.ts';
import { asIdentity, DEFAULT_DIFF, identityOfSecond } from './diff.ts';
import { compareImages } from './permalink.ts';
import type { Store } from './store.ts';

export interface SecondOpener {
  open(
    files: readonly File[],
    onProgress?: (phase: string, done: number, total: number) => void,
  ): Promise<{ chainId: number; chain: DiffChainInfo }>;
}

/** Opens `files` as image B; rejects as the opener does (nothing in the store changes then). */
export async function openSecondImage(
  store: Store,
  opener: SecondOpener,
  files: readonly File[],
  onProgress?: (phase: string, done: number, total: number) => void,
): Promise<DiffChainInfo> {
  const { chainId, chain } = await opener.open(files, onProgress);
  const s = store.getState();
  // A view of the whole page image becomes a view of the whole comparison (B may be longer).
  const whole = s.chain !== undefined && s.view.start === 0 && s.view.end === s.chain.length;
  const linked = s.second ? undefined : s.diff?.bImage;
  if (linked) {
    const c = compareImages(asIdentity(linked), asIdentity(identityOfSecond(chain)));
    s.notify(c.same ? 'info' : 'warn', `Image B: ${c.message}`);
  }
  s.setSecond({ chainId, chain });
  s.setDiff({ ...(s.diff ?? DEFAULT_DIFF), bImage: identityOfSecond(chain) });
  if (whole) s.resetView();
  return chain;
}

/** B reads the page's image again. */
export function closeSecondImage(store: Store): void {
  const s = store.getState();
  if (s.diff) {
    const { bImage: _b, ...rest } = s.diff;
    s.setDiff(rest);
  }
  s.setSecond(undefined);
}
