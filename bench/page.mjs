// What the browser benchmarks share: the production build served by `vite preview` on a port
// of their own, and Debian's chromium through playwright-core (the flags DEVELOPERS.md names).
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');

/**
 * Builds the app into dist/bench-PORT (unless `build` is false; `minify` false keeps function
 * names for profiles), serves it, waits until it answers; `stop()` ends the server, and so does
 * the process's exit or SIGINT/SIGTERM.
 */
export async function servePage({ port, build = true, minify = true }) {
  const out = resolve(ROOT, 'dist', `bench-${port}`);
  if (build) {
    const args = [
      'vite',
      'build',
      '--logLevel',
      'warn',
      '--outDir',
      out,
      ...(minify ? [] : ['--minify', 'false']),
    ];
    const b = spawnSync('npx', args, { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('vite build failed');
  }
  const server = spawn('npx', ['vite', 'preview', '--outDir', out, '--port', String(port), '--strictPort'], {
    cwd: ROOT,
    stdio: 'ignore',
    detached: true,
  });
  const stop = () => {
    try {
      process.kill(-server.pid);
    } catch {}
  };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.on(sig, () => {
      stop();
      process.exit(130);
    });
  const base = `http://localhost:${port}/`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(base)).ok) break;
    } catch {}
    if (i > 100) throw new Error('vite preview did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base, stop };
}

/** Debian's chromium, headless, as the e2e tests run it. */
export const launchChromium = () =>
  chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
