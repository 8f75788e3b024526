/**
 * The question the page asks before reading from a host the person did not type
 * (state/remoteConsent.ts): a link's image URL, shown whole, or a remote image's backing file on
 * another origin, named with that origin. Nothing is requested until the person says so.
 */
import { useEffect, useRef } from 'react';
import { answer } from '../../state/remoteConsent.ts';
import { useApp, useServices } from '../appContext.ts';
import './share.css';

export function RemoteAsk() {
  const { store } = useServices();
  const ask = useApp((s) => s.remote.ask);
  const box = useRef<HTMLElement>(null);
  // The question may come from a form far down the side column: bring it into view, and focus
  // it (not a button: Enter must not answer a question nobody has read).
  useEffect(() => {
    if (!ask) return;
    box.current?.scrollIntoView({ block: 'nearest' });
    box.current?.focus({ preventScroll: true });
  }, [ask]);
  if (!ask) return null;
  const to = new URL(ask.url);
  return (
    <section
      className="link-notices remote-ask"
      role="alertdialog"
      aria-label="Read from another server?"
      data-testid="remote-ask"
      ref={box}
      tabIndex={-1}
    >
      <div className="notice notice-warn">
        {ask.kind === 'link' ? (
          <p>
            This link asks to read a disk image from <strong>{to.host}</strong>: <code>{ask.url}</code>
          </p>
        ) : (
          <p>
            <strong>{ask.from}</strong> names its backing file <strong>{ask.name}</strong>
            {ask.name !== ask.url && (
              <>
                , at <code>{ask.url}</code>
              </>
            )}
            : on <strong>{to.origin}</strong>, not on the image's own server ({new URL(ask.imageUrl).origin}).
          </p>
        )}
        <p>
          Nothing has been requested from {to.origin} yet. Reading sends HTTP range requests from your
          browser, on your network, to that address (metadata only; nothing is uploaded).
          {ask.kind === 'backing' && ` Until then the map shows ${ask.from} without its backing file.`}
        </p>
      </div>
      <button type="button" onClick={() => answer(store, true)}>
        Read from {to.host}
      </button>
      <button type="button" onClick={() => answer(store, false)}>
        Don't read it
      </button>
    </section>
  );
}
