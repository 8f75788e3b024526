/**
 * Keyboard and screen reader (issue 12), through the accessibility tree as a screen reader gets
 * it (Playwright's aria snapshots), keys only: the heatmap cursor is announced with range, status
 * and owner; the inspector's summary is a live region; lanes zoom and pan from the keyboard;
 * picks in the coupled views are said in a status line.
 */
import { expect, test } from '@playwright/test';
import { dropAndWait, fixture, openApp } from './helpers.ts';

test.beforeEach(async ({ page }) => {
  await openApp(page);
  await dropAndWait(
    page,
    ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture('chain-3', n)),
  );
});

test('moving the heatmap cursor is announced: range, what it holds, who owns it', async ({ page }) => {
  const map = page.getByRole('region', { name: 'Cluster heatmap' });
  await page.getByRole('img', { name: /^Cluster heatmap\. Arrow keys move/ }).focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  // Cluster 2 of chain-3: data written in top.qcow2 (qemu-img map: depth 0, data).
  await expect
    .poll(() => map.ariaSnapshot())
    .toMatch(/0x20000–0x30000 \(64 KiB\): data 100%.*owned by top\.qcow2 100%/);
  await page.keyboard.press('ArrowRight');
  await expect
    .poll(() => map.ariaSnapshot())
    .toMatch(/0x30000–0x40000 \(64 KiB\): zero 100%.*owned by mid\.qcow2/);
  // Enter selects: the inspector's summary is a live region saying the same in full.
  await page.keyboard.press('Enter');
  const inspector = page.getByRole('region', { name: 'Inspector' });
  await expect.poll(() => inspector.ariaSnapshot()).toContain('Cluster at 0x30000');
  expect(await page.locator('.inspector-summary').getAttribute('aria-live')).toBe('polite');
});

test('lanes zoom and pan from the keyboard, and the heatmap caption says the new range', async ({ page }) => {
  const lanes = page.getByRole('img', { name: /^Lanes on the guest axis/ });
  await expect(lanes).toHaveAccessibleName(/Plus and minus zoom, arrow keys pan, 0 shows the whole image/);
  await lanes.focus();
  const caption = page.locator('#heatmap-caption');
  await expect(caption).toContainText('0x0–0x80000 (512 KiB)');
  await page.keyboard.press('+');
  await expect(caption).toContainText('0x20000–0x60000 (256 KiB)');
  await page.keyboard.press('ArrowRight');
  await expect(caption).toContainText('0x28000–0x68000');
  await page.keyboard.press('0');
  await expect(caption).toContainText('0x0–0x80000 (512 KiB)');
  // The caption is the heatmap's description in the tree.
  await expect(page.getByRole('img', { name: /^Cluster heatmap\./ })).toHaveAccessibleDescription(
    /0x0–0x80000 \(512 KiB\)/,
  );
});

test('a highlight picked from the legend by keyboard is said in a status line', async ({ page }) => {
  const legend = page.getByRole('group', { name: 'Layers' });
  await legend.getByRole('button', { name: 'Highlight absent (in no layer)' }).focus();
  await page.keyboard.press('Space');
  await expect(page.getByRole('status').filter({ hasText: 'Highlighted' })).toHaveText(
    /Highlighted: absent \(in no layer\) \(other cells faded\)/,
  );
  await expect(legend.getByRole('button', { name: 'Highlight absent (in no layer)' })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
});
