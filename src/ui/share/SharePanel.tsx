/**
 * "Copy link" and "Copy link with map". A link with map carries the interpretations' extents
 * (core/share/mapCodec.ts), and while comparing those of the chosen A and B, so a recipient
 * without the image sees the same heatmap, lanes and diff. Links are kept under MAX_LINK_CHARS
 * (permalink.ts says why); a longer one is offered as a map file (.json, versioned) to download
 * instead. What is offered belongs to the map it was made from: another open hides it.
 */
import { useState } from 'react';
import type { ChainInfo } from '../../protocol/source.ts';
import { linkWithHash, MAX_LINK_CHARS, mapFileText } from '../../state/permalink.ts';
import { toHash } from '../../state/url.ts';
import { stateFor } from '../../state/urlSync.ts';
import { useApp, useServices } from '../appContext.ts';
import { download } from '../download.ts';

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function SharePanel() {
  const { store, client } = useServices();
  const chain = useApp((s) => s.chain);
  const [made, setLink] = useState<{ url: string; copied: boolean; note: string; of: ChainInfo }>();
  const [tooLongMade, setTooLong] = useState<{ text: string; name: string; chars: number; of: ChainInfo }>();
  const link = made?.of === chain ? made : undefined;
  const tooLong = tooLongMade?.of === chain ? tooLongMade : undefined;
  if (!chain) return null;

  const plain = async () => {
    const s = store.getState();
    if (!s.chain) return;
    const url = linkWithHash(window.location.href, toHash(stateFor(s)));
    setTooLong(undefined);
    setLink({
      of: s.chain,
      url,
      copied: await copy(url),
      note: 'The recipient drops the same image to land on this view.',
    });
  };
  const withMap = async () => {
    const s = store.getState();
    const of = s.chain;
    if (!of) return;
    // While comparing, A's and B's extents travel too (the recipient's diff view needs them);
    // a B that reads a second image is not the page's to share (the diff source leaves it out).
    const d = s.diffResult.status === 'ready' ? s.diffResult.info : undefined;
    const { payload } = await client.call('share', { source: d?.id ?? of.id });
    const hash = toHash(stateFor(s, payload));
    const url = linkWithHash(window.location.href, hash);
    if (url.length > MAX_LINK_CHARS) {
      const st = stateFor(s);
      const top = st.files?.[0] ?? 'map';
      setLink(undefined);
      setTooLong({
        of,
        text: mapFileText({
          files: st.files ?? [],
          ...(st.image && { image: st.image }),
          map: payload,
          hash: toHash(st),
        }),
        name: `${top}.clusterscope-map.json`,
        chars: url.length,
      });
      return;
    }
    setTooLong(undefined);
    setLink({
      of,
      url,
      copied: await copy(url),
      note: 'The link carries the map: no image needed to see it.',
    });
  };

  return (
    <fieldset className="share" data-testid="share-panel">
      <legend>Share this view</legend>
      <button type="button" onClick={() => void plain()}>
        Copy link
      </button>
      <button type="button" onClick={() => void withMap()}>
        Copy link with map
      </button>
      {link && (
        <p className="share-result" role="status">
          {link.copied ? 'Copied. ' : 'Copy it from here: '}
          <input readOnly aria-label="Share link" data-testid="share-link" value={link.url} size={40} />{' '}
          {link.note}
        </p>
      )}
      {tooLong && (
        <p className="share-result" role="status" data-testid="share-too-long">
          The link with this map would be {tooLong.chars.toLocaleString('en')} characters, over the{' '}
          {MAX_LINK_CHARS / 1024} KiB limit (chat tools, trackers and mail clients cut longer URLs).{' '}
          <button type="button" onClick={() => download(tooLong.text, tooLong.name)}>
            Download map file (.json)
          </button>{' '}
          and send it with a plain link; dropping it here opens the same view.
        </p>
      )}
    </fieldset>
  );
}
