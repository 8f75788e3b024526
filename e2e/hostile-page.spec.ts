/**
 * The page always recovers, within bounded memory (issue 15 points 1-3): each hostile input is
 * dropped for real (DataTransfer through dragenter/dragover/drop), then a good image, whose
 * map must appear within a bound that shows it did not wait for the old work (the good image's
 * own open time, measured in the same test, plus the client's SUPERSEDE_MS and a generous
 * margin for a loaded 2-core machine). Before this work the good image waited more than 400 s
 * after the shared-L2 image and ~5 min after the 65,535 snapshots.
 *
 * The hostile inputs are built at test time (fixtures/hostile.py, gen-many-snapshots.py,
 * gen-long-chain.py; nothing large is committed). Times and the renderer's memory (resident
 * and peak, read from /proc for the renderer processes CDP names; the image reader is a Worker
 * in the renderer) are printed and kept in bench/README.md; memory is asserted only against a
 * generous ceiling.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { SUPERSEDE_MS } from '../src/state/client.ts';
import { PAGE_MAX_EXTENTS } from '../src/worker/budgets.ts';
import { type DropFile, dropFiles, fixture, openApp, openId } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'test-results/hostile-page');
const SHOTS = 'test-results/screenshots';

/** Builds `name` under test-results once (reruns reuse it). */
function built(name: string, make: (path: string) => void): string {
  const p = join(OUT, name);
  if (!existsSync(p)) {
    mkdirSync(OUT, { recursive: true });
    make(p);
  }
  return p;
}
const file = (path: string, name = path.slice(path.lastIndexOf('/') + 1)): DropFile => ({
  name,
  bytes: readFileSync(path),
});

const sharedL2 = () =>
  file(
    built('shared-l2-1536.qcow2', (p) =>
      execFileSync('python3', [join(ROOT, 'fixtures/hostile.py'), 'shared-l2', p, '--l1', '1536']),
    ),
  );
const manySnapshots = () =>
  file(
    built('snapshots-65535.qcow2', (p) => {
      const src = `${p}.src`;
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', src, '1M']);
      execFileSync('qemu-io', ['-c', 'write -q -P 0x11 0 64k', src]);
      execFileSync('qemu-img', ['snapshot', '-c', 's0', src]);
      execFileSync('python3', [join(ROOT, 'fixtures/gen-many-snapshots.py'), src, p, '65535']);
    }),
    'snapshots.qcow2',
  );
/** 300 files, base first (the order a file picker gives them); `hostile`: each asks for a 32 MiB L1 table. */
const longChain = (hostile: boolean) => {
  const dir = built(hostile ? 'chain-300-l1' : 'chain-300', (p) =>
    execFileSync('python3', [
      join(ROOT, 'fixtures/gen-long-chain.py'),
      p,
      '300',
      ...(hostile ? ['--l1-entries', '4194304'] : []),
    ]),
  );
  return Array.from({ length: 300 }, (_, i) => file(join(dir, `l${String(i).padStart(3, '0')}.qcow2`)));
};
/** A 108-byte qemu-img map whose one entry names depth 65535. */
const deepMap = (): DropFile => ({
  name: 'deep.json',
  bytes: Buffer.from(
    '[{ "start": 0, "length": 65536, "depth": 65535, "present": true, "zero": false, "data": true, "offset": 0}]\n',
  ),
});

const GOOD = () => [fixture('compressed-zlib', 'top.qcow2')];

/** Resident and peak resident memory of the browser's renderer processes, in MiB. */
async function renderers(browser: Browser): Promise<{ rss: number; peak: number }> {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
    processInfo: { type: string; id: number }[];
  };
  await cdp.detach();
  let rss = 0;
  let peak = 0;
  for (const p of processInfo.filter((x) => x.type === 'renderer')) {
    const s = existsSync(`/proc/${p.id}/status`) ? readFileSync(`/proc/${p.id}/status`, 'utf8') : '';
    rss += Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
    peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024);
  }
  return { rss: Math.round(rss), peak: Math.round(peak) };
}

