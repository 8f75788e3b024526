import { expect, test } from '@playwright/test';
import { cellCentre, dropAndWait, fixture, openApp } from './helpers.ts';

test('after load, nothing leaves the page: drops, hovers, clicks and zooms make no request', async ({
  page,
}) => {
  const requests: string[] = [];
  await openApp(page);
  page.on('request', (r) => requests.push(r.url()));
  await dropAndWait(
    page,
    ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture('chain-3', n)),
  );
  const canvas = page.getByTestId('heatmap-canvas');
  await canvas.hover({ position: await cellCentre(page, 2) });
  await expect(page.getByRole('tooltip')).toBeVisible();
  await canvas.click({ position: await cellCentre(page, 2) });
  await expect(page.getByTestId('inspector')).toContainText('Why');
  await page.mouse.wheel(0, -300);
  await page.getByLabel('Allocation depth', { exact: true }).check();
  await page.waitForTimeout(300);
  expect(requests).toEqual([]);
});

test('the start-up load stays on this origin', async ({ page, baseURL }) => {
  const origins = new Set<string>();
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
  await openApp(page);
  expect([...origins]).toEqual([new URL(baseURL!).origin]);
});
