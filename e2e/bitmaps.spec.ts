/**
 * Dirty bitmaps and incremental backups in the page (issue 13), on QEMU-made fixtures dropped
 * as a person would: every bitmap's lane and the backup fill's cells read pixel by pixel and
 * held to nbdinfo's maps of the same qemu-nbd -B exports (fixtures/golden), the legend's bytes,
 * the inspector's bits and flags, qemu-img measure in the image panel, a bitmap diffed against
 * what the overlay holds, qemu-img compare of two images, qemu-img bitmap in the sandbox; and
 * screenshots at 800 and 1440 px in both themes.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { hex } from '../src/core/format.ts';
import { BACKUP_ABSENT, BACKUP_CLEAN, BACKUP_DATA, BACKUP_ZERO } from '../src/core/interpret/bitmap.ts';
import { goldenBackupRuns } from '../src/testing/backupGolden.ts';
import { golden, parseNbdinfo } from '../src/testing/fixtures.ts';
import { sizeAndBytes } from '../src/ui/format.ts';
import { LANE_GAP, LANE_H } from '../src/ui/paint.ts';
import { BITMAP, PALETTES } from '../src/ui/palette.ts';
import { cellCentre, cellColour, dropAndWait, openApp } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const IMAGES = resolve(ROOT, 'fixtures/images');
const SHOTS = 'test-results/screenshots';
const image = (c: string, n: string) => ({ name: n, bytes: readFileSync(join(IMAGES, c, n)) });
const K = 1024;
const LIGHT = PALETTES.light;
const lower = (c: string) => c.toLowerCase();

/** The colour of each pixel column of lane `lane` (the middle row), as #rrggbb. */
async function lanePixels(page: Page, lane: number): Promise<string[]> {
  return page.getByTestId('tracks-canvas').evaluate(
    (c, { lane, h, gap }) => {
      const el = c as HTMLCanvasElement;
      const css = el.getBoundingClientRect().width;
      const s = el.width / css;
      const y = Math.floor((lane * (h + gap) + h / 2) * s);
      const d = el.getContext('2d')!.getImageData(0, y, el.width, 1).data;
      const out: string[] = [];
      for (let p = 0; p < Math.round(css); p++) {
        const x = Math.floor((p + 0.5) * s);
        out.push(
          `#${[d[4 * x], d[4 * x + 1], d[4 * x + 2]].map((v) => (v ?? 0).toString(16).padStart(2, '0')).join('')}`,
        );
      }
      return out;
    },
    { lane, h: LANE_H, gap: LANE_GAP },
  );
}

/** Whether nbdinfo's map has any byte of value `v` in [lo, hi) (beyond the raster's float noise). */
const holds = (map: [number, number, number, ...unknown[]][], v: number, lo: number, hi: number) =>
  map.some(([o, l, x]) => x === v && Math.min(hi, o + l) - Math.max(lo, o) > (hi - lo) * 1e-5);

async function openCheckpoints(page: Page) {
  await openApp(page);
  await dropAndWait(page, [image('bitmaps-checkpoints', 'top.qcow2')]);
  await expect(page.getByTestId('bitmap-legend')).toBeVisible();
}

test('every bitmap has a lane, dirty exactly where nbdinfo --map=qemu:dirty-bitmap:NAME says so', async ({
  page,
}) => {
  await openCheckpoints(page);
  const tracks = page.getByRole('region', { name: 'Extent tracks' });
  await expect(page.getByTestId('tracks-canvas')).toHaveAttribute('data-ready', 'true');
  const labels = await tracks.locator('.track-labels li').allInnerTexts();
  const length = 4 * 1024 * K;
  const cases: [string, string][] = [
    ['cp1', 'nbd-bitmap-cp1.txt'],
    ['cp2', 'nbd-bitmap-cp2.txt'],
    ['cp3', 'nbd-bitmap-cp3.txt'],
    ['cp4', 'nbd-bitmap-cp4.txt'],
    ['Daily.Backup:1', 'nbd-bitmap-.44aily.2e.42ackup.3a1.txt'],
    ['cp5', 'nbd-bitmap-cp5.txt'],
  ];
  for (const [name, file] of cases) {
    const lane = labels.indexOf(`bitmap ${name}`);
    expect(lane, name).toBeGreaterThan(0);
    const px = await lanePixels(page, lane);
    const map = parseNbdinfo(golden('bitmaps-checkpoints', file)!);
    const want = px.map((_, p) => {
      const lo = (length * p) / px.length;
      const hi = (length * (p + 1)) / px.length;
      return holds(map, 1, lo, hi) ? lower(BITMAP.dirty) : lower(LIGHT.empty);
    });
    expect(px, `${name}: lane pixels against ${file}`).toEqual(want);
  }
});