/** The page's JS heap in MiB (Chromium's performance.memory). */
const pageHeap = (page: Page) =>
  page.evaluate(() =>
    Math.round(
      ((performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0) /
        2 ** 20,
    ),
  );

/** Drops `files` and waits until the map of this open is drawn; how long it took, in ms. */
async function dropTimed(page: Page, files: readonly DropFile[], within: number): Promise<number> {
  const before = await openId(page);
  const t0 = Date.now();
  await dropFiles(page, files);
  await expect
    .poll(
      () =>
        page
          .getByTestId('heatmap-canvas')
          .evaluate(
            (el, a) =>
              Number((el as HTMLCanvasElement).dataset.openId) > a &&
              (el as HTMLCanvasElement).dataset.ready === 'true',
            before,
          )
          .catch(() => false),
      { timeout: within, intervals: [50] },
    )
    .toBe(true);
  return Date.now() - t0;
}

/** The longest main-thread task since the page loaded (PerformanceObserver 'longtask'). */
const longestTask = (page: Page) => page.evaluate(() => (window as unknown as { longest: number }).longest);

const errors = (page: Page) => page.getByRole('region', { name: 'Errors and findings' });
const files = (page: Page) => page.locator('.app-header .files');

/**
 * Opens the app, times the good image, drops the hostile files and lets the page work on them
 * (`meanwhile` checks what it shows), then drops the good image and times it. The bound: its
 * own time (the slower of two opens) four times over, SUPERSEDE_MS, and 8 s of margin.
 */
async function recovers(
  page: Page,
  browser: Browser,
  what: string,
  hostile: () => DropFile[],
  meanwhile: () => Promise<void>,
): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { longest: number };
    w.longest = 0;
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) w.longest = Math.max(w.longest, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  await openApp(page);
  const normal = Math.max(await dropTimed(page, GOOD(), 30_000), await dropTimed(page, GOOD(), 30_000));
  const bound = 4 * normal + SUPERSEDE_MS + 8_000;
  const list = hostile();
  const m0 = await renderers(browser);
  const t0 = Date.now();
  await dropFiles(page, list);
  await meanwhile();
  const busy = Date.now() - t0;
  const m1 = await renderers(browser);
  const heap1 = await pageHeap(page);
  const recovered = await dropTimed(page, GOOD(), bound);
  await expect(files(page)).toHaveText('top.qcow2');
  const m2 = await renderers(browser);
  const longest = Math.round(await longestTask(page));
  console.log(
    `${what}: the good image opened in ${recovered} ms after it (alone: ${normal} ms; bound ${bound} ms); ` +
      `hostile shown for ${busy} ms; renderer ${m0.rss} -> ${m1.rss} -> ${m2.rss} MiB (peak ${m2.peak} MiB), ` +
      `page heap ${heap1} MiB; longest main-thread task ${longest} ms`,
  );
  expect(recovered).toBeLessThan(bound);
  expect(m2.peak).toBeLessThan(3 * 1024);
}

