import { expect, test } from '@playwright/test';
import { waitForMap } from './helpers.ts';

test('a permalink opens its sample, view range, layers and selection; zooming rewrites it', async ({
  page,
}) => {
  await page.goto('/#v=1&sample=chain-3&view=10000-50000&layers=data,zero,absent,depth&sel=20000');
  await waitForMap(page, 0);
  await expect(page.locator('.app-header .files')).toHaveText('top.qcow2, mid.qcow2, base.qcow2');
  await expect(page.locator('.heatmap-caption')).toContainText('0x10000–0x50000 (256 KiB)');
  await expect(page.getByLabel('Allocation depth', { exact: true })).toBeChecked();
  await expect(page.getByTestId('inspector')).toContainText('Cluster at 0x20000');
  await page.getByTestId('heatmap-canvas').focus();
  await page.keyboard.press('0');
  await expect.poll(() => page.evaluate(() => window.location.hash)).toContain('range=0x0-0x80000');
  expect(await page.evaluate(() => window.location.hash)).toContain('sample=chain-3');
});
