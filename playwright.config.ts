import { defineConfig } from '@playwright/test';

/** CS_E2E_PORT lets several e2e runs (one per developer session) share a machine. */
const port = Number(process.env.CS_E2E_PORT ?? 4173);
const outDir = `dist/e2e-${port}`;

/** e2e against the Vite dev server, driving Debian's chromium (npx playwright install does not work here). */
export default defineConfig({
  testDir: 'e2e',
  // Artifacts only; screenshots the tests take go to test-results/screenshots and survive runs.
  outputDir: 'test-results/artifacts',
  timeout: 60_000,
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${port}`,
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
  // The production build, served by vite preview: what users get, under the same CSP.
  webServer: {
    command: `npx vite build --logLevel warn --outDir ${outDir} && npx vite preview --outDir ${outDir} --port ${port} --strictPort`,
    url: `http://localhost:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
