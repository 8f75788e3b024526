/**
 * Host holes in the page (issue 11.3): the notice where the map is, the inspector's mark, the
 * content scan in one click with its cost, progress and cancel, and the scanned map equal to
 * QEMU on sparse files (fixtures/golden/host-hole-raw-base/*.sparse.*).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import {
  cellCentre,
  cellColour,
  type DropFile,
  dropAndWait,
  openApp,
  openId,
  waitForMap,
} from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const img = (c: string, n: string): DropFile => ({
  name: n,
  bytes: readFileSync(join(ROOT, 'fixtures/images', c, n)),
});
const DATA = '#0072b2';
const ZERO = '#e69f00';

test.beforeEach(async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
});

test("the thread's raw base: said where the map is, marked in the inspector, scanned in one click to QEMU's sparse answer", async ({
  page,
}) => {
  await dropAndWait(page, [img('host-hole-raw-base', 'top.qcow2'), img('host-hole-raw-base', 'base.raw')]);
  const notice = page.getByRole('region', { name: 'Host holes' });
  await expect(notice).toContainText(
    'QEMU on the original host likely answers differently for 128 KiB of base.raw',
  );
  await notice.getByText('Why, where, and what QEMU would say').click();
  await expect(notice).toContainText('A browser File, and any copy of an image that is not sparse');
  await expect(notice).toContainText('base.raw, raw data (128 KiB, 2 ranges)');
  // Cluster 3 is base.raw's all-zero cluster: data in a dense copy, a hole on the original host.
  expect(await cellColour(page, 3)).toBe(DATA);
  await page.getByTestId('heatmap-canvas').click({ position: await cellCentre(page, 3) });
  await expect(page.getByTestId('inspector-host-hole')).toContainText('"zero": true, "data": false');
  const scan = notice.getByRole('button', { name: /^Scan contents \(reads 320 KiB/ });
  await scan.click();
  await expect(notice).toContainText('Content scanned.');
  await expect(notice).toContainText('read 320 KiB');
  // QEMU on the sparse files (map.sparse.json): cluster 3 "zero": true, "data": false; NBD hole,zero.
  await expect.poll(() => cellColour(page, 3)).toBe(ZERO);
  const inspector = page.getByTestId('inspector');
  await expect(inspector).toContainText('hole,zero');
  await expect(page.getByTestId('inspector-host-hole')).toHaveCount(0);
  // The export is the scanned view's: QEMU 7.2's own map of the sparse files.
  await page.getByLabel('as QEMU').selectOption({ label: '7.2' });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'qemu-img map JSON' }).click(),
  ]);
  const text = readFileSync((await download.path())!, 'utf8');
  expect(JSON.parse(text)).toEqual(
    JSON.parse(readFileSync(join(ROOT, 'fixtures/golden/host-hole-raw-base/map.sparse.json'), 'utf8')),
  );
  await notice.getByRole('button', { name: 'Show without the scan' }).click();
  await expect.poll(() => cellColour(page, 3)).toBe(DATA);
});

test('a long scan shows its progress and is cancelled at once; the map stays as it was', async ({ page }) => {
  // A 4 GiB raw image (sparse on this disk, so made in no time): the scan reads all of it.
  const dir = mkdtempSync(join(tmpdir(), 'cs-scan-'));
  const file = join(dir, 'big.raw');
  execFileSync('truncate', ['-s', '4G', file]);
  const before = await openId(page);
  await page.getByLabel('Open disk images (several files form a backing chain)').setInputFiles(file);
  await waitForMap(page, before);
  const notice = page.getByRole('region', { name: 'Host holes' });
  await notice.getByRole('button', { name: /^Scan contents \(reads 4 GiB/ }).click();
  const progress = notice.getByRole('progressbar', { name: 'Content scan' });
  await expect(progress).toBeVisible();
  await expect(notice.getByRole('status')).toContainText(/Reading .* of 4 GiB…/);
  await notice.getByRole('button', { name: 'Cancel the scan' }).click();
  await expect(notice.getByRole('status')).toHaveText('Scan cancelled; the map is as before.');
  await expect(progress).toHaveCount(0);
  expect(await cellColour(page, 0)).toBe(DATA);
  // The page still answers: a click is inspected at once.
  await page.getByTestId('heatmap-canvas').click({ position: await cellCentre(page, 0) });
  await expect(page.getByTestId('inspector-host-hole')).toContainText('"zero": true, "data": false');
});

test('a diff with a content-scanned side says what it reads, shows progress, and is stopped and asked again', async ({
  page,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-scan-'));
  const file = join(dir, 'big.raw');
  execFileSync('truncate', ['-s', '4G', file]);
  const before = await openId(page);
  await page.getByLabel('Open disk images (several files form a backing chain)').setInputFiles(file);
  await waitForMap(page, before);
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  await picker.getByLabel('A interpretation').selectOption('qemu-img-map-7.2');
  await picker.getByLabel('A view').selectOption('zero-scan');
  await picker.getByLabel('B interpretation').selectOption('qemu-img-map-7.2');
  await picker.getByLabel('B view').selectOption('');
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  const status = page.locator('.diff-status').getByRole('status');
  await expect(status).toContainText(/A: content scan: reading .* of 4 GiB…/);
  await page.locator('.diff-status').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('.diff-status')).toContainText('Stopped: nothing was compared.');
  await page.getByRole('button', { name: 'Compute again' }).click();
  await expect(status).toContainText(/A: content scan: reading .* of 4 GiB…/);
});
