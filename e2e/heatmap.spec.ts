import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { cellCentre, cellColour, dropAndWait, fixture, openApp } from './helpers.ts';

const DATA = '#0072b2';
const ZERO = '#e69f00';

test.beforeEach(async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
  await dropAndWait(page, [
    fixture('nbd-hole-example', 'top.qcow2'),
    fixture('nbd-hole-example', 'base.raw'),
  ]);
});

test('pixels: the NBD-hole example reads data, data, zero, zero', async ({ page }) => {
  expect(await cellColour(page, 0)).toBe(DATA);
  expect(await cellColour(page, 1)).toBe(DATA);
  expect(await cellColour(page, 2)).toBe(ZERO);
  expect(await cellColour(page, 3)).toBe(ZERO);
});

test('allocation depth colours each cluster by the layer that owns it', async ({ page }) => {
  await page.getByLabel('Allocation depth', { exact: true }).check();
  expect(await cellColour(page, 0)).toBe('#ddcc77'); // base.raw, depth 2
  expect(await cellColour(page, 1)).toBe('#cc79a7'); // top.qcow2, depth 1
  await expect(page.getByRole('list', { name: 'Allocation depth colours' })).toContainText('2: base.raw');
});

test('depth and zero show together: zero wears dots over its layer colour, data is solid', async ({
  page,
}) => {
  await page.getByLabel('Allocation depth', { exact: true }).check();
  const DEPTH1 = '#cc79a7';
  // Cluster 2 is a zero cluster of top.qcow2: dots in the zero colour on the layer colour.
  expect(await cellColour(page, 2)).toBe(ZERO);
  expect(await cellColour(page, 2, { x: 1 / 3, y: 1 / 3 })).toBe(DEPTH1);
  // Cluster 1 is data in top.qcow2: solid, no dot at its centre.
  expect(await cellColour(page, 1)).toBe(DEPTH1);
  await expect(page.getByText('Dotted: zero in that layer')).toBeVisible();
  await expect(page.getByRole('checkbox', { name: /^Data/ })).toBeDisabled();
  // Zero off: the dots go, the layer colour stays.
  await page.getByRole('checkbox', { name: /^Zero/ }).uncheck();
  await expect.poll(() => cellColour(page, 2)).toBe(DEPTH1);
});

test('hover shows the cluster, its L2 entry and every interpretation', async ({ page }) => {
  const canvas = page.getByTestId('heatmap-canvas');
  const c = await cellCentre(page, 2);
  await canvas.hover({ position: c });
  const tip = page.getByRole('tooltip');
  await expect(tip).toContainText('0x20000–0x30000 (64 KiB)');
  await expect(tip).toContainText('L1[0] L2[2] in top.qcow2');
  await expect(tip).toContainText('0x0000000000000001');
  await expect(tip).toContainText('ZERO_PLAIN');
  await expect(tip).toContainText('depth 0, present, zero');
  await expect(tip).toContainText('hole,zero');
  await expect(tip).toContainText('local');
});

test('click selects a cluster and the inspector explains it', async ({ page }) => {
  await page.getByTestId('heatmap-canvas').click({ position: await cellCentre(page, 0) });
  const insp = page.getByTestId('inspector');
  await expect(insp).toContainText('Cluster at 0x0');
  await expect(insp).toContainText('RAW_DATA in base.raw');
  await expect(insp).toContainText('qemu:allocation-depth 2');
  await expect(insp.locator('tbody tr')).toHaveCount(1);
});

test('keyboard: arrows move, Enter selects, Escape closes', async ({ page }) => {
  const canvas = page.getByTestId('heatmap-canvas');
  await canvas.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tooltip')).toContainText('0x10000–0x20000');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('inspector')).toContainText('Cluster at 0x10000');
  await expect(page.getByTestId('inspector')).toContainText('refcount', { ignoreCase: true });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('inspector')).toHaveCount(0);
});

test('wheel zooms about the pointer, 0 resets, and layer toggles hide classes', async ({ page }) => {
  await dropAndWait(
    page,
    ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture('chain-3', n)),
  );
  const caption = page.locator('.heatmap-caption');
  await expect(caption).toContainText('0x0–0x80000 (512 KiB)');
  const canvas = page.getByTestId('heatmap-canvas');
  const box = (await canvas.boundingBox())!;
  const c = await cellCentre(page, 7);
  await page.mouse.move(box.x + c.x, box.y + c.y);
  await page.mouse.wheel(0, -400);
  await expect(caption).not.toContainText('(512 KiB)');
  // Zoomed about cluster 7: the range still holds it.
  const [start, end] = ((await caption.textContent()) ?? '')
    .split(' ')[0]!
    .split('–')
    .map((h) => Number.parseInt(h, 16));
  expect(start).toBeGreaterThan(0);
  expect(start).toBeLessThanOrEqual(0x70000);
  expect(end).toBeGreaterThan(0x70000);
  await canvas.focus();
  await page.keyboard.press('0');
  await expect(caption).toContainText('0x0–0x80000 (512 KiB)');
  await page.getByLabel('Data', { exact: true }).uncheck();
  await expect.poll(() => cellColour(page, 1)).not.toBe(DATA);
});

