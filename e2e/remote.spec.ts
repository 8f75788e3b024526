import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { withBackingName } from '../src/testing/rangeFetch.ts';
import { cellColour, FIXTURES, fresh, openApp, openId, shareFrom, waitForMap } from './helpers.ts';
import { openByUrl, serveFiles } from './rangeServer.ts';

const SHOTS = 'test-results/screenshots';

test('opens a remote chain by URL with range requests, reading only metadata; backing resolved relative to the URL', async ({
  page,
}) => {
  const srv = await serveFiles(FIXTURES, { ranges: true });
  try {
    await openApp(page);
    const before = await openId(page);
    const url = `${srv.origin}/chain-3/top.qcow2`;
    await openByUrl(page, url);
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

test('a permalink names the remote URL: a fresh page shows it and asks, then reads the same image from the named host, metadata only, and lands on the same view', async ({
  page,
  browser,
}) => {
  const srv = await serveFiles(FIXTURES, { ranges: true });
  try {
    await openApp(page);
    const before = await openId(page);
    const url = `${srv.origin}/chain-3/top.qcow2`;
    await openByUrl(page, url);
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
    // The link's author chose the host, not this reader: the page shows the URL and asks first.
    const host = new URL(srv.origin).host;
    const ask = other.getByTestId('remote-ask');
    await expect(ask).toContainText(`This link asks to read a disk image from ${host}: ${url}`);
    await expect(ask).toContainText(`Nothing has been requested from ${srv.origin} yet.`);
    await other.waitForTimeout(500);
    expect(srv.log.length).toBe(served);
    await ask.getByRole('button', { name: `Read from ${host}` }).click();
    await waitForMap(other, 0);
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
    await openByUrl(page, `${srv.origin}/chain-3/top.qcow2`);
    await expect(page.getByText(/does not support range requests/)).toBeVisible();
    await page.screenshot({ path: `${SHOTS}/remote-no-range.png` });
  } finally {
    await srv.close();
  }
});

test("a link's URL is not requested until the person allows it; declined, the default view opens and nothing was requested", async ({
  page,
}) => {
  const srv = await serveFiles(FIXTURES, { ranges: true });
  try {
    const url = `${srv.origin}/chain-3/top.qcow2`;
    await page.goto(`/#v=2&url=${encodeURIComponent(url)}&file=top.qcow2`);
    const ask = page.getByTestId('remote-ask');
    await expect(ask).toContainText(url);
    await ask.getByRole('button', { name: "Don't read it" }).click();
    await waitForMap(page, 0); // the default view: the first sample
    await expect(page.getByTestId('link-notices')).toContainText(`The image at ${url} was not read.`);
    await expect(page.getByTestId('link-notices')).toContainText('The default view is shown instead.');
    expect(srv.log).toEqual([]);
  } finally {
    await srv.close();
  }
});

test('a link to a cloud metadata address shows the whole address and requests nothing while it waits', async ({
  page,
}) => {
  const seen: string[] = [];
  page.on('request', (r) => seen.push(r.url()));
  const url = 'http://169.254.169.254/latest/meta-data/';
  await page.goto(`/#v=2&url=${encodeURIComponent(url)}`);
  const ask = page.getByTestId('remote-ask');
  await expect(ask).toContainText(`This link asks to read a disk image from 169.254.169.254: ${url}`);
  await page.waitForTimeout(1000);
  await page.screenshot({ path: `${SHOTS}/remote-link-ask.png` });
  await ask.getByRole('button', { name: "Don't read it" }).click();
  await waitForMap(page, 0);
  expect(seen.filter((u) => u.includes('169.254'))).toEqual([]);
});

test('a backing file on another origin is not requested until allowed: the question names it and its origin', async ({
  page,
}) => {
  const other = await serveFiles(FIXTURES, { ranges: true });
  const backing = `${other.origin}/chain-3/mid.qcow2`;
  const top = withBackingName(readFileSync(join(FIXTURES, 'chain-3', 'top.qcow2')), backing);
  const srv = await serveFiles(FIXTURES, { ranges: true, files: { '/elsewhere/top.qcow2': top } });
  try {
    await openApp(page);
    const before = await openId(page);
    await openByUrl(page, `${srv.origin}/elsewhere/top.qcow2`);
    const ask = page.getByTestId('remote-ask');
    await expect(ask).toContainText(`top.qcow2 names its backing file ${backing}: on ${other.origin}`);
    await expect(ask).toContainText(`not on the image's own server (${srv.origin})`);
    // Meanwhile the top alone is shown, and the other origin was asked for nothing.
    await waitForMap(page, before);
    await expect(page.getByRole('region', { name: 'Backing chain' })).toContainText('Missing backing file');
    expect(other.log).toEqual([]);
    await page.screenshot({ path: `${SHOTS}/remote-backing-ask.png` });
    const shown = await openId(page);
    await ask.getByRole('button', { name: `Read from ${new URL(other.origin).host}` }).click();
    await waitForMap(page, shown);
    await expect(page.getByRole('region', { name: 'Backing chain' })).toContainText('base.qcow2');
    expect(other.log.map((l) => l.path)).toEqual(
      expect.arrayContaining(['/chain-3/mid.qcow2', '/chain-3/base.qcow2']),
    );
  } finally {
    await srv.close();
    await other.close();
  }
});
