/**
 * A worker that crashes or hangs is reported in the page, and the next file gets a fresh one.
 * Nothing in the production build can crash the worker on purpose, so the test wraps the real
 * worker script as it is served: the wrapper throws (or spins for ever) when asked to open a
 * file with a trigger name, and is inert otherwise. The client, the watchdog and the restart
 * under test are the shipped ones.
 */
import { expect, type Page, test } from '@playwright/test';
import { cellCentre, dropAndWait, dropFiles, fixture, openApp } from './helpers.ts';

const TRAP = `
self.addEventListener('message', (ev) => {
  const from = ev.data && ev.data.method === 'open' && ev.data.params && ev.data.params.from;
  const name = from && from.files && from.files[0] && from.files[0].name;
  if (name === 'crash.qcow2') throw new Error('deliberate test crash');
  if (name === 'hang.qcow2') for (;;) {}
});
`;

async function trapWorker(page: Page): Promise<{ loads: number }> {
  const seen = { loads: 0 };
  await page.route(/\/assets\/worker-[\w-]+\.js$/, async (route) => {
    seen.loads++;
    const res = await route.fetch();
    await route.fulfill({ response: res, body: TRAP + (await res.text()) });
  });
  return seen;
}

const errors = (page: Page) => page.getByRole('region', { name: 'Errors and findings' });

test('a worker that throws is reported, and the next file opens in a fresh worker', async ({ page }) => {
  const seen = await trapWorker(page);
  await openApp(page);
  expect(seen.loads).toBe(1);
  await dropFiles(page, [{ ...fixture('chain-3', 'top.qcow2'), name: 'crash.qcow2' }]);
  await expect(errors(page)).toContainText('the image reader stopped');
  await expect(errors(page)).toContainText('deliberate test crash');
  await expect(errors(page)).toContainText('crash.qcow2');
  await expect(page.getByTestId('heatmap-canvas')).toHaveCount(0);

  await dropAndWait(page, [fixture('compressed-zlib', 'top.qcow2')]);
  await expect(page.locator('.app-header .files')).toHaveText('top.qcow2');
  await expect(errors(page)).toHaveCount(0);
  expect(seen.loads).toBe(2);
  // The fresh worker keeps answering: select a cell and the inspector explains it.
  await page.getByTestId('heatmap-canvas').click({ position: await cellCentre(page, 0) });
  await expect(page.getByTestId('inspector')).toContainText('Why');
});

test('a worker that stops answering is reported by the watchdog, then replaced', async ({ page }) => {
  test.setTimeout(90_000);
  const seen = await trapWorker(page);
  await openApp(page);
  await dropFiles(page, [{ ...fixture('chain-3', 'top.qcow2'), name: 'hang.qcow2' }]);
  await expect(errors(page)).toContainText('the image reader stopped', { timeout: 40_000 });
  await expect(errors(page)).toContainText('did not answer');
  await dropAndWait(page, [fixture('extl2', 'top.qcow2')]);
  await expect(page.locator('.heatmap-caption')).toContainText('32 subclusters each');
  expect(seen.loads).toBe(2);
});
