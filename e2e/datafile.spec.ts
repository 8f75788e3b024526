/**
 * External data files (issue 11.4): the chain panel names the data file beside its qcow2 file,
 * the inspector says which file a host offset is in, each host file has its own host map, and a
 * missing data file says which file to drop.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { cellCentre, type DropFile, dropAndWait, dropFiles, openApp } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const img = (c: string, n: string): DropFile => ({
  name: n,
  bytes: readFileSync(join(ROOT, 'fixtures/images', c, n)),
});

test.beforeEach(async ({ page }) => openApp(page));

test('a qcow2 with its data file: both named, both mapped, host offsets placed in the data file', async ({
  page,
}) => {
  await dropAndWait(page, [img('datafile', 'top.qcow2'), img('datafile', 'data.raw')]);
  const row = page.getByTestId('chain-data-file');
  await expect(row).toContainText('data.raw');
  await expect(row).toContainText('external data file of top.qcow2');
  await expect(row).toContainText('384 KiB');
  // Cluster 5 (qemu-img map: data at offset 327680 = 0x50000) is in data.raw.
  await page.getByTestId('heatmap-canvas').click({ position: await cellCentre(page, 5) });
  await expect(page.getByTestId('inspector')).toContainText('0x50000 in data.raw');
  const panel = page.getByRole('region', { name: /^Image/ });
  await expect(panel.getByRole('img', { name: /^Host clusters of top\.qcow2/ })).toBeVisible();
  await expect(panel.getByRole('img', { name: /^Host clusters of data\.raw/ })).toBeVisible();
});

test('a missing data file: the error says which file to drop', async ({ page }) => {
  await dropFiles(page, [img('datafile-missing', 'top.qcow2')]);
  await expect(page.getByRole('alert').filter({ hasText: 'data.raw' }).first()).toContainText(
    'supply data.raw with it',
  );
});
