/**
 * The first minutes of a new user: the first view says it is a sample, a page with nothing open
 * is a drop target, the drag overlay reads on any background, and a file dropped or picked the
 * moment the page loads is the one the page names, maps and exports (issue 11.2, issue 12).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { dropFiles, openApp, waitForMap } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const image = (c: string, n: string) => ({
  name: n,
  bytes: readFileSync(join(ROOT, 'fixtures/images', c, n)),
});
const goldenMap = (c: string) =>
  JSON.parse(readFileSync(join(ROOT, 'fixtures/golden', c, 'map.json'), 'utf8')) as Record<string, unknown>[];

test('the first view says it is a sample; a dropped image replaces it and the word goes', async ({
  page,
}) => {
  await openApp(page);
  await expect(page.getByTestId('sample-badge')).toContainText('Sample: NBD hole worked example');
  await dropFiles(page, [image('cluster-4k', 'top.qcow2')]);
  await expect(page.locator('.app-header .files')).toHaveText('top.qcow2');
  await expect(page.getByTestId('sample-badge')).toHaveCount(0);
});

for (let run = 1; run <= 5; run++) {
  test(`a file dropped while the first sample opens is the one named, mapped and exported (run ${run})`, async ({
    page,
  }) => {
    // No wait for the sample: the drop races its open.
    await page.goto('/');
    await dropFiles(page, [image('cluster-4k', 'top.qcow2')]);
    await waitForMap(page, 0);
    await expect(page.locator('.app-header .files')).toHaveText('top.qcow2');
    await expect(page.getByRole('region', { name: 'Backing chain' })).not.toContainText('base.raw');
    await page.getByLabel('as QEMU').selectOption({ label: '7.2' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page
        .getByRole('group', { name: 'Export map' })
        .getByRole('button', { name: 'qemu-img map JSON' })
        .click(),
    ]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    // Exactly what qemu-img 7.2 printed for this file (fixtures/golden/cluster-4k/map.json).
    expect(exported).toEqual(goldenMap('cluster-4k'));
  });
}

test('with nothing open the map is a drop target; the drag overlay dims the page', async ({ page }) => {
  // A link that names files only the recipient has: nothing opens by itself.
  await page.goto('/#v=2&file=vm.qcow2&size=0x100000');
  const empty = page.getByTestId('empty-state');
  await expect(empty).toContainText('Drop a qcow2 or raw image here');
  await expect(empty).toContainText('Nothing is uploaded');
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(8)], 'x.qcow2'));
    window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const overlay = page.getByTestId('drop-overlay');
  await expect(overlay).toBeVisible();
  const alpha = await overlay.evaluate((el) =>
    Number(/rgba?\([^)]*,\s*([\d.]+)\)/.exec(getComputedStyle(el).backgroundColor)?.[1] ?? 0),
  );
  expect(alpha).toBeGreaterThan(0.4);
  await page.screenshot({ path: 'test-results/screenshots/first-run-overlay.png' });
});

test('the page opens on a sample at once, and the sample is said to be one at 800 px', async ({ page }) => {
  await page.setViewportSize({ width: 800, height: 900 });
  await openApp(page);
  await expect(page.getByTestId('sample-badge')).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/first-run-800.png' });
});
