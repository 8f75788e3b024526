/**
 * Maps made by other tools, dropped or pasted: QEMU's own qemu-img map JSON and nbdinfo --map
 * output (fixtures/golden) draw the same heatmap colours as the image they were made from.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { cellCentre, cellColour, type DropFile, dropAndWait, dropFiles, openApp } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const img = (c: string, n: string): DropFile => ({
  name: n,
  bytes: readFileSync(join(ROOT, 'fixtures/images', c, n)),
});
const golden = (c: string, n: string): DropFile => ({
  name: n,
  bytes: readFileSync(join(ROOT, 'fixtures/golden', c, n)),
});

async function colours(page: Page, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await cellColour(page, i));
  return out;
}

const CASES: readonly { c: string; files: string[]; cells: number }[] = [
  { c: 'chain-3', files: ['top.qcow2', 'mid.qcow2', 'base.qcow2'], cells: 8 },
  { c: 'zero-discard-v3', files: ['top.qcow2'], cells: 8 },
];

for (const { c, files, cells } of CASES) {
  test(`${c}: map.json and nbd-base.txt draw the image's colours`, async ({ page }) => {
    await openApp(page);
    await page.evaluate(() => {
      window.location.hash = '#layers=data,zero,absent,top,compressed';
    });
    await dropAndWait(
      page,
      files.map((f) => img(c, f)),
    );
    const image = await colours(page, cells);
    await dropAndWait(page, [golden(c, 'map.json')]);
    await expect(page.locator('.app-header .files')).toHaveText('map.json');
    expect(await colours(page, cells)).toEqual(image);
    await page.screenshot({ path: `test-results/screenshots/mapfile-${c}-map-json.png` });

    // nbdinfo base:allocation knows data, zero and holes, not "absent" or layers: compare on data + hole.
    await page.getByLabel('Zero', { exact: true }).uncheck();
    await page.getByLabel('Absent (in no layer)', { exact: true }).uncheck();
    await page.getByLabel('Allocated in top', { exact: true }).uncheck();
    await page.getByLabel('Hole (NBD)', { exact: true }).check();
    await dropAndWait(
      page,
      files.map((f) => img(c, f)),
    );
    const imageNbd = await colours(page, cells);
    await dropAndWait(page, [golden(c, 'nbd-base.txt')]);
    expect(await colours(page, cells)).toEqual(imageNbd);
    await page.screenshot({ path: `test-results/screenshots/mapfile-${c}-nbd.png` });
  });
}

test('a pasted qemu-img map opens like a dropped one', async ({ page }) => {
  await openApp(page);
  await page.getByText('Paste a map').click();
  await page
    .getByLabel('Map text')
    .fill(readFileSync(join(ROOT, 'fixtures/golden/chain-3/map.json'), 'utf8'));
  const before = await page
    .getByTestId('heatmap-canvas')
    .evaluate((el) => Number((el as HTMLCanvasElement).dataset.openId));
  await page.getByRole('button', { name: 'Show map' }).click();
  await expect
    .poll(() =>
      page.getByTestId('heatmap-canvas').evaluate((el) => Number((el as HTMLCanvasElement).dataset.openId)),
    )
    .toBeGreaterThan(before);
  await expect(page.getByTestId('inspector')).toHaveCount(0);
  await page.getByLabel('Map text').fill('not a map');
  await page.getByRole('button', { name: 'Show map' }).click();
  await expect(page.locator('body')).toContainText(/pasted map/);
});

test('map-only mode: rows, the inspector in words, human names, and a note on lanes the map does not cover', async ({
  page,
}) => {
  await openApp(page);
  await dropAndWait(page, [golden('chain-3', 'map.json')]);
  await expect(page.getByTestId('extent-rows').getByRole('row')).toHaveCount(6);
  await expect(
    page.locator('.extent-table, section').filter({ hasText: 'rows in view: 6' }).first(),
  ).toBeVisible();
  const canvas = page.getByTestId('heatmap-canvas');
  await canvas.click({ position: await cellCentre(page, 4) });
  const inspector = page.getByTestId('inspector');
  await expect(inspector).toContainText('From map.json: qemu-img map (QEMU 7.2) says depth 2, absent, zero');
  await expect(inspector).toContainText('Without the image there are no L2 entries');
  await canvas.hover({ position: await cellCentre(page, 1) });
  const tip = page.getByRole('tooltip');
  await expect(tip).toContainText('qemu-img map (QEMU 7.2)');
  await expect(tip).not.toContainText('@');
  await expect(tip).not.toContainText('MAP');
  await expect(page.getByRole('region', { name: 'Extent tracks' })).toContainText(
    'NBD base:allocation: no nbdinfo --map (base:allocation) among the maps opened',
  );
});

test("qemu-img map's human table, dropped, opens as the map it is (not as a raw disk)", async ({ page }) => {
  await openApp(page);
  await dropAndWait(page, [golden('nbd-hole-example', 'map.txt')]);
  await expect(page.locator('.app-header .files')).toHaveText('map.txt');
  await expect(page.getByTestId('inspector')).toHaveCount(0);
  // Two rows of 64 KiB: base.raw at depth 1, then top.qcow2's data cluster.
  await expect(page.getByTestId('extent-rows').getByRole('row')).toHaveCount(2);
  await expect(page.getByTestId('probed-raw')).toHaveCount(0);
});

test('a clusterscope map file with a wrong member is refused, naming the file and the member', async ({
  page,
}) => {
  await openApp(page);
  const doc = {
    format: 'clusterscope-map',
    version: 1,
    files: ['top.qcow2'],
    image: 7,
    map: 'AAAA',
    hash: '',
  };
  await dropFiles(page, [{ name: 'shared.json', bytes: Buffer.from(JSON.stringify(doc)) }]);
  await expect(page.getByRole('region', { name: 'Errors and findings' })).toContainText(
    'shared.json: clusterscope map file "image": must be an object {name, size, fingerprint}, not a number',
  );
});

test('a qemu-img map of 100,000 rows opens whole, every row listed (issue 11 point 6)', async ({ page }) => {
  await openApp(page);
  // qemu-img map --output=json's exact format: data and zero clusters in turn, 100,000 rows.
  const K = 65536;
  const rows: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    rows.push(
      i % 2
        ? `{ "start": ${i * K}, "length": ${K}, "depth": 0, "present": true, "zero": true, "data": false}`
        : `{ "start": ${i * K}, "length": ${K}, "depth": 0, "present": true, "zero": false, "data": true, "offset": ${(i / 2 + 5) * K}}`,
    );
  }
  const t0 = Date.now();
  await dropAndWait(page, [{ name: 'big-map.json', bytes: Buffer.from(`[${rows.join(',\n')}]\n`) }]);
  console.log(`100,000-row map drawn ${Date.now() - t0} ms after the drop`);
  await expect(page.locator('.app-header .files')).toHaveText('big-map.json');
  await expect(
    page.getByRole('region', { name: 'qemu-img map rows in view' }).getByRole('heading'),
  ).toHaveText(/rows in view: 100000$/);
  await expect(page.locator('.heatmap-caption')).toContainText('6.1 GiB');
});
