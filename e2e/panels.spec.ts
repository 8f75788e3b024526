import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { cellCentre, type DropFile, dropAndWait, fixture, openApp, openId, waitForMap } from './helpers.ts';

const IMAGES = resolve(import.meta.dirname, '../fixtures/images');
const image = (dir: string, name = 'top.qcow2'): DropFile => ({
  name,
  bytes: readFileSync(resolve(IMAGES, dir, name)),
});
const imagePanel = (page: Page) => page.getByRole('region', { name: 'Image' });

test.beforeEach(async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
});

test('Image panel: a clean image passes the check and names its header fields', async ({ page }) => {
  await dropAndWait(page, [fixture('extl2', 'top.qcow2')]);
  const panel = imagePanel(page);
  await expect(panel.getByTestId('check-summary')).toHaveText(
    'qemu-img check: no errors were found on the image.',
  );
  await expect(panel.getByTestId('feature-bits')).toContainText('incompatible bit 4: extended L2 entries');
  await panel.getByText('Header', { exact: true }).click();
  await expect(panel.getByRole('row', { name: /cluster_bits/ })).toBeVisible();
});

test('Image panel: snapshots are listed by tag', async ({ page }) => {
  await dropAndWait(page, [fixture('snapshots', 'top.qcow2')]);
  const rows = imagePanel(page).getByTestId('snapshots').getByRole('row');
  await expect(rows).not.toHaveCount(1);
  await expect(imagePanel(page).getByTestId('snapshots')).toContainText(/s1/);
});

test('Image panel: picking a snapshot maps its L1 table', async ({ page }) => {
  await dropAndWait(page, [fixture('snapshots', 'top.qcow2')]);
  const rowsTable = page.getByRole('region', { name: 'qemu-img map rows in view' });
  // Active L1: data only at 0x20000 (qemu-img map: 0x20000 0x10000 0xe0000).
  await expect(rowsTable.getByTestId('extent-rows').getByRole('row').nth(0)).not.toContainText('128 KiB');
  await imagePanel(page).getByRole('button', { name: 'View s1' }).click();
  await expect(imagePanel(page).getByTestId('map-source')).toContainText('snapshot s1');
  // Snapshot s1: data at 0..0x20000 mapped to 0x50000 (clusterscope map --snapshot=s1).
  await expect(rowsTable.getByTestId('extent-rows').getByRole('row').nth(0)).toContainText(
    /^0x0128 KiB0yesnoyes0x50000$/,
  );
  await imagePanel(page).getByRole('button', { name: 'View active' }).click();
  await expect(imagePanel(page).getByTestId('map-source')).toContainText('active L1');
  await expect(rowsTable.getByTestId('extent-rows').getByRole('row').nth(0)).not.toContainText('128 KiB');
});

test('Image panel: persistent bitmaps are listed', async ({ page }) => {
  await dropAndWait(page, [image('bitmaps')]);
  await expect(imagePanel(page).getByTestId('bitmaps')).toContainText('granularity');
});

test('leaked clusters: the check names them and the host map shows them', async ({ page }) => {
  await dropAndWait(page, [image('refcount-leak')]);
  const panel = imagePanel(page);
  await expect(panel.getByTestId('check-summary')).toContainText(/[1-9]\d* leaked clusters/);
  await expect(panel.getByTestId('check-messages')).toContainText('Leaked cluster');
  await expect(panel.getByRole('list', { name: 'Host map legend' })).toContainText('leaked:');
  await expect(panel.getByRole('list', { name: 'Host map legend' })).toContainText('L2 table: 1 cluster');
  // The leak's colour (palette HOST_METADATA host-leaked, #ff69b4) is drawn on the host-map canvas.
  const hasLeakColour = await panel.getByTestId('host-map').evaluate((c) => {
    const el = c as HTMLCanvasElement;
    const d = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
    for (let i = 0; i < d.length; i += 4)
      if (d[i] === 0xff && d[i + 1] === 0x69 && d[i + 2] === 0xb4) return true;
    return false;
  });
  expect(hasLeakColour).toBe(true);
});