test("the backup fill shows cp1's dirty clusters as data, zero or absent as QEMU's maps make them, with the bytes of each", async ({
  page,
}) => {
  await openCheckpoints(page);
  const legend = page.getByTestId('bitmap-legend');
  await legend.getByLabel('Bitmap the dirty and backup layers show').selectOption('cp1');
  await legend.getByRole('checkbox', { name: /Incremental backup from cp1/ }).check();
  await expect(page).toHaveURL(/bm=cp1/);
  await expect(page).toHaveURL(/layers=[^&]*backup/);
  const canvas = page.getByTestId('heatmap-canvas');
  await expect(canvas).toHaveAttribute('data-ready', 'true');
  await expect(canvas).toHaveAttribute('data-bytes-per-cell', String(64 * K));
  const length = 4 * 1024 * K;
  const runs = goldenBackupRuns('bitmaps-checkpoints', 'nbd-bitmap-cp1.txt', length);
  const colour: Record<number, string> = {
    [BACKUP_CLEAN]: LIGHT.empty,
    [BACKUP_DATA]: LIGHT.data,
    [BACKUP_ZERO]: LIGHT.zero,
    [BACKUP_ABSENT]: LIGHT.absent,
  };
  let checked = 0;
  for (let i = 0; i < length / (64 * K); i++) {
    const lo = i * 64 * K;
    const classes = [BACKUP_CLEAN, BACKUP_DATA, BACKUP_ZERO, BACKUP_ABSENT].filter((v) =>
      holds(runs, v, lo, lo + 64 * K),
    );
    if (classes.length !== 1) continue;
    // The cell's middle (the bar of "allocated in top" is at its foot).
    expect(await cellColour(page, i, { x: 0.5, y: 0.45 }), `cluster ${i}`).toBe(lower(colour[classes[0]!]!));
    checked++;
  }
  expect(checked).toBe(64);
  const sum = (v: number) => runs.filter((r) => r[2] === v).reduce((a, r) => a + r[1], 0);
  await expect(page.getByTestId('backup-data')).toContainText(
    `dirty data: ${sizeAndBytes(sum(BACKUP_DATA))}`,
  );
  await expect(page.getByTestId('backup-zero')).toContainText(
    `dirty zero: ${sizeAndBytes(sum(BACKUP_ZERO))}`,
  );
  await expect(page.getByTestId('backup-absent')).toContainText(
    `dirty absent: ${sizeAndBytes(sum(BACKUP_ABSENT))}`,
  );
  await expect(page.getByTestId('bitmap-note')).toContainText('One bit covers a 64 KiB granule');
  // The dirty bar over the content fill: on a cluster dirty in cp1, the bar's colour at the top.
  await legend.getByRole('checkbox', { name: /Incremental backup/ }).uncheck();
  await legend.getByRole('checkbox', { name: 'Dirty in cp1' }).check();
  const dirtyCluster = runs.find((r) => r[2] === BACKUP_DATA)![0] / (64 * K);
  await expect(canvas).toHaveAttribute('data-ready', 'true');
  await expect.poll(() => cellColour(page, dirtyCluster, { x: 0.3, y: 0.04 })).toBe(lower(BITMAP.dirty));
});

