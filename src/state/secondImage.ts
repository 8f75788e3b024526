/**
 * Opening the diff view's image B: the files picked for side B go to the worker, which opens
 * them as a chain of their own (its slot 'b'); the store keeps what it is, the diff spec (and so
 * the URL) names it. When the spec already named an image B that is not open (a link was
 * opened), the image given is checked against it, as the page's image is checked against the
 * link's.
 */
import type { ChainInfo } from '../protocol/source.ts';
import { asIdentity, DEFAULT_DIFF, identityOfSecond } from './diff.ts';
import type { Caller } from './loader.ts';
import { compareImages } from './permalink.ts';
import type { Store } from './store.ts';

/** Opens `files` as image B; rejects as the client does (nothing in the store changes then). */
export async function openSecondImage(
  store: Store,
  client: Caller,
  files: readonly File[],
  onProgress?: (phase: string, done: number, total: number) => void,
): Promise<ChainInfo> {
  const { info } = await client.call(
    'open',
    { slot: 'b', from: { kind: 'files', files } },
    { channel: 'open:b', ...(onProgress && { onProgress }) },
  );
  const s = store.getState();
  // A view of the whole page image becomes a view of the whole comparison (B may be longer).
  const whole = s.chain !== undefined && s.view.start === 0 && s.view.end === s.chain.length;
  const linked = s.second ? undefined : s.diff?.bImage;
  if (linked) {
    const c = compareImages(asIdentity(linked), asIdentity(identityOfSecond(info)));
    s.notify(c.same ? 'info' : 'warn', `Image B: ${c.message}`);
  }
  s.setSecond(info);
  s.setDiff({ ...(s.diff ?? DEFAULT_DIFF), bImage: identityOfSecond(info) });
  if (whole) s.resetView();
  return info;
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