test.describe('hostile inputs, then a good image at its normal speed', () => {
  test.setTimeout(240_000);

  test(`a shared-L2 image of 12.6 M extents: mapped up to PAGE_MAX_EXTENTS, the LimitError names the L2 table`, async ({
    page,
    browser,
  }) => {
    await recovers(
      page,
      browser,
      'shared-L2 12.6 M extents',
      () => [sharedL2()],
      async () => {
        await expect(errors(page)).toContainText(
          new RegExp(
            `shared-l2-1536\\.qcow2: L2 table \\(L1\\[\\d+\\]\\) at 0x40000: \\d+ extents up to guest offset 0x[0-9a-f]+, more than the page keeps \\(PAGE_MAX_EXTENTS ${PAGE_MAX_EXTENTS}\\)`,
          ),
          { timeout: 120_000 },
        );
        // The map read before the budget stays on screen.
        await expect(page.getByTestId('heatmap-canvas')).toBeVisible();
        await expect(files(page)).toHaveText('shared-l2-1536.qcow2');
        await page.screenshot({ path: `${SHOTS}/hostile-page-shared-l2.png` });
      },
    );
  });

  test('a newer open during the shared-L2 scan ends it at once', async ({ page, browser }) => {
    await recovers(
      page,
      browser,
      'shared-L2 mid-scan',
      () => [sharedL2()],
      async () => {
        await expect(page.locator('.progress')).toContainText('L2 tables', { timeout: 30_000 });
      },
    );
    await expect(page.getByTestId('link-notices')).toHaveCount(0);
  });

  test('a worker that never yields is replaced within SUPERSEDE_MS, and the person is told', async ({
    page,
    browser,
  }) => {
    // Nothing in the build spins on purpose: the worker script is wrapped to spin for ever on a
    // trigger name (as e2e/crash.spec.ts does); the client's replacement is the shipped one.
    let loads = 0;
    await page.route(/\/assets\/worker-[\w-]+\.js$/, async (route) => {
      loads++;
      const res = await route.fetch();
      const trap = `self.addEventListener('message', (ev) => {
        const f = ev.data && ev.data.method === 'open' && ev.data.params.from.files;
        if (f && f[0] && f[0].name === 'spin.qcow2') for (;;) {}
      });`;
      await route.fulfill({ response: res, body: trap + (await res.text()) });
    });
    await recovers(
      page,
      browser,
      'a worker that never yields',
      () => [{ ...fixture('chain-3', 'top.qcow2'), name: 'spin.qcow2' }],
      async () => {
        await expect(files(page)).toHaveText('spin.qcow2');
        await page.waitForTimeout(500);
      },
    );
    await expect(page.getByTestId('link-notices')).toContainText(
      `The image reader was still busy with spin.qcow2 ${SUPERSEDE_MS / 1000} s after it was asked to stop (SUPERSEDE_MS), so it was replaced by a fresh one.`,
    );
    expect(loads).toBe(2);
    await expect(errors(page)).toHaveCount(0);
  });

  test('65,535 internal snapshots: listed a page at a time, the main thread never frozen', async ({
    page,
    browser,
  }) => {
    await recovers(
      page,
      browser,
      '65,535 snapshots',
      () => [manySnapshots()],
      async () => {
        const panel = page.getByRole('region', { name: 'Image' });
        await expect(panel.getByText('Snapshots (65535)')).toBeVisible({ timeout: 60_000 });
        const rows = panel.getByTestId('snapshots').getByRole('row');
        await expect(rows.first()).toContainText('s00001');
        expect(await rows.count()).toBeLessThan(100);
        // The last one is reached by scrolling, and its button maps its L1 table.
        await panel.getByTestId('snapshots').evaluate((el) => {
          el.scrollTop = el.scrollHeight;
        });
        await panel.getByRole('button', { name: 'View s65535' }).click();
        await expect(panel.getByTestId('map-source')).toContainText('snapshot s65535');
        expect(await longestTask(page)).toBeLessThan(10_000);
        await page.screenshot({ path: `${SHOTS}/hostile-page-snapshots.png` });
      },
    );
  });

  test('300 files asking 32 MiB L1 tables each: the files past CHAIN_TABLE_BYTES are not opened', async ({
    page,
    browser,
  }) => {
    await recovers(
      page,
      browser,
      '300-file chain, 32 MiB L1 tables',
      () => longChain(true),
      async () => {
        await expect(errors(page)).toContainText(
          'l008.qcow2: L1 table at 0xa00: 33554432 bytes; with the 8 files opened before it (268435456 bytes of L1 tables) more than the page opens at once (CHAIN_TABLE_BYTES 268435456): it and the 291 files after it are not opened',
          { timeout: 120_000 },
        );
      },
    );
  });

  test('a 300-file chain: its top 256 layers map, the cut is named', async ({ page, browser }) => {
    await recovers(
      page,
      browser,
      '300-file chain',
      () => longChain(false),
      async () => {
        await expect(errors(page)).toContainText(
          'l044.qcow2: backing file name at 0x100: backing chain deeper than 256 layers (MAX_CHAIN_DEPTH)',
          { timeout: 60_000 },
        );
        await expect(files(page)).toContainText('l299.qcow2');
        // Its top 256 layers map (l299 down to l044); the files below the cut are named as such.
        await expect(page.getByRole('region', { name: 'Backing chain' }).locator('tbody tr')).toHaveCount(
          256,
        );
        await expect(page.getByTestId('unused-files')).toContainText(
          'l043.qcow2: in the chain of l299.qcow2, below its cut at 256 layers (MAX_CHAIN_DEPTH)',
        );
      },
    );
  });

  test('a map file naming depth 65535 is refused at once', async ({ page, browser }) => {
    await recovers(
      page,
      browser,
      'map file with depth 65535',
      () => [deepMap()],
      async () => {
        await expect(errors(page)).toContainText(
          'deep.json: qemu-img map JSON line 1 at 0x1: depth 65535 names a backing chain deeper than 256 layers (MAX_MAP_DEPTH 255)',
          {
            timeout: 30_000,
          },
        );
      },
    );
  });
});
