/**
 * Open an image by URL: the worker reads only its metadata with HTTP Range requests and
 * resolves backing files relative to the URL (worker/remoteSource.ts). The server must answer
 * 206 and, from another origin, allow CORS (Range header; expose Content-Range). The person typed
 * the address, so its host is not asked about again; a backing file on another host is.
 */
import { useState } from 'react';
import { openTypedUrl } from '../../state/permalinkOpen.ts';
import { useServices } from '../appContext.ts';

export function RemoteOpen() {
  const { store, client } = useServices();
  const [url, setUrl] = useState('');
  return (
    <form
      className="panel remote"
      aria-label="Open by URL"
      onSubmit={(e) => {
        e.preventDefault();
        if (url.trim()) void openTypedUrl(store, client, url.trim());
      }}
    >
      <h2>Open by URL</h2>
      <label>
        http(s) URL of a qcow2 or raw image{' '}
        <input
          type="url"
          value={url}
          placeholder="https://example.org/images/top.qcow2"
          onChange={(e) => setUrl(e.currentTarget.value)}
          size={32}
        />
      </label>{' '}
      <button type="submit">Open</button>
      <p className="muted">
        Only metadata is fetched (HTTP Range requests); backing files are resolved relative to the URL, and
        one on another server is read only if you allow it.
      </p>
    </form>
  );
}