test("the inspector gives every bitmap's bit, granule and flags, and the image panel qemu-img measure", async ({
  page,
}) => {
  await openCheckpoints(page);
  const canvas = page.getByTestId('heatmap-canvas');
  await expect(canvas).toHaveAttribute('data-ready', 'true');
  const offset = 16 * 64 * K; // 1 MiB
  await canvas.click({ position: await cellCentre(page, 16) });
  const table = page.getByTestId('inspector-bitmaps');
  await expect(table).toBeVisible();
  const info = JSON.parse(golden('bitmaps-checkpoints', 'info.json')!)[0]['format-specific'].data.bitmaps as {
    name: string;
    flags: string[];
    granularity: number;
  }[];
  const files: Record<string, string> = {
    cp1: 'nbd-bitmap-cp1.txt',
    cp2: 'nbd-bitmap-cp2.txt',
    cp3: 'nbd-bitmap-cp3.txt',
    cp4: 'nbd-bitmap-cp4.txt',
    'Daily.Backup:1': 'nbd-bitmap-.44aily.2e.42ackup.3a1.txt',
    cp5: 'nbd-bitmap-cp5.txt',
  };
  for (const b of info) {
    const row = table.locator(`tr[data-bitmap="${b.name}"]`);
    const map = parseNbdinfo(golden('bitmaps-checkpoints', files[b.name]!)!);
    const v = map.find(([o, l]) => o <= offset && offset < o + l)![3];
    await expect(row.getByTestId('bitmap-state'), b.name).toContainText(v);
    const g0 = offset - (offset % b.granularity);
    await expect(row, b.name).toContainText(`[${hex(g0)}, ${hex(g0 + b.granularity)})`);
    await expect(row, b.name).toContainText(b.flags.length ? b.flags.join(', ') : '—');
    await expect(row, b.name).toContainText(b.flags.includes('auto') ? 'enabled' : 'disabled');
  }
  const measure = page.getByTestId('measure');
  const q = JSON.parse(golden('measure', 'bitmaps-checkpoints.qcow2.json')!);
  const raw = JSON.parse(golden('measure', 'bitmaps-checkpoints.raw.json')!);
  await expect(page.getByTestId('measure-qcow2')).toContainText(`(${q.required} bytes)`);
  await expect(page.getByTestId('measure-qcow2')).toContainText(`(${q['fully-allocated']} bytes)`);
  await expect(page.getByTestId('measure-qcow2')).toContainText(`(${q.bitmaps} bytes)`);
  await expect(page.getByTestId('measure-raw')).toContainText(`(${raw.required} bytes)`);
  await expect(measure).toContainText('4 MiB (4194304 bytes)');
});

test('a bitmap diffed against what the top layer holds: the granules past the writes, with reasons', async ({
  page,
}) => {
  await openApp(page);
  await dropAndWait(page, [image('bitmaps-chain', 'top.qcow2'), image('bitmaps-chain', 'base.qcow2')]);
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  await picker.getByLabel('A interpretation').selectOption('nbd-dirty-bitmap-top-only');
  await picker.getByLabel('A view').selectOption('');
  await picker.getByLabel('B interpretation').selectOption('written-in-top');
  await picker.getByLabel('B view').selectOption('');
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');
  // Where nbdinfo says dirty in top-only but not local in allocation-depth: three 64 KiB clusters.
  await expect(page.getByTestId('diff-current')).toHaveText('3 differences');
  await page.getByRole('button', { name: /Next/ }).click();
  await expect(page.getByTestId('diff-why')).toContainText('granularity 128 KiB');
  await expect(page.getByTestId('diff-why')).toContainText('reports not in top');
  await expect(page).toHaveURL(/a=nbd-dirty-bitmap-top-only/);
});

test('two images: qemu-img compare says before it reads how much, then what qemu-img prints and every range', async ({
  page,
}) => {
  await openApp(page);
  await dropAndWait(page, [image('compare', 'a.qcow2')]);
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  const view = page.getByTestId('diff-view');
  await view.getByLabel(/Open image B/).setInputFiles(join(IMAGES, 'compare', 'a-byte.qcow2'));
  const box = page.getByTestId('content-compare');
  await expect(box.getByTestId('compare-plan')).toContainText('Listing every difference reads');
  await box.getByRole('button', { name: 'Compare content' }).click();
  await expect(box.getByTestId('compare-output')).toHaveText(
    golden('compare', 'a.qcow2--a-byte.qcow2.txt')!.trim(),
  );
  await expect(box).toContainText(
    `qemu-img compare exits ${Number(golden('compare', 'a.qcow2--a-byte.qcow2.txt.exit'))}`,
  );
  const first = /Content mismatch at offset (\d+)!/.exec(
    golden('compare', 'a.qcow2--a-byte.qcow2.txt')!,
  )![1]!;
  await expect(box.getByTestId('compare-ranges').locator('li').first()).toContainText(
    `sector ${hex(Number(first))}`,
  );
});

