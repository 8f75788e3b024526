import { defineConfig } from '@playwright/test';

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
    baseURL: 'http://localhost:4173',
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
  webServer: {
    command: 'npx vite --port 4173 --strictPort',
    url: 'http://localhost:4173',
    reuseExistingServer: true,
    timeout: 60_000,
  },
});