test('extent table: rows of the view; a row click zooms, a map click scrolls to the row', async ({
  page,
}) => {
  await dropAndWait(page, [
    fixture('nbd-hole-example', 'top.qcow2'),
    fixture('nbd-hole-example', 'base.raw'),
  ]);
  const table = page.getByRole('region', { name: 'qemu-img map rows in view' });
  await expect(table.getByRole('heading')).toContainText(/rows in view: \d+/);
  const rows = table.getByTestId('extent-rows').getByRole('row');
  const first = rows.nth(0);
  await expect(first).toContainText('0x0');
  await rows.nth(1).click();
  await expect(rows.nth(1)).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('region', { name: /Inspector|Cluster/ }).first()).toBeVisible();
  // Back to the whole image, then select on the map: the table marks that row.
  await page.getByTestId('heatmap-canvas').focus();
  await page.keyboard.press('0');
  const { x, y } = await cellCentre(page, 0);
  await page.getByTestId('heatmap-canvas').click({ position: { x, y } });
  await expect(rows.nth(0)).toHaveAttribute('aria-selected', 'true');
});

for (const theme of ['light', 'dark'] as const) {
  for (const width of [1440, 390]) {
    test(`screenshot: panels at ${width} px, ${theme}`, async ({ page }) => {
      await page.emulateMedia({ colorScheme: theme });
      await page.setViewportSize({ width, height: 1200 });
      await dropAndWait(page, [image('refcount-leak')]);
      await expect(imagePanel(page).getByTestId('check-summary')).toBeVisible();
      await imagePanel(page).scrollIntoViewIfNeeded();
      await page.screenshot({
        path: `test-results/screenshots/panels-${width}-${theme}.png`,
        fullPage: true,
      });
      await page
        .getByRole('region', { name: 'qemu-img map rows in view' })
        .screenshot({ path: `test-results/screenshots/extent-table-${width}-${theme}.png` });
      await imagePanel(page).screenshot({
        path: `test-results/screenshots/image-panel-${width}-${theme}.png`,
      });
    });
  }
}

test('Image panel: a check that reads more than AUTO_CHECK_BYTES waits for a click, then reports what qemu-img check says', async ({
  page,
}, info) => {
  // 5 TiB with 2 MiB clusters, one write every 512 GiB: 10 L2 tables of 2 MiB (20 MiB of tables
  // and a 2 MiB refcount table: 22 MiB > 16 MiB), made here with real QEMU.
  const file = info.outputPath('wide.qcow2');
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=2M', file, '5T']);
  run('qemu-io', [
    '-f',
    'qcow2',
    ...Array.from({ length: 10 }, (_, k) => ['-c', `write -P 7 ${k * 512}G 4k`]).flat(),
    file,
  ]);
  const qemu = JSON.parse(
    spawnSync('qemu-img', ['check', '--output=json', file], { encoding: 'utf8' }).stdout,
  ) as { 'check-errors': number; corruptions?: number; leaks?: number };

  const before = await openId(page);
  await page.getByLabel('Open disk images (several files form a backing chain)').setInputFiles(file);
  await waitForMap(page, before);
  const panel = imagePanel(page);
  const summary = panel.getByTestId('check-summary');
  await expect(summary).toContainText('qemu-img check not run yet: it reads 22 MiB of metadata.');
  await summary.screenshot({ path: 'test-results/screenshots/check-deferred.png' });
  await panel.getByRole('button', { name: 'Run qemu-img check' }).click();
  expect(qemu['check-errors']).toBe(0);
  expect(qemu.corruptions ?? 0).toBe(0);
  expect(qemu.leaks ?? 0).toBe(0);
  await expect(summary).toHaveText('qemu-img check: no errors were found on the image.');
});