test('qemu-img bitmap in the sandbox: a bitmap added, a write dirties it, its lane shows it', async ({
  page,
}) => {
  await openApp(page);
  const sb = page.getByRole('region', { name: 'Sandbox' });
  await sb.getByRole('button', { name: 'Create' }).click();
  await sb.getByLabel('operation').selectOption('bitmap');
  await sb.getByLabel('bitmap name').fill('cp');
  await sb.getByRole('button', { name: 'Apply' }).click();
  await sb.getByLabel('operation').selectOption('write');
  await sb.getByRole('button', { name: 'Apply' }).click();
  await expect(sb.getByTestId('sandbox-log')).toHaveText(
    [
      'qemu-img create -f qcow2 -o compat=1.1 base.qcow2 1048576',
      'qemu-img bitmap --add base.qcow2 cp',
      "qemu-io -c 'write -P 0xab 0 65536' base.qcow2",
    ].join('\n'),
  );
  await expect(page.getByTestId('bitmap-legend')).toContainText('cp');
  const tracks = page.getByRole('region', { name: 'Extent tracks' });
  await expect(tracks.locator('.track-labels li').last()).toHaveText('bitmap cp');
  await expect(page.getByTestId('tracks-canvas')).toHaveAttribute('data-ready', 'true');
  const labels = await tracks.locator('.track-labels li').allInnerTexts();
  const px = await lanePixels(page, labels.length - 1);
  // 64 KiB of 1 MiB dirty: the first sixteenth of the lane.
  expect(px[0]).toBe(lower(BITMAP.dirty));
  expect(px[Math.floor(px.length / 16) + 1]).toBe(lower(LIGHT.empty));
  expect(px.at(-1)).toBe(lower(LIGHT.empty));
});

for (const width of [800, 1440])
  for (const theme of ['light', 'dark'] as const)
    test(`screenshot: bitmaps and the backup fill at ${width} px, ${theme}`, async ({ page }) => {
      await page.setViewportSize({ width, height: 900 });
      await page.emulateMedia({ colorScheme: theme });
      await openCheckpoints(page);
      // Below the fold on a wide screen, where the inspector (once a cell is picked) stays beside it.
      await page
        .getByTestId('measure')
        .screenshot({ path: `${SHOTS}/bitmaps-${width}-${theme}-measure.png` });
      const legend = page.getByTestId('bitmap-legend');
      await legend.getByLabel('Bitmap the dirty and backup layers show').selectOption('cp1');
      await legend.getByRole('checkbox', { name: /Incremental backup/ }).check();
      await legend.getByRole('checkbox', { name: /Dirty in/ }).check();
      const canvas = page.getByTestId('heatmap-canvas');
      await expect(canvas).toHaveAttribute('data-ready', 'true');
      await canvas.click({ position: await cellCentre(page, 16) });
      await expect(page.getByTestId('inspector-bitmaps')).toBeVisible();
      // The tooltip would cover the legend: the pointer and the keyboard leave the map.
      await page.mouse.move(0, 0);
      await canvas.blur();
      await expect(page.getByRole('tooltip')).toHaveCount(0);
      await expect(page.getByTestId('backup-data')).toContainText('dirty data');
      await page.screenshot({ path: `${SHOTS}/bitmaps-${width}-${theme}.png` });
      await page.screenshot({ path: `${SHOTS}/bitmaps-${width}-${theme}-full.png`, fullPage: true });
      // The parts below the fold, each on its own.
      await page
        .getByRole('region', { name: 'Extent tracks' })
        .screenshot({ path: `${SHOTS}/bitmaps-${width}-${theme}-tracks.png` });
      await page
        .getByTestId('inspector-bitmaps')
        .screenshot({ path: `${SHOTS}/bitmaps-${width}-${theme}-inspector.png` });
    });
