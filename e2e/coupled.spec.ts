/**
 * Coupled views (issue 12): picking an extent in the table, a stretch in a lane or a class in the
 * legend highlights it in the heatmap and the other views, and a selection on the heatmap is
 * marked in the lanes and the table. Real clicks and keys, real canvas pixels.
 */
import { expect, type Page, test } from '@playwright/test';
import { cellColour, dropAndWait, fixture, openApp } from './helpers.ts';

const DATA = '#0072b2';
const ZERO = '#e69f00';
const EMPTY = '#f1f1f1';
/** FADE (paint.ts) toward the light background. */
const faded = (c: string, to = EMPTY, k = 0.75) =>
  [1, 3, 5].map((i) =>
    Math.round(
      Number.parseInt(c.slice(i, i + 2), 16) * (1 - k) + Number.parseInt(to.slice(i, i + 2), 16) * k,
    ),
  );
const near = (hex: string, rgb: number[]) =>
  [1, 3, 5].every((i, k) => Math.abs(Number.parseInt(hex.slice(i, i + 2), 16) - rgb[k]!) <= 2);

const chain3 = ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture('chain-3', n));

async function laneBox(page: Page) {
  return (await page
    .getByRole('region', { name: 'Extent tracks' })
    .getByTestId('tracks-canvas')
    .boundingBox())!;
}

test.beforeEach(async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
});

test('a table row, picked by keyboard, is highlighted on the heatmap and the lanes, and said in words', async ({
  page,
}) => {
  await dropAndWait(page, chain3);
  const bar = page.getByTestId('highlight-bar');
  await expect(bar).toHaveText('');
  // Row 5 of qemu-img map: [0x40000, 0x70000) is in no layer.
  const row = page.getByTestId('extent-rows').getByRole('row').nth(4);
  await row.focus();
  await page.keyboard.press('Enter');
  await expect(bar).toContainText('Highlighted: qemu-img map row 0x40000–0x70000 (192 KiB)');
  // The view zoomed to the row: the table shows the rows in view, this one marked.
  const marked = page.getByTestId('extent-rows').locator('[aria-selected="true"]');
  await expect(marked).toHaveCount(1);
  await expect(marked).toContainText('0x40000');
  // The view holds the row (at least as many cells as the grid shows: 0x40000–0x80000); the
  // band covers the row's three quarters of the lane axis; the heatmap outlines the row's cells.
  await expect(page.locator('.heatmap-caption')).toContainText('0x40000–0x80000');
  const band = page.getByTestId('tracks-canvas-band');
  await expect(band).toBeVisible();
  const lanes = await laneBox(page);
  await expect.poll(async () => Number(await band.getAttribute('x'))).toBe(0);
  expect(Number(await band.getAttribute('width')) / lanes.width).toBeCloseTo(3 / 4, 1);
  // The selection is outlined in the selection colour (black in the light theme) at the cell's edge.
  expect(await cellColour(page, 1, { x: 0.02, y: 0.5 })).toBe('#000000');
  await page.getByRole('button', { name: 'Clear highlight' }).click();
  await expect(bar).toHaveText('');
  await expect(band).toHaveCount(0);
});

test('a click on a lane highlights the stretch of one class there, selects its cluster, and the table marks its row', async ({
  page,
}) => {
  await dropAndWait(page, chain3);
  const box = await laneBox(page);
  // Lane 4 is qemu-img map (after the three layers); 0x50000 is 5/8 of the axis.
  await page.mouse.click(box.x + box.width * (5.5 / 8), box.y + 3 * 20 + 7);
  const bar = page.getByTestId('highlight-bar');
  await expect(bar).toContainText('qemu-img map: absent, 0x40000–0x70000 (192 KiB)');
  await expect(page.getByTestId('inspector')).toContainText('Cluster at 0x50000');
  await expect(page.getByTestId('extent-rows').getByRole('row').nth(4)).toHaveAttribute(
    'aria-selected',
    'true',
  );
  const band = page.getByTestId('tracks-canvas-band');
  const x = Number(await band.getAttribute('x'));
  const w = Number(await band.getAttribute('width'));
  expect(x / box.width).toBeCloseTo(4 / 8, 1);
  expect((x + w) / box.width).toBeCloseTo(7 / 8, 1);
  // A selection outside the stretch lets it go.
  await page.getByTestId('heatmap-canvas').focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('Enter');
  await expect(bar).toHaveText('');
  await expect(page.locator('.lane-at')).toHaveCount(1);
});

test('a legend class fades every other cell on the heatmap and the lanes; pressed again, all is back', async ({
  page,
}) => {
  await dropAndWait(page, [
    fixture('nbd-hole-example', 'top.qcow2'),
    fixture('nbd-hole-example', 'base.raw'),
  ]);
  expect(await cellColour(page, 0)).toBe(DATA);
  const find = page.getByRole('button', { name: 'Highlight zero' });
  await find.focus();
  await page.keyboard.press('Enter');
  await expect(find).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByTestId('highlight-bar')).toContainText('Highlighted: zero (other cells faded)');
  await expect.poll(async () => near(await cellColour(page, 0), faded(DATA))).toBe(true);
  expect(await cellColour(page, 2)).toBe(ZERO);
  await page.keyboard.press('Enter');
  await expect(find).toHaveAttribute('aria-pressed', 'false');
  await expect.poll(() => cellColour(page, 0)).toBe(DATA);
});
