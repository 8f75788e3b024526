import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { cspString, DEV_CSP, HEADER_ONLY_CSP, STRICT_CSP } from './src/csp.ts';

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

export default defineConfig({
  plugins: [react(), csp()],
  // vite preview serves the build with the policy as a header too, so the worker script (which
  // a <meta> does not cover) runs under it, plus frame-ancestors, which only a header can carry.
  preview: { headers: { 'Content-Security-Policy': cspString({ ...STRICT_CSP, ...HEADER_ONLY_CSP }) } },
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
