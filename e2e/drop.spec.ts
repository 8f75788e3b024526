import { expect, test } from '@playwright/test';
import { cellColour, dropAndWait, dropFiles, fixture, openApp } from './helpers.ts';

const DATA = '#0072b2';
const ZERO = '#e69f00';
const ABSENT = '#c9c9c9';
const ERROR = '#d55e00';

test.beforeEach(async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await openApp(page);
});

test('dropping one real image maps it', async ({ page }) => {
  await dropAndWait(page, [fixture('compressed-zlib', 'top.qcow2')]);
  await expect(page.locator('.app-header .files')).toHaveText('top.qcow2');
  const chain = page.getByRole('region', { name: 'Backing chain' });
  await expect(chain).toContainText('qcow2 v3');
  await expect(chain).toContainText('64 KiB');
  await expect(page.locator('.heatmap-caption')).toContainText('one cell = 64 KiB (one cluster)');
  expect(await cellColour(page, 0)).toBe(DATA);
});

test('a 3-file chain dropped at once is matched by backing file name, in any order', async ({ page }) => {
  await dropAndWait(page, [
    fixture('chain-3', 'base.qcow2'),
    fixture('chain-3', 'top.qcow2'),
    fixture('chain-3', 'mid.qcow2'),
  ]);
  const rows = page.getByRole('region', { name: 'Backing chain' }).locator('tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText('top.qcow2');
  await expect(rows.nth(0)).toContainText('mid.qcow2');
  await expect(rows.nth(1)).toContainText('mid.qcow2');
  await expect(rows.nth(2)).toContainText('base.qcow2');
  // chain-3: base data [0,256K); mid data [64K,192K) + zero [192K,256K); top discards c0 (zero).
  expect(await cellColour(page, 0)).toBe(ZERO);
  expect(await cellColour(page, 1)).toBe(DATA);
  expect(await cellColour(page, 3)).toBe(ZERO);
});

test('a missing backing file is named, and the top still maps with the gap shown', async ({ page }) => {
  await dropAndWait(page, [fixture('nbd-hole-example', 'top.qcow2')]);
  const gap = page.getByRole('region', { name: 'Backing chain' }).locator('tr.missing');
  await expect(gap).toContainText('Missing backing file base.raw');
  await expect(gap).toContainText('named by top.qcow2');
  // c0 came from base.raw: without it, it is absent; c1 is still the top's data.
  expect(await cellColour(page, 0)).toBe(ABSENT);
  expect(await cellColour(page, 1)).toBe(DATA);
});

test('a corrupt L1 entry shows the typed error next to what parsed', async ({ page }) => {
  const top = fixture('nbd-hole-example', 'top.qcow2');
  const bytes = new Uint8Array(top.bytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const l1 = Number(dv.getBigUint64(40));
  // L1[0] -> an L2 table offset that is not cluster-aligned: QEMU refuses (EIO).
  dv.setBigUint64(l1, 0x8000000000010200n);
  await dropAndWait(page, [{ name: 'corrupt.qcow2', bytes }, fixture('nbd-hole-example', 'base.raw')]);
  const errors = page.getByRole('region', { name: 'Errors and findings' });
  await expect(errors).toContainText('CorruptError in corrupt.qcow2: L2 table (L1[0])');
  await expect(errors).toContainText(`at 0x${(0x10200).toString(16)}`);
  await expect(errors).toContainText('unaligned');
  await expect(page.getByRole('region', { name: 'Backing chain' })).toContainText('corrupt.qcow2');
  expect(await cellColour(page, 0)).toBe(ERROR);
});

test('a file that is not a usable image shows its typed error and the page keeps working', async ({
  page,
}) => {
  const bad = new Uint8Array(1024);
  bad.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]);
  await dropFiles(page, [{ name: 'future.qcow2', bytes: bad }]);
  const errors = page.getByRole('region', { name: 'Errors and findings' });
  await expect(errors).toContainText('future.qcow2');
  await expect(errors).toContainText(/header/);
  await expect(page.getByTestId('heatmap-canvas')).toHaveCount(0);
  await dropAndWait(page, [fixture('extl2', 'top.qcow2')]);
  await expect(page.locator('.heatmap-caption')).toContainText('32 subclusters each');
});

test('an unrelated image dropped with a chain: the longest chain is shown, the other and a same-name file are said', async ({
  page,
}) => {
  const other = { ...fixture('compressed-zlib', 'top.qcow2'), name: 'other.qcow2' };
  const again = { ...fixture('extl2', 'top.qcow2') };
  await dropAndWait(page, [
    other,
    fixture('chain-3', 'top.qcow2'),
    fixture('chain-3', 'mid.qcow2'),
    fixture('chain-3', 'base.qcow2'),
    again,
  ]);
  await expect(page.getByRole('region', { name: 'Backing chain' }).locator('tbody tr')).toHaveCount(3);
  const left = page.getByTestId('unused-files');
  await expect(left).toContainText('other.qcow2: not in the chain of top.qcow2 (an image of its own');
  await expect(left).toContainText('top.qcow2: a second file named top.qcow2');
});

test('a file without the qcow2 magic opens as a raw disk, and the chain says so and why', async ({
  page,
}) => {
  await openApp(page);
  await dropAndWait(page, [{ name: 'disk.qcow2', bytes: Buffer.from('just some text\n'.repeat(4096)) }]);
  const note = page.getByRole('region', { name: 'Backing chain' }).getByTestId('probed-raw');
  await expect(note).toContainText('disk.qcow2 is read as a raw disk image: it starts with 6a 75 73 74');
  await expect(note).toContainText(
    'with -f qcow2 (as qemu-img -f qcow2) it is refused: Image is not in qcow2 format',
  );
});
