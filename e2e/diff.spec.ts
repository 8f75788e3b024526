/**
 * The diff view (issue 4) on the June 2021 thread's example: raw base with data in clusters
 * 0-2, top.qcow2 with cluster 1 written and cluster 2 written as zeroes without unmap. With
 * `backing: null`, qemu-nbd 5.2 and 6.0 disagree on exactly cluster 2 (zero vs hole,zero).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { dropAndWait, openApp } from './helpers.ts';

const THREAD = resolve(import.meta.dirname, '../fixtures/images/nbd-hole-2021-thread');
const thread = (name: string) => ({ name, bytes: readFileSync(resolve(THREAD, name)) });
const K = 65536;
// The first kind of disagreement (palette KINDS[0]).
const KIND0 = '#800000';
const AGREE = { light: '#d4d4d4', dark: '#4d4d4d' } as const;

async function compare5260(page: Page) {
  await dropAndWait(page, [thread('top.qcow2'), thread('base.raw')]);
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  await picker.getByLabel('A interpretation').selectOption('nbd-base-allocation-5.2');
  await picker.getByLabel('A view').selectOption('backing-null');
  await picker.getByLabel('B interpretation').selectOption('nbd-base-allocation-6.0');
  await picker.getByLabel('B view').selectOption('backing-null');
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');
}

async function diffCell(page: Page, i: number): Promise<string> {
  return page.getByTestId('diff-canvas').evaluate((c, idx) => {
    const el = c as HTMLCanvasElement;
    const px = Number(el.dataset.cellPx);
    const cols = Number(el.dataset.cols);
    const x = (idx % cols) * px + px / 2;
    const y = Math.floor(idx / cols) * px + px / 2;
    const s = el.width / el.getBoundingClientRect().width;
    const d = el.getContext('2d')!.getImageData(Math.floor(x * s), Math.floor(y * s), 1, 1).data;
    return `#${[d[0], d[1], d[2]].map((v) => (v ?? 0).toString(16).padStart(2, '0')).join('')}`;
  }, i);
}

test.beforeEach(async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
});

test('5.2 vs 6.0 with backing: null: the legend counts exactly cluster 2 (64 KiB) as differing', async ({
  page,
}) => {
  await compare5260(page);
  const legend = page.getByTestId('diff-legend');
  await expect(legend.locator('.diff-total')).toHaveText('64 KiB differ in 1 extent; 192 KiB agree.');
  const kinds = legend.locator('li[data-kind]');
  await expect(kinds).toHaveCount(2);
  await expect(legend.locator('li[data-kind="agree"] .diff-bytes')).toHaveText('192 KiB');
  const k = legend.locator('li[data-kind="a2-b3"]');
  await expect(k.locator('.diff-kind-label')).toHaveText('A zero / B hole,zero');
  await expect(k.locator('.diff-bytes')).toHaveText('64 KiB');

  // Pixels: one cell per cluster; only cluster 2 in the first kind's colour.
  expect(await diffCell(page, 0)).toBe(AGREE.light);
  expect(await diffCell(page, 1)).toBe(AGREE.light);
  expect(await diffCell(page, 2)).toBe(KIND0);
  expect(await diffCell(page, 3)).toBe(AGREE.light);

  // The list names the cluster and gives both sides' reasons.
  const row = page.getByRole('region', { name: 'Differing extents' }).locator('.diff-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('cluster 2');
  await expect(row.locator('.diff-reason')).toContainText('ZERO_PLAIN');

  // A and B are in the URL, in the CLI's INTERP@VIEW form.
  const hash = decodeURIComponent(await page.evaluate(() => window.location.hash));
  expect(hash).toContain('a=nbd-base-allocation-5.2@backing-null');
  expect(hash).toContain('b=nbd-base-allocation-6.0@backing-null');
});

test('keyboard steps through differences; the diff and each side export', async ({ page }) => {
  await compare5260(page);
  const current = page.getByTestId('diff-current');
  await expect(current).toHaveText('1 difference');
  await page.keyboard.press('n');
  await expect(current).toHaveText('Difference 1 of 1: cluster 2 at 0x20000, A zero / B hole,zero');
  await expect(page.locator('.diff-row[data-current="true"]')).toContainText('cluster 2');
  await expect(page.getByTestId('diff-why')).toContainText(
    'reports hole,zero: base:allocation 3 (hole,zero): HOLE because block status has no DATA',
  );
  await page.keyboard.press('p');
  await expect(current).toContainText('Difference 1 of 1');
  await page.keyboard.press('z');
  await expect(current).toContainText('cluster 2');

  const exports = page.getByRole('group', { name: 'Export' });
  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    exports.getByRole('button', { name: 'Diff JSON' }).click(),
  ]);
  expect(dl.suggestedFilename()).toBe('top.qcow2.diff.json');
  const j = JSON.parse(readFileSync((await dl.path())!, 'utf8'));
  expect(j.format).toBe('clusterscope-diff');
  // Version 2: the diff says how it compared (by meaning or by value) and which facts (issue 11.1).
  expect(j.version).toBe(2);
  expect(j.compare).toBe('meaning');
  expect(j.a).toMatchObject({
    interpretation: 'nbd-base-allocation-5.2',
    view: 'backing-null',
    file: 'top.qcow2',
  });
  expect(j.b).toMatchObject({ interpretation: 'nbd-base-allocation-6.0', view: 'backing-null' });
  expect(j.bytesDiffering).toBe(K);
  expect(j.extents).toHaveLength(1);
  expect(j.extents[0]).toMatchObject({ start: 2 * K, length: K, kind: 'a2-b3' });
  expect(j.extents[0].reason).toMatch(/^cluster 2 /);

  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    exports.getByRole('button', { name: 'Diff CSV' }).click(),
  ]);
  expect(readFileSync((await csv.path())!, 'utf8').split('\r\n')[1]).toMatch(
    /^131072,196608,65536,a2-b3,zero,"hole,zero",meaning,"hole: A no, B yes","cluster 2 /,
  );

  // A in nbdinfo --map text: the thread's 5.2 output (hole,zero / data / zero / hole,zero).
  const [nb] = await Promise.all([
    page.waitForEvent('download'),
    exports.getByRole('button', { name: 'A: nbdinfo --map', exact: true }).click(),
  ]);
  const rows = readFileSync((await nb.path())!, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '));
  expect(rows).toEqual(['0 65536 3', '65536 65536 0', '131072 65536 2', '196608 65536 3']);
});

for (const width of [1440, 390]) {
  for (const theme of ['light', 'dark'] as const) {
    test(`diff screenshot ${width}px ${theme}`, async ({ page }) => {
      await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
      await page.emulateMedia({ colorScheme: theme });
      await compare5260(page);
      await page.keyboard.press('n');
      await expect(page.getByTestId('diff-current')).toContainText('Difference 1 of 1');
      await expect.poll(() => diffCell(page, 0)).toBe(AGREE[theme]);
      await page.screenshot({ path: `test-results/screenshots/diff-${width}-${theme}.png`, fullPage: true });
    });
  }
}

test("the diff legend's kind highlights its cells and fades the agreement (coupled views)", async ({
  page,
}) => {
  await compare5260(page);
  const legend = page.getByTestId('diff-legend');
  await legend.getByRole('button', { name: 'Highlight A zero / B hole,zero' }).click();
  await expect(page.getByTestId('highlight-bar')).toContainText('Highlighted: A zero / B hole,zero');
  expect(await diffCell(page, 2)).toBe(KIND0);
  // Agreement fades toward the background (paint.ts FADE over #f1f1f1).
  await expect.poll(() => diffCell(page, 0)).not.toBe(AGREE.light);
  await legend.getByRole('button', { name: 'Highlight A zero / B hole,zero' }).click();
  await expect.poll(() => diffCell(page, 0)).toBe(AGREE.light);
});
