/**
 * The Content-Security-Policies, one directive per line with its reason. vite.config.ts writes
 * the page's into index.html as a <meta> (static hosting has no headers to set) and sends it as a
 * header from `vite preview`; e2e/security.spec.ts asserts it. The build gets the strict policy;
 * the dev server a relaxed one, because Vite's dev client injects inline <style> tags (CSS hot
 * reload) and the React refresh preamble is an inline script.
 *
 * Where the fetches run decides the policies. The page fetches only from its own origin (the
 * samples); remote images are read by the image reader, a module worker. A dedicated worker
 * loaded from a URL is not governed by the page's policy, <meta> or header: it runs under the
 * policy of its own script's response (CSP 3, "initialize a worker's policy"; Chromium does so).
 * So the page's connect-src is 'self', and WORKER_CSP, sent only with the worker's script, is
 * the one place any http(s) origin is allowed. Under static hosting without headers the worker
 * has no policy at all; a host that can set headers should send WORKER_CSP with it as
 * `vite preview` does (it tells the script by Sec-Fetch-Dest: worker).
 */
export const STRICT_CSP: Readonly<Record<string, string>> = {
  // Nothing is allowed unless named below (fonts, media, frames, manifests: none are used).
  'default-src': "'none'",
  // Only the bundle's own files: no inline scripts, no eval/new Function, no CDN.
  'script-src': "'self'",
  // The image reader is a module worker built to its own file on this origin; no blob: or data: workers.
  'worker-src': "'self'",
  // The bundle's CSS file only. React's `style` props are applied through the CSSOM
  // (element.style), which style-src does not govern; no inline <style> or style="" markup is used.
  'style-src': "'self'",
  // The favicon is a data: SVG; canvases are drawn in-page and never loaded by URL.
  'img-src': "'self' data:",
  // The page itself fetches only the samples and their index, from this origin. Remote images
  // are read in the worker (WORKER_CSP); nothing on the page may reach another host.
  'connect-src': "'self'",
  // No plugins (Flash, PDF embeds): nothing that runs outside this policy.
  'object-src': "'none'",
  // No <base> element may move relative URLs (the worker and chunks load by relative URL).
  'base-uri': "'none'",
  // The page has no forms that submit anywhere.
  'form-action': "'none'",
};

/**
 * The image reader's policy (worker/worker.ts), sent with its script only. It reads remote images
 * with HTTP range requests from a URL the person typed or allowed (worker/remoteSource.ts; the
 * page asks before any host the person did not type, state/remoteConsent.ts), so any http(s)
 * origin must be reachable from here; that is all it may do besides loading its own modules.
 */
export const WORKER_CSP: Readonly<Record<string, string>> = {
  // Nothing is allowed unless named below.
  'default-src': "'none'",
  // Its own module chunks, from this origin; no eval, no importScripts from elsewhere.
  'script-src': "'self'",
  // Remote images, by range requests (http: also matches https: in CSP 3; both are named).
  'connect-src': 'http: https:',
};

/** Relaxed for `vite` (dev only): inline styles and the refresh preamble, the HMR websocket. */
export const DEV_CSP: Readonly<Record<string, string>> = {
  ...STRICT_CSP,
  'script-src': "'self' 'unsafe-inline'",
  'style-src': "'self' 'unsafe-inline'",
  'connect-src': "'self' ws: wss:",
};

/** Only honoured as a header, never in a <meta>: nobody may frame the page (clickjacking). */
export const HEADER_ONLY_CSP: Readonly<Record<string, string>> = { 'frame-ancestors': "'none'" };

export const cspString = (p: Readonly<Record<string, string>>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k} ${v}`)
    .join('; ');
