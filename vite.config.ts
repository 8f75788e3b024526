import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { cspString, DEV_CSP, HEADER_ONLY_CSP, STRICT_CSP, WORKER_CSP } from './src/csp.ts';

/** Writes the Content-Security-Policy <meta> first in <head>: strict in the build, relaxed in dev (src/csp.ts). */
function csp(): Plugin {
  let policy = STRICT_CSP;
  return {
    name: 'clusterscope-csp',
    configResolved(c) {
      policy = c.command === 'build' ? STRICT_CSP : DEV_CSP;
    },
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: cspString(policy) },
        injectTo: 'head-prepend',
      },
    ],
  };
}

/**
 * `vite preview` serves the build with the policies as headers: the page's (plus
 * frame-ancestors, which only a header can carry) for everything, and the image reader's for
 * the script the browser loads as a worker (Sec-Fetch-Dest: worker), which a worker runs under
 * instead of the page's (src/csp.ts).
 */
function cspHeaders(): Plugin {
  const page = cspString({ ...STRICT_CSP, ...HEADER_ONLY_CSP });
  const worker = cspString(WORKER_CSP);
  return {
    name: 'clusterscope-csp-headers',
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        res.setHeader('Content-Security-Policy', req.headers['sec-fetch-dest'] === 'worker' ? worker : page);
        next();
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), csp(), cspHeaders()],
  worker: { format: 'es' },
  // dist/web, beside dist/cli (the CLI bundle), so building one never deletes the other.
  build: { target: 'es2022', sourcemap: true, outDir: 'dist/web' },
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Forks, not threads: CLI parity tests chdir into fixture folders, as qemu-img was run there.
    pool: 'forks',
    testTimeout: 60_000,
  },
});
