import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { cellColour, FIXTURES, fresh, openApp, openId, shareFrom, waitForMap } from './helpers.ts';
import { serveFiles } from './rangeServer.ts';

const SHOTS = 'test-results/screenshots';

test('opens a remote chain by URL with range requests, reading only metadata; backing resolved relative to the URL', async ({
  page,
}) => {
  const srv = await serveFiles(FIXTURES, { ranges: true });
  try {
    await openApp(page);
    const before = await openId(page);
    const url = `${srv.origin}/chain-3/top.qcow2`;
    await page.getByLabel('http(s) URL of a qcow2 or raw image').fill(url);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await waitForMap(page, before);
    await expect(page.getByRole('region', { name: 'Backing chain' })).toContainText('base.qcow2');
    const files = ['top.qcow2', 'mid.qcow2', 'base.qcow2'];
    for (const f of files) expect(srv.log.some((l) => l.path === `/chain-3/${f}`)).toBe(true);
    expect(srv.log.every((l) => l.status === 206 && l.range !== undefined)).toBe(true);
    const total = files.reduce((n, f) => n + statSync(join(FIXTURES, 'chain-3', f)).size, 0);
    const sent = srv.log.reduce((n, l) => n + l.bytes, 0);
    console.log(`remote chain-3: ${srv.log.length} requests, ${sent} of ${total} bytes`);
    // Only metadata: the data clusters are never fetched.
    expect(sent).toBeLessThan(total);
    expect(await cellColour(page, 0)).toMatch(/^#/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}/remote-chain.png` });
  } finally {
    await srv.close();
  }
});

test('a permalink names the remote URL: a fresh page reads the same image from the named host, metadata only, and lands on the same view', async ({
  page,
  browser,
}) => {
  const srv = await serveFiles(FIXTURES, { ranges: true });
  try {
    await openApp(page);
    const before = await openId(page);
    const url = `${srv.origin}/chain-3/top.qcow2`;
    await page.getByLabel('http(s) URL of a qcow2 or raw image').fill(url);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await waitForMap(page, before);
    await page.evaluate(() => {
      window.location.hash = '#range=0x10000-0x50000&sel=0x20000';
    });
    await expect(page.locator('.heatmap-caption')).toContainText('0x10000–0x50000 (256 KiB)');
    const link = await shareFrom(page, false);
    expect(link).toContain(`url=${encodeURIComponent(url)}`);
    expect(link).toContain('range=0x10000-0x50000');
    expect(link).toContain('sel=0x20000');

    const served = srv.log.length;
    const other = await fresh(browser, link);
    await waitForMap(other, 0);
    const host = new URL(srv.origin).host;
    const notices = other.getByTestId('link-notices');
    await expect(notices).toContainText(
      `This link opens a remote image: reading top.qcow2 from ${host} (http)`,
    );
    await expect(notices).toContainText('Same image as the link');
    await expect(other.locator('.heatmap-caption')).toContainText('0x10000–0x50000 (256 KiB)');
    await expect(other.getByTestId('inspector')).toContainText('Cluster at 0x20000');
    await expect(other.getByRole('region', { name: 'Backing chain' })).toContainText('base.qcow2');
    // The recipient's page read metadata only, by range requests, from the three files.
    const mine = srv.log.slice(served);
    const files = ['top.qcow2', 'mid.qcow2', 'base.qcow2'];
    for (const f of files) expect(mine.some((l) => l.path === `/chain-3/${f}`)).toBe(true);
    expect(mine.every((l) => l.status === 206 && l.range !== undefined)).toBe(true);
    const total = files.reduce((n, f) => n + statSync(join(FIXTURES, 'chain-3', f)).size, 0);
    const sent = mine.reduce((n, l) => n + l.bytes, 0);
    console.log(`remote permalink: ${mine.length} requests, ${sent} of ${total} bytes`);
    expect(sent).toBeLessThan(total);
    // The link says where it reads from, and its hash never carries credentials.
    expect(other.url()).toContain(encodeURIComponent(url));
    await other.screenshot({ path: `${SHOTS}/remote-permalink.png` });
  } finally {
    await srv.close();
  }
});

test('a link naming a URL with credentials is refused, and nothing is fetched', async ({ page }) => {
  const srv = await serveFiles(FIXTURES, { ranges: true });
  try {
    const withCreds = `http://alice:secret@${new URL(srv.origin).host}/chain-3/top.qcow2`;
    await page.goto(`/#v=2&url=${encodeURIComponent(withCreds)}`);
    await expect(page.getByTestId('link-notices')).toContainText(
      'The image URL in the link was refused: it carries a user name or password.',
    );
    await waitForMap(page, 0); // the default view: the first sample
    expect(srv.log).toEqual([]);
    expect(page.url()).not.toContain('secret');
  } finally {
    await srv.close();
  }
});

test('a server without range support gets a clear error and the image is not downloaded', async ({
  page,
}) => {
  const srv = await serveFiles(FIXTURES, { ranges: false });
  try {
    await openApp(page);
    await page.getByLabel('http(s) URL of a qcow2 or raw image').fill(`${srv.origin}/chain-3/top.qcow2`);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await expect(page.getByText(/does not support range requests/)).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/remote-no-range.png` });
  } finally {
    await srv.close();
  }
});
