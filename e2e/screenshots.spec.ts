import { test } from '@playwright/test';
import { cellCentre, openApp } from './helpers.ts';

for (const width of [1440, 390]) {
  for (const theme of ['light', 'dark'] as const) {
    test(`screenshot ${width}px ${theme}`, async ({ page }) => {
      await page.setViewportSize({ width, height: width > 500 ? 900 : 844 });
      await page.emulateMedia({ colorScheme: theme });
      await openApp(page);
      const canvas = page.getByTestId('heatmap-canvas');
      await canvas.click({ position: await cellCentre(page, 2) });
      await page.getByTestId('inspector').getByText('Why').waitFor();
      await canvas.hover({ position: await cellCentre(page, 1) });
      await page.getByRole('tooltip').waitFor();
      await page.screenshot({ path: `test-results/screenshots/${width}-${theme}.png`, fullPage: true });
      await page.screenshot({ path: `test-results/screenshots/${width}-${theme}-viewport.png` });
    });
  }
}
