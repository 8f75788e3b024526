/**
 * The page's Content-Security-Policy, one directive per line with its reason. vite.config.ts
 * writes it into index.html as a <meta> (static hosting has no headers to set) and sends it as
 * a header from `vite preview`; e2e/security.spec.ts asserts it. The build gets the strict
 * policy; the dev server a relaxed one, because Vite's dev client injects inline <style> tags
 * (CSS hot reload) and the React refresh preamble is an inline script.
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
  // Samples come from this origin. Remote images are read with HTTP range requests from a
  // URL the user types, so any http(s) origin must be reachable; script-src is what keeps an
  // injected script from using that to send data away (none can run).
  'connect-src': "'self' http: https:",
  // No plugins (Flash, PDF embeds): nothing that runs outside this policy.
  'object-src': "'none'",
  // No <base> element may move relative URLs (the worker and chunks load by relative URL).
  'base-uri': "'none'",
  // The page has no forms that submit anywhere.
  'form-action': "'none'",
};

/** Relaxed for `vite` (dev only): inline styles and the refresh preamble, the HMR websocket. */
export const DEV_CSP: Readonly<Record<string, string>> = {
  ...STRICT_CSP,
  'script-src': "'self' 'unsafe-inline'",
  'style-src': "'self' 'unsafe-inline'",
  'connect-src': "'self' ws: wss: http: https:",
};

/** Only honoured as a header, never in a <meta>: nobody may frame the page (clickjacking). */
export const HEADER_ONLY_CSP: Readonly<Record<string, string>> = { 'frame-ancestors': "'none'" };

export const cspString = (p: Readonly<Record<string, string>>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k} ${v}`)
    .join('; ');