test('tracks: one lane per layer and interpretation; brushing a range zooms to it', async ({ page }) => {
  await dropAndWait(
    page,
    ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture('chain-3', n)),
  );
  const tracks = page.getByRole('region', { name: 'Extent tracks' });
  await expect(tracks.locator('.track-labels li')).toHaveText([
    'top.qcow2',
    'mid.qcow2',
    'base.qcow2',
    'qemu-img map',
    'NBD base:allocation',
    'allocation depth',
  ]);
  const plot = (await tracks.getByTestId('tracks-canvas').boundingBox())!;
  // Lane 3 (base.qcow2) holds data in [0, 256K): the left half of the axis.
  const lane = (i: number) => plot.y + i * 20 + 7;
  const colour = (x: number, y: number) =>
    tracks.getByTestId('tracks-canvas').evaluate(
      (c, p) => {
        const el = c as HTMLCanvasElement;
        const s = el.width / el.getBoundingClientRect().width;
        const d = el.getContext('2d')!.getImageData(Math.floor(p.x * s), Math.floor(p.y * s), 1, 1).data;
        return `#${[d[0], d[1], d[2]].map((v) => (v ?? 0).toString(16).padStart(2, '0')).join('')}`;
      },
      { x, y },
    );
  await expect.poll(() => colour(plot.width * 0.25, lane(2) - plot.y)).toBe(DATA);
  await page.mouse.move(plot.x + plot.width * 0.25, lane(0));
  await page.mouse.down();
  await page.mouse.move(plot.x + plot.width * 0.75, lane(4), { steps: 5 });
  await page.mouse.up();
  await expect(page.locator('.heatmap-caption')).toContainText('0x20000–0x60000 (256 KiB)');
});

test('hover at full zoom names the subcluster under the pointer, with its own status (QEMU map of extl2)', async ({
  page,
}) => {
  await dropAndWait(page, [fixture('extl2', 'top.qcow2')]);
  await expect(page.locator('.heatmap-caption')).toContainText('32 subclusters each');
  // qemu-img map --output=json of the same file (fixtures/golden/extl2/map.json, QEMU 7.2).
  const golden: {
    start: number;
    length: number;
    depth: number;
    present: boolean;
    zero: boolean;
    data: boolean;
    offset?: number;
  }[] = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/golden/extl2/map.json'), 'utf8'));
  const canvas = page.getByTestId('heatmap-canvas');
  const tip = page.getByRole('tooltip');
  const sub = 65536 / 32;
  for (const [cell, k] of [
    [0, 0],
    [0, 2],
    [0, 4],
    [0, 5],
    [0, 8],
    [0, 10],
    [2, 2],
    [2, 3],
  ] as const) {
    const at = await canvas.evaluate(
      (c, { i, s }) => {
        const el = c as HTMLCanvasElement;
        const px = Number(el.dataset.cellPx);
        const cols = Number(el.dataset.cols);
        const w = px - (px >= 8 ? 1 : 0);
        return {
          x: (i % cols) * px + (((s % 8) + 0.5) * w) / 8,
          y: Math.floor(i / cols) * px + ((Math.floor(s / 8) + 0.5) * w) / 4,
        };
      },
      { i: cell as number, s: k as number },
    );
    await canvas.hover({ position: at });
    const offset = cell * 65536 + k * sub;
    const g = golden.find((e) => offset >= e.start && offset < e.start + e.length)!;
    const label = [`depth ${g.depth}`, g.present ? 'present' : 'absent', g.data && 'data', g.zero && 'zero']
      .filter(Boolean)
      .join(', ');
    await expect(tip).toContainText(`subcluster ${k}`);
    await expect(tip.locator('.tooltip-range')).toContainText(
      `0x${offset.toString(16)}–0x${(offset + sub).toString(16)}`,
    );
    await expect(tip.locator('.interp', { hasText: 'qemu-img map' }).first().locator('dd')).toHaveText(label);
    if (g.data)
      await expect(tip).toContainText(`Host offset0x${(g.offset! + offset - g.start).toString(16)}`);
  }
});

test('a zoom draws at once from the bins already drawn, then the exact bins (issue 14)', async ({ page }) => {
  await dropAndWait(
    page,
    ['top.qcow2', 'mid.qcow2', 'base.qcow2'].map((n) => fixture('chain-3', n)),
  );
  const canvas = page.getByTestId('heatmap-canvas');
  // Record each frame the canvas draws, with the colour at the centre of its first cell.
  await canvas.evaluate((c) => {
    const el = c as HTMLCanvasElement;
    const w = window as unknown as { frames_: string[] };
    w.frames_ = [];
    new MutationObserver(() => {
      const px = Number(el.dataset.cellPx);
      const s = el.width / el.getBoundingClientRect().width;
      const d = el
        .getContext('2d')!
        .getImageData(Math.floor((px / 2) * s), Math.floor((px / 2) * s), 1, 1).data;
      w.frames_.push(`${el.dataset.frame} ${[d[0], d[1], d[2]].join(',')}`);
    }).observe(el, { attributes: true, attributeFilter: ['data-frame', 'data-cell-px'] });
  });
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + 10, box.y + 10);
  await page.mouse.wheel(0, -400);
  await expect(page.locator('.heatmap-caption')).not.toContainText('(512 KiB)');
  await expect(canvas).toHaveAttribute('data-ready', 'true');
  const frames = await page.evaluate(() => (window as unknown as { frames_: string[] }).frames_);
  const kinds = frames.map((f) => f.split(' ')[0]);
  // The estimate comes first, drawn before any reply from the worker; the exact frame follows.
  expect(kinds.indexOf('estimate')).toBeGreaterThanOrEqual(0);
  expect(kinds.lastIndexOf('exact')).toBeGreaterThan(kinds.indexOf('estimate'));
  // Cluster 0 (whole clusters in both frames): the estimate is already right.
  const at = (k: string) =>
    frames
      .filter((f) => f.startsWith(k))
      .at(-1)!
      .split(' ')[1];
  expect(at('estimate')).toBe(at('exact'));
});
