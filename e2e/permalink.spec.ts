/**
 * Permalinks (issue 5): a shared link opens the same view when the recipient drops the same
 * image; a different image is named; a link with a map shows the map with no file; a mangled
 * hash gives a message and the default view. Reads what a person sees: text, pixels, URLs.
 */
import { mkdirSync } from 'node:fs';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { cellColour, dropAndWait, fixture, openApp, waitForMap } from './helpers.ts';

const chain3 = () => ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture('chain-3', n));
const SHOTS = 'test-results/screenshots';

async function colours(page: Page, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await cellColour(page, i));
  return out;
}

async function fresh(browser: Browser, url: string): Promise<Page> {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(url);
  return p;
}

async function shareFrom(page: Page, withMap: boolean): Promise<string> {
  await page.getByRole('button', { name: withMap ? 'Copy link with map' : 'Copy link', exact: true }).click();
  const link = page.getByTestId('share-link');
  await expect(link).toBeVisible();
  return link.inputValue();
}

test.beforeAll(() => mkdirSync(SHOTS, { recursive: true }));

test('share a link, open it in a fresh page, drop the same files, land on the same view', async ({
  page,
  browser,
}) => {
  await openApp(page);
  await dropAndWait(page, chain3());
  // A hash typed into the address bar of the open page moves the view (as Back/Forward do).
  await page.evaluate(() => {
    window.location.hash = '#range=0x10000-0x50000&sel=0x20000&layers=data,zero,absent,depth';
  });
  await expect(page.locator('.heatmap-caption')).toContainText('0x10000–0x50000 (256 KiB)');
  const url = await shareFrom(page, false);
  expect(url).toMatch(/file=top\.qcow2&file=mid\.qcow2&file=base\.qcow2/);
  expect(url).toMatch(/fp=[0-9a-f]{16}/);
  expect(url).toContain('range=0x10000-0x50000');
  expect(url).not.toMatch(/\/tmp|fixtures|samples/);

  const other = await fresh(browser, url);
  await expect(other.getByTestId('link-notices')).toContainText('Drop them here to open it');
  await expect(other.getByTestId('heatmap-canvas')).toHaveCount(0);
  await dropAndWait(other, chain3());
  await expect(other.locator('.heatmap-caption')).toContainText('0x10000–0x50000 (256 KiB)');
  await expect(other.getByTestId('inspector')).toContainText('Cluster at 0x20000');
  await expect(other.getByLabel('Allocation depth', { exact: true })).toBeChecked();
  await expect(other.getByTestId('link-notices')).toContainText('Same image as the link');
  await other.screenshot({ path: `${SHOTS}/permalink-same-image.png` });

  // Back walks the view history: zoom out deliberately, then go back.
  await other.getByTestId('heatmap-canvas').focus();
  await other.keyboard.press('0');
  await expect.poll(() => other.evaluate(() => window.location.hash)).toContain('range=0x0-0x80000');
  await other.goBack();
  await expect(other.locator('.heatmap-caption')).toContainText('0x10000–0x50000 (256 KiB)');
});

test('a wrong file is flagged, and the view still opens', async ({ page, browser }) => {
  await openApp(page);
  await dropAndWait(page, chain3());
  const url = await shareFrom(page, false);
  const other = await fresh(browser, url);
  await dropAndWait(other, [fixture('compressed-zlib', 'top.qcow2')]);
  await expect(other.getByTestId('link-notices')).toContainText('Different image');
  await expect(other.getByTestId('link-notices')).toContainText('fingerprint');
  await other.screenshot({ path: `${SHOTS}/permalink-wrong-image.png` });
});

test('a link with a map shows the same heatmap with no file at all', async ({ page, browser }) => {
  await openApp(page);
  await dropAndWait(page, chain3());
  const want = await colours(page, 8);
  const url = await shareFrom(page, true);
  expect(url).toContain('map=');
  expect(url.length).toBeLessThan(32 * 1024);
  const other = await fresh(browser, url);
  await waitForMap(other, 0);
  await expect(other.getByTestId('link-notices')).toContainText('Showing the map carried in the link');
  expect(await colours(other, 8)).toEqual(want);
  await expect(other.getByTestId('inspector')).toHaveCount(0);
  await expect(other.locator('.tracks')).toContainText('top.qcow2');
  await other.screenshot({ path: `${SHOTS}/permalink-map-only.png`, fullPage: true });
  // The recipient then drops the image: same image, same view.
  await dropAndWait(other, chain3());
  await expect(other.getByTestId('link-notices')).toContainText('Same image as the link');
});

test('a mangled hash gives a clear message and the default view', async ({ page }) => {
  await page.goto('/#v=2&range=banana&sel=zz&map=%%%');
  await waitForMap(page, 0);
  await expect(page.getByTestId('link-notices')).toContainText("The range 'banana' is not START-END");
  await expect(page.getByTestId('link-notices')).toContainText('Showing the default view');
  await page.screenshot({ path: `${SHOTS}/permalink-mangled.png` });
  // A map cut short: an error naming the link, no crash.
  await page.goto('about:blank');
  await page.goto('/#v=2&file=top.qcow2&map=80vtNjE0MDTiMjAwNjE');
  await expect(page.locator('body')).toContainText(/map in the link/);
  await expect(page.getByRole('heading', { name: 'clusterscope' })).toBeVisible();
});
