/**
 * Permalinks (issue 5): a shared link opens the same view when the recipient drops the same
 * image; a different image is named; a link with a map shows the map with no file, the diff
 * too while comparing; a hash changed in the open page to another map shows it; a map too long
 * for a link travels as a map file; the snapshot shown is in the link; a mangled hash gives a
 * message and the default view. Reads what a person sees: text, pixels, URLs, downloads.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { Qcow2Writer } from '../src/core/write/qcow2Writer.ts';
import {
  colours,
  type DropFile,
  dropAndWait,
  fixture,
  fresh,
  openApp,
  openId,
  shareFrom,
  waitForMap,
} from './helpers.ts';

const chain3 = () => ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture('chain-3', n));
const SHOTS = 'test-results/screenshots';

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

const imagePanel = (page: Page) => page.getByRole('region', { name: 'Image' });
const firstRow = (page: Page) =>
  page
    .getByRole('region', { name: 'qemu-img map rows in view' })
    .getByTestId('extent-rows')
    .getByRole('row')
    .nth(0);
/** Snapshot s1 of the snapshots sample: data at 0..0x20000 mapped to 0x50000 (clusterscope map --snapshot=s1). */
const S1_FIRST_ROW = /^0x0128 KiB0yesnoyes0x50000$/;

test('the snapshot chosen in the Image panel is in the URL and the link; the recipient sees that snapshot; Back returns to the active L1', async ({
  page,
  browser,
}) => {
  await openApp(page);
  await dropAndWait(page, [fixture('snapshots', 'top.qcow2')]);
  await expect(firstRow(page)).not.toContainText('128 KiB');
  // A deliberate step (after the history settles) is its own history entry.
  await page.waitForTimeout(700);
  await imagePanel(page).getByRole('button', { name: 'View s1' }).click();
  await expect(imagePanel(page).getByTestId('map-source')).toContainText('snapshot s1');
  await expect(firstRow(page)).toContainText(S1_FIRST_ROW);
  await expect.poll(() => page.evaluate(() => window.location.hash)).toContain('snap=s1');
  const url = await shareFrom(page, false);
  expect(url).toContain('snap=s1');

  const other = await fresh(browser, url);
  await dropAndWait(other, [fixture('snapshots', 'top.qcow2')]);
  await expect(imagePanel(other).getByTestId('map-source')).toContainText('snapshot s1');
  await expect(firstRow(other)).toContainText(S1_FIRST_ROW);
  await expect(imagePanel(other).getByRole('button', { name: 'View s1' })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await expect(other.getByTestId('link-notices')).toContainText('Same image as the link');

  await page.goBack();
  await expect(imagePanel(page).getByTestId('map-source')).toContainText('the active L1 table');
  await expect(firstRow(page)).not.toContainText('128 KiB');
  expect(await page.evaluate(() => window.location.hash)).not.toContain('snap=');
});

test('a link naming a snapshot opens it once the image is open; one the image lacks is named, and the active L1 shown', async ({
  page,
}) => {
  await page.goto('/#sample=snapshots&snap=s1');
  await waitForMap(page, 0);
  await expect(imagePanel(page).getByTestId('map-source')).toContainText('snapshot s1');
  await expect(firstRow(page)).toContainText(S1_FIRST_ROW);

  await page.goto('about:blank');
  await page.goto('/#sample=snapshots&snap=nope');
  await waitForMap(page, 0);
  await expect(page.getByTestId('link-notices')).toContainText(
    "Snapshot 'nope' cannot be shown for this image",
  );
  await expect(page.getByTestId('link-notices')).toContainText('The map shows the active L1 table.');
  await expect(imagePanel(page).getByTestId('map-source')).toContainText('the active L1 table');
  await expect.poll(() => page.evaluate(() => window.location.hash)).toContain('sample=snapshots');
  expect(await page.evaluate(() => window.location.hash)).not.toContain('snap=');
});

const THREAD = resolve(import.meta.dirname, '../fixtures/images/nbd-hole-2021-thread');
const thread = (name: string): DropFile => ({ name, bytes: readFileSync(resolve(THREAD, name)) });

async function diffCells(page: Page, n: number): Promise<string[]> {
  return page.getByTestId('diff-canvas').evaluate((c, count) => {
    const el = c as HTMLCanvasElement;
    const px = Number(el.dataset.cellPx);
    const cols = Number(el.dataset.cols);
    const s = el.width / el.getBoundingClientRect().width;
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const x = (i % cols) * px + px / 2;
      const y = Math.floor(i / cols) * px + px / 2;
      const d = el.getContext('2d')!.getImageData(Math.floor(x * s), Math.floor(y * s), 1, 1).data;
      out.push(`#${[d[0], d[1], d[2]].map((v) => (v ?? 0).toString(16).padStart(2, '0')).join('')}`);
    }
    return out;
  }, n);
}

