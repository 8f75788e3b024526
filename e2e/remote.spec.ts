import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { cellColour, FIXTURES, openApp, openId, waitForMap } from './helpers.ts';
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
