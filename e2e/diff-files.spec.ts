/**
 * The diff view across two files (issue 4): an image and its later copy (fixtures copy-early
 * and copy-later, made with qemu-img/qemu-io), B picked from the diff view or dropped on it;
 * the legend's byte counts equal `clusterscope diff` on the same two files; the link names B
 * by name and fingerprint and asks a recipient for it; internal snapshots as views.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { binarySize } from '../src/core/format.ts';
import { dropAndWait, dropFiles, fixture, openApp, waitForMap } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const IMAGES = resolve(ROOT, 'fixtures/images');
const EARLY = ['vm.qcow2', 'base.raw'].map((n) => resolve(IMAGES, 'copy-early', n));
const LATER = ['vm-later.qcow2', 'base.raw'].map((n) => resolve(IMAGES, 'copy-later', n));
const file = (path: string) => ({ name: path.slice(path.lastIndexOf('/') + 1), bytes: readFileSync(path) });
const K = 65536;
// Kinds of disagreement in order of appearance (palette KINDS), and agreement.
const COLOURS = { kind0: '#800000', kind1: '#ee99aa', kind2: '#004488', agree: '#d4d4d4' };

interface CliDiff {
  lengthA: number;
  lengthB: number;
  bytesDiffering: number;
  bytesAgreeing: number;
  kinds: { id: string; label: string; bytes: number; extents: number }[];
  extents: { start: number; length: number; kind: string }[];
}

/** `clusterscope diff --output=json` of the built CLI (npm run build:cli) on the same files. */
function cli(args: string[]): CliDiff {
  const bin = resolve(ROOT, 'bin/clusterscope.mjs');
  expect(existsSync(bin), 'the CLI is built (npm run build:cli)').toBe(true);
  const r = spawnSync('node', [bin, 'diff', '--output=json', '--no-reasons', ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CliDiff;
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

async function compareMaps(page: Page, a = 'qemu-img-map-7.2', b = 'qemu-img-map-7.2') {
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  await picker.getByLabel('A interpretation').selectOption(a);
  await picker.getByLabel('A view').selectOption('');
  await picker.getByLabel('B interpretation').selectOption(b);
  await picker.getByLabel('B view').selectOption('');
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');
}

/** The legend equals the CLI's diff: every kind's exact bytes (title) and shown size, and the totals. */
async function expectLegendEquals(page: Page, d: CliDiff) {
  const legend = page.getByTestId('diff-legend');
  await expect(legend.locator('li[data-kind]')).toHaveCount(1 + d.kinds.length);
  for (const k of d.kinds) {
    const li = legend.locator(`li[data-kind="${k.id}"]`);
    await expect(li.locator('.diff-kind-label')).toHaveText(k.label);
    await expect(li.locator('.diff-bytes')).toHaveAttribute('title', `${k.bytes} bytes`);
    await expect(li.locator('.diff-bytes')).toHaveText(binarySize(k.bytes));
  }
  await expect(legend.locator('li[data-kind="agree"] .diff-bytes')).toHaveAttribute(
    'title',
    `${d.bytesAgreeing} bytes`,
  );
  await expect(legend.locator('.diff-total')).toHaveText(
    `${binarySize(d.bytesDiffering)} differ in ${d.extents.length} extents; ${binarySize(d.bytesAgreeing)} agree.`,
  );
}

test.beforeEach(async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
});

test('an image and its later copy: B picked in the diff view, legend equal to clusterscope diff, colours, n/p, link', async ({
  page,
}) => {
  await dropAndWait(page, EARLY.map(file));
  await compareMaps(page);
  // One image under one interpretation agrees with itself.
  await expect(page.getByTestId('diff-legend').locator('.diff-total')).toHaveText(
    'A and B agree on all 512 KiB.',
  );

  const second = page.getByTestId('diff-second');
  await expect(second).toContainText("B reads the page's image (vm.qcow2)");
  await second.getByLabel(/Open image B/).setInputFiles(LATER);
  await expect(second).toContainText('B reads vm-later.qcow2 with base.raw (768 KiB).');
  await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');

  const d = cli(['--a=qemu-img-map-7.2', EARLY[0]!, LATER[0]!]);
  expect([d.lengthA, d.lengthB]).toEqual([8 * K, 12 * K]);
  await expectLegendEquals(page, d);
  await expect(page.getByTestId('diff-files')).toHaveText('A reads vm.qcow2, B reads vm-later.qcow2.');
  await expect(page.getByTestId('diff-sizes')).toHaveText(
    'Virtual sizes differ (A 512 KiB, B 768 KiB): compared where both reach, the first 512 KiB; the remaining 256 KiB are only in B.',
  );
  await expect(
    page.getByRole('region', { name: 'Difference lanes' }).locator('.track-labels li').first(),
  ).toHaveText('A (vm.qcow2): qemu-img map (QEMU 7.2)');

  // Pixels: the whole comparison (768 KiB) in view, one cell per 64 KiB cluster. Kinds take
  // colours in order of first appearance: clusters 0-1 data -> zero, 3 and 5 backing -> top,
  // 8-11 only in B; the rest agree.
  await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-bytes-per-cell', String(K));
  const want = [
    COLOURS.kind0,
    COLOURS.kind0,
    COLOURS.agree,
    COLOURS.kind1,
    COLOURS.agree,
    COLOURS.kind1,
    COLOURS.agree,
    COLOURS.agree,
    COLOURS.kind2,
    COLOURS.kind2,
    COLOURS.kind2,
    COLOURS.kind2,
  ];
  for (const [i, c] of want.entries()) expect(await diffCell(page, i), `cluster ${i}`).toBe(c);

  // Step with the keyboard.
  const current = page.getByTestId('diff-current');
  await page.keyboard.press('n');
  await expect(current).toHaveText(`Difference 1 of 4: clusters 0-1 at 0x0, ${d.kinds[0]!.label}`);
  await page.keyboard.press('n');
  await expect(current).toHaveText(`Difference 2 of 4: cluster 3 at 0x30000, ${d.kinds[1]!.label}`);
  await page.keyboard.press('n');
  await page.keyboard.press('n');
  await expect(current).toHaveText(
    'Difference 4 of 4: clusters 8-11 at 0x80000, only in B (A ends at 524288)',
  );
  await expect(page.getByTestId('diff-why')).toContainText('only B (vm-later.qcow2) reaches here');
  await page.keyboard.press('p');
  await expect(current).toHaveText(`Difference 3 of 4: cluster 5 at 0x50000, ${d.kinds[1]!.label}`);

  // The link names B by base names and identity, never by path or bytes.
  const hash = decodeURIComponent(await page.evaluate(() => window.location.hash));
  expect(hash).toMatch(/&bfile=vm-later\.qcow2&bfile=base\.raw&bsize=0xc0000&bfp=[0-9a-f]{16}(&|$)/);
  expect(hash).not.toContain('/fixtures');
  expect(hash.length).toBeLessThan(600);
});

test('files dropped on the diff view open as image B; the page image stays', async ({ page }) => {
  await dropAndWait(page, EARLY.map(file));
  await compareMaps(page, 'nbd-base-allocation-6.0', 'nbd-base-allocation-6.0');
  const view = page.getByTestId('diff-view');
  // A real drag: dragenter shows the hint, the drop hands the files to image B.
  await view.evaluate(
    (el, list) => {
      const dt = new DataTransfer();
      for (const f of list)
        dt.items.add(new File([Uint8Array.from(atob(f.b64), (ch) => ch.charCodeAt(0))], f.name));
      for (const type of ['dragenter', 'dragover', 'drop'])
        el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    LATER.map(file).map((f) => ({ name: f.name, b64: f.bytes.toString('base64') })),
  );
  await expect(page.getByTestId('diff-files')).toHaveText('A reads vm.qcow2, B reads vm-later.qcow2.');
  await expectLegendEquals(page, cli(['--a=nbd-base-allocation-6.0', EARLY[0]!, LATER[0]!]));
  await expect(page.locator('.app-header .files')).toHaveText('vm.qcow2, base.raw');
  await expect(view).toHaveAttribute('data-dropping', 'false');

  // B reads the page's image again: one image agrees with itself.
  await page.getByRole('button', { name: "B reads the page's image" }).click();
  await expect(page.getByTestId('diff-legend').locator('.diff-total')).toHaveText(
    'A and B agree on all 512 KiB.',
  );
  expect(decodeURIComponent(await page.evaluate(() => window.location.hash))).not.toContain('bfile');
});

test('a link with image B asks for both files and flags a wrong B', async ({ page }) => {
  await dropAndWait(page, EARLY.map(file));
  await compareMaps(page);
  await page
    .getByTestId('diff-second')
    .getByLabel(/Open image B/)
    .setInputFiles(LATER);
  await expect(page.getByTestId('diff-files')).toBeVisible();
  const hash = await page.evaluate(() => window.location.hash);

  const other = await page.context().newPage();
  await other.emulateMedia({ colorScheme: 'light' });
  await other.goto(`/${hash}`);
  const second = other.getByTestId('diff-second');
  await expect(second.locator('.diff-second-status')).toHaveAttribute('data-needs-files', 'true');
  await expect(second).toContainText(
    /This comparison's B reads vm-later\.qcow2 with base\.raw \(768 KiB, fingerprint [0-9a-f]{16}\)/,
  );
  await expect(other.getByTestId('link-notices')).toContainText('vm.qcow2');

  await dropFiles(other, EARLY.map(file));
  await waitForMap(other, 0).catch(() => {});
  // A wrong B (the early image itself) is flagged, and compared anyway.
  await second.getByLabel(/Open image B/).setInputFiles([EARLY[0]!, EARLY[1]!]);
  await expect(other.getByTestId('link-notices')).toContainText(
    'Image B: Different image: the link was made for vm-later.qcow2 (768 KiB',
  );
  await expect(other.getByTestId('diff-legend').locator('.diff-total')).toHaveText(
    'A and B agree on all 512 KiB.',
  );
  await other.screenshot({ path: 'test-results/screenshots/diff-files-wrong-b.png', fullPage: true });
  await other.close();
});

test('internal snapshots are views in the picker: snapshot s1 against the active L1 equals the CLI', async ({
  page,
}) => {
  await dropAndWait(page, [fixture('snapshots', 'top.qcow2')]);
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  const aView = picker.getByLabel('A view');
  await expect(aView.locator('option')).toContainText([
    "with backing chain, snapshot s1's L1",
    "backing: null, snapshot s1's L1",
    "with backing chain, snapshot s2's L1",
  ]);
  await picker.getByLabel('A interpretation').selectOption('qemu-img-map-7.2');
  await aView.selectOption('snapshot:s1');
  await picker.getByLabel('B interpretation').selectOption('qemu-img-map-7.2');
  await picker.getByLabel('B view').selectOption('');
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');
  const d = cli([
    '--a=qemu-img-map-7.2@snapshot:s1',
    '--b=@',
    resolve(ROOT, 'public/samples/snapshots/top.qcow2'),
  ]);
  expect(d.kinds.length).toBeGreaterThan(0);
  await expectLegendEquals(page, d);
  await expect(page.locator('.diff-sides')).toContainText("snapshot s1's L1");
  expect(decodeURIComponent(await page.evaluate(() => window.location.hash))).toContain(
    'a=qemu-img-map-7.2@snapshot:s1',
  );
});

for (const theme of ['light', 'dark'] as const) {
  test(`two-file diff screenshot 1440px ${theme}`, async ({ page }) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.emulateMedia({ colorScheme: theme });
    await dropAndWait(page, EARLY.map(file));
    await compareMaps(page);
    await page
      .getByTestId('diff-second')
      .getByLabel(/Open image B/)
      .setInputFiles(LATER);
    await expect(page.getByTestId('diff-files')).toBeVisible();
    await expect(page.getByTestId('diff-canvas')).toHaveAttribute('data-ready', 'true');
    await page.keyboard.press('n');
    await page.screenshot({ path: `test-results/screenshots/diff-files-${theme}.png`, fullPage: true });
  });
}