test('"Copy link with map" while comparing carries A and B: a recipient without the image sees the same diff', async ({
  page,
  browser,
}) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
  await dropAndWait(page, [thread('top.qcow2'), thread('base.raw')]);
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  await picker.getByLabel('A interpretation').selectOption('nbd-base-allocation-5.2');
  await picker.getByLabel('A view').selectOption('backing-null');
  await picker.getByLabel('B interpretation').selectOption('nbd-base-allocation-6.0');
  await picker.getByLabel('B view').selectOption('backing-null');
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');
  const legend = page.getByTestId('diff-legend');
  await expect(legend.locator('.diff-total')).toHaveText('64 KiB differ in 1 extent; 192 KiB agree.');
  const want = (await legend.textContent()) ?? '';
  const cells = await diffCells(page, 4);

  const url = await shareFrom(page, true);
  expect(decodeURIComponent(url)).toContain('a=nbd-base-allocation-5.2@backing-null');
  expect(url).toContain('map=');
  const other = await fresh(browser, url);
  await other.emulateMedia({ colorScheme: 'light' });
  await expect(other.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');
  await expect(other.getByTestId('link-notices')).toContainText('Showing the map carried in the link');
  await expect(other.getByTestId('inspector')).toHaveCount(0); // no image: a map-only page
  await expect(other.getByTestId('diff-legend')).toHaveText(want);
  await expect(other.getByTestId('diff-legend').locator('li[data-kind="a2-b3"] .diff-bytes')).toHaveText(
    '64 KiB',
  );
  expect(await diffCells(other, 4)).toEqual(cells);
  const row = other.getByRole('region', { name: 'Differing extents' }).locator('.diff-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('cluster 2');
  await other.screenshot({ path: `${SHOTS}/permalink-diff-map-only.png`, fullPage: true });
});

test('a hash change in the open page to a link with another map shows that map; Back shows the first again', async ({
  page,
  browser,
}) => {
  await openApp(page);
  await dropAndWait(page, chain3());
  const want1 = await colours(page, 8);
  const url1 = await shareFrom(page, true);
  await dropAndWait(page, [fixture('compressed-zlib', 'top.qcow2')]);
  const want2 = await colours(page, 8);
  expect(want2).not.toEqual(want1);
  const url2 = await shareFrom(page, true);
  const map2 = /map=[\w-]+/.exec(url2)![0];

  const other = await fresh(browser, url1);
  await waitForMap(other, 0);
  expect(await colours(other, 8)).toEqual(want1);
  await expect(other.locator('.tracks')).toContainText('mid.qcow2');
  const first = await openId(other);
  await other.evaluate((h) => {
    window.location.hash = h;
  }, new URL(url2).hash);
  await waitForMap(other, first);
  await expect.poll(() => colours(other, 8)).toEqual(want2);
  await expect(other.locator('.tracks')).not.toContainText('mid.qcow2');
  expect(await other.evaluate(() => window.location.hash)).toContain(map2);

  const second = await openId(other);
  await other.goBack();
  await waitForMap(other, second);
  await expect.poll(() => colours(other, 8)).toEqual(want1);
  await expect(other.locator('.tracks')).toContainText('mid.qcow2');
});

/**
 * An image whose map does not fit a link: 32 MiB of 512-byte clusters, about half of them zero
 * clusters at pseudo-random places (xorshift32), so the compressed map is ~50 KB. Written by
 * core's qcow2 writer (valid for QEMU: writer.oracle.test.ts); only L2 tables, no data.
 */
function fragmentedImage(): DropFile {
  const size = 32 * 2 ** 20;
  const w = Qcow2Writer.create({ name: 'fragmented.qcow2', size, clusterBits: 9 });
  let x = 7;
  for (let c = 0; c < size / 512; c++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    if ((x >>> 0) % 2) w.writeZeroes(c * 512, 512);
  }
  return { name: 'fragmented.qcow2', bytes: w.file.bytes() };
}

test('a map too big for a link is offered as a map file; opened back, it lands on the same view', async ({
  page,
}) => {
  await openApp(page);
  const image = fragmentedImage();
  await dropAndWait(page, [image]);
  await page.evaluate(() => {
    window.location.hash = '#range=0x100000-0x140000&sel=0x100200';
  });
  const caption = page.locator('.heatmap-caption');
  await expect(caption).toContainText('0x100000–0x140000 (256 KiB)');
  await expect(page.getByTestId('inspector')).toContainText('Cluster at 0x100200');
  const want = await colours(page, 16);

  await page.getByRole('button', { name: 'Copy link with map', exact: true }).click();
  const offer = page.getByTestId('share-too-long');
  await expect(offer).toContainText('over the 32 KiB limit');
  await expect(page.getByTestId('share-link')).toHaveCount(0);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    offer.getByRole('button', { name: 'Download map file (.json)' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('fragmented.qcow2.clusterscope-map.json');
  const text = readFileSync(await download.path(), 'utf8');
  const doc = JSON.parse(text) as { format: string; map: string; hash: string };
  expect(doc.format).toBe('clusterscope-map');
  expect(doc.map.length).toBeGreaterThan(32 * 1024);
  expect(doc.hash).toContain('range=0x100000-0x140000');

  // Opened back in the page (as a recipient would drop it): the map without the image, same view.
  await page.evaluate(() => {
    window.location.hash = '#range=0x0-0x2000000';
  });
  await expect(caption).not.toContainText('0x100000–0x140000');
  await dropAndWait(page, [{ name: download.suggestedFilename(), bytes: Buffer.from(text) }]);
  await expect(page.locator('.app-header .files')).toHaveText('fragmented.qcow2.clusterscope-map.json');
  // Map-only mode: the inspector says what the map says for the link's cluster, and what only the image could.
  await expect(page.getByTestId('inspector')).toContainText('Cluster at 0x100200');
  await expect(page.getByTestId('inspector')).toContainText('Without the image there are no L2 entries');
  await expect(caption).toContainText('0x100000–0x140000 (256 KiB)');
  await expect.poll(() => colours(page, 16)).toEqual(want);
  await expect.poll(() => page.evaluate(() => window.location.hash)).toContain('sel=0x100200');
  await page.screenshot({ path: `${SHOTS}/permalink-map-file.png` });
});
