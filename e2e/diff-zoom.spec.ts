/**
 * The diff heatmap zooms and pans as the map does (wheel, drag, keys; one shared hook) and
 * shows subclusters of an extended-L2 image as an 8x4 grid per cluster cell.
 */
import { expect, type Page, test } from '@playwright/test';
import { dropAndWait, fixture, openApp } from './helpers.ts';

// The first kind of disagreement (palette KINDS[0]).
const KIND0 = '#800000';
const AGREE = '#d4d4d4';

async function compare(page: Page, a: string, b: string) {
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  await picker.getByLabel('A interpretation').selectOption(a);
  await picker.getByLabel('A view').selectOption('');
  await picker.getByLabel('B interpretation').selectOption(b);
  await picker.getByLabel('B view').selectOption('');
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');
}

/** Colour at the centre of subcluster k (8 columns x 4 rows) of cell i. */
async function subColour(page: Page, i: number, k: number): Promise<string> {
  return page.getByTestId('diff-canvas').evaluate(
    (c, [idx, sub]) => {
      const el = c as HTMLCanvasElement;
      const px = Number(el.dataset.cellPx);
      const cols = Number(el.dataset.cols);
      const s = px - (px >= 8 ? 1 : 0);
      const x = (idx! % cols) * px + (((sub! % 8) + 0.5) * s) / 8;
      const y = Math.floor(idx! / cols) * px + ((Math.floor(sub! / 8) + 0.5) * s) / 4;
      const r = el.width / el.getBoundingClientRect().width;
      const d = el.getContext('2d')!.getImageData(Math.floor(x * r), Math.floor(y * r), 1, 1).data;
      return `#${[d[0], d[1], d[2]].map((v) => (v ?? 0).toString(16).padStart(2, '0')).join('')}`;
    },
    [i, k],
  );
}

test.beforeEach(async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
  await dropAndWait(page, [fixture('extl2', 'top.qcow2')]);
  await compare(page, 'nbd-base-allocation-5.2', 'nbd-base-allocation-6.0');
});

/** The range the caption names: [start, end). */
async function shown(page: Page): Promise<[number, number]> {
  const t = (await page.locator('#diff-caption').textContent()) ?? '';
  const m = /^0x([0-9a-f]+)–0x([0-9a-f]+)/.exec(t);
  expect(m, t).not.toBeNull();
  return [Number.parseInt(m![1]!, 16), Number.parseInt(m![2]!, 16)];
}

test('wheel, drag and keys over the diff heatmap change the range shown', async ({ page }) => {
  const K = 65536;
  const canvas = page.getByTestId('diff-canvas');
  expect(await shown(page)).toEqual([0, 8 * K]);
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + 10, box.y + 10);
  for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -300);
  // Zoomed in about the pointer (in cluster 0) down to the smallest view, 4 clusters.
  await expect.poll(async () => (await shown(page))[1] - (await shown(page))[0]).toBe(4 * K);
  const [zs] = await shown(page);
  expect(zs).toBeLessThan(K);
  expect(decodeURIComponent(await page.evaluate(() => window.location.hash))).toMatch(/range=0x[0-9a-f]+-0x/);

  // Dragging left by two cells pans right by two clusters.
  await expect(canvas).toHaveAttribute('data-ready', 'true');
  const px = Number(await canvas.getAttribute('data-cell-px'));
  await page.mouse.move(box.x + 3 * px, box.y + 10);
  await page.mouse.down();
  await page.mouse.move(box.x + px, box.y + 10, { steps: 8 });
  await page.mouse.up();
  await expect.poll(async () => (await shown(page))[0]).toBe(zs + 2 * K);

  // Keys on the focused heatmap: 0 whole image, + zoom in, an arrow pans a cell, - zooms out.
  await canvas.focus();
  await page.keyboard.press('0');
  await expect.poll(() => shown(page)).toEqual([0, 8 * K]);
  await page.keyboard.press('+');
  await expect.poll(() => shown(page)).toEqual([2 * K, 6 * K]);
  await page.keyboard.press('ArrowRight');
  await expect.poll(() => shown(page)).toEqual([3 * K, 7 * K]);
  await page.keyboard.press('-');
  await expect.poll(() => shown(page)).toEqual([0, 8 * K]);
});

test('one-cluster cells of an extended-L2 image show 32 subclusters: only the differing ones coloured', async ({
  page,
}) => {
  const canvas = page.getByTestId('diff-canvas');
  await expect(canvas).toHaveAttribute('data-sub-per-cell', '32');
  await expect(page.locator('#diff-caption')).toContainText('32 subclusters each');
  // As clusterscope diff: [16384, 20480) = subclusters 8-9 of cluster 0, [135168, 137216) =
  // subcluster 2 of cluster 2 differ (A zero / B hole,zero); their neighbours agree.
  expect(await subColour(page, 0, 8)).toBe(KIND0);
  expect(await subColour(page, 0, 9)).toBe(KIND0);
  expect(await subColour(page, 0, 0)).toBe(AGREE);
  expect(await subColour(page, 0, 10)).toBe(AGREE);
  expect(await subColour(page, 2, 2)).toBe(KIND0);
  expect(await subColour(page, 2, 3)).toBe(AGREE);
  await page.screenshot({ path: 'test-results/screenshots/diff-subclusters.png', fullPage: false });
});
