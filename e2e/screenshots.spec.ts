/**
 * Screenshots to look at (issue 12): the first run, a lesson step, a map without its image and
 * the depth layer, in both themes at 800 and 1440 px (and the phone width for the first run).
 * Each scene first checks what it shows, so a screenshot of a broken page fails instead.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { cellCentre, dropAndWait, openApp, openId, waitForMap } from './helpers.ts';

const SHOTS = 'test-results/screenshots';
const ROOT = resolve(import.meta.dirname, '..');

const SCENES: Record<string, (page: Page) => Promise<void>> = {
  'first-run': async (page) => {
    await expect(page.locator('.sample-note')).toContainText('Sample');
    const canvas = page.getByTestId('heatmap-canvas');
    await canvas.click({ position: await cellCentre(page, 2) });
    await page.getByTestId('inspector').getByText('Why').waitFor();
    await canvas.hover({ position: await cellCentre(page, 1) });
    await page.getByRole('tooltip').waitFor();
  },
  'lesson-step': async (page) => {
    const before = await openId(page);
    await page
      .getByRole('region', { name: 'Lessons' })
      .getByRole('button', { name: 'Unallocated, zero or hole: NBD 5.2 vs 6.0' })
      .click();
    await waitForMap(page, before);
    await expect(page.getByTestId('lesson-step')).toContainText('qemu-nbd 6.0');
    await expect(page.getByTestId('lesson-answer')).toHaveCount(0);
  },
  'map-only': async (page) => {
    await dropAndWait(page, [
      { name: 'map.json', bytes: readFileSync(join(ROOT, 'fixtures/golden/chain-3/map.json')) },
    ]);
    const canvas = page.getByTestId('heatmap-canvas');
    await canvas.click({ position: await cellCentre(page, 4) });
    await expect(page.getByTestId('inspector')).toContainText('0x40000');
  },
  'depth-layer': async (page) => {
    await dropAndWait(
      page,
      ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => ({
        name: n,
        bytes: readFileSync(join(ROOT, 'public/samples/chain-3', n)),
      })),
    );
    await page.getByRole('checkbox', { name: /^Allocation depth/ }).check();
    await expect(page.getByRole('list', { name: 'Allocation depth colours' })).toContainText('3: base.qcow2');
  },
};

for (const [scene, run] of Object.entries(SCENES))
  for (const width of scene === 'first-run' ? [390, 800, 1440] : [800, 1440])
    for (const theme of ['light', 'dark'] as const)
      test(`screenshot: ${scene} at ${width} px, ${theme}`, async ({ page }) => {
        await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
        await page.emulateMedia({ colorScheme: theme });
        await openApp(page);
        await run(page);
        await page.screenshot({ path: `${SHOTS}/${scene}-${width}-${theme}.png` });
        await page.screenshot({ path: `${SHOTS}/${scene}-${width}-${theme}-full.png`, fullPage: true });
      });
