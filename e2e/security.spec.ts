/**
 * The page cannot be turned against its user (issue 6): a strict CSP in the served build, no
 * third-party requests, nothing from the files in URLs or logs, file names as text only, and a
 * hostile URL hash that ends in a message and the default view.
 */
import { expect, type Page, test } from '@playwright/test';
import { cspString, HEADER_ONLY_CSP, STRICT_CSP, WORKER_CSP } from '../src/csp.ts';
import { withBackingName } from '../src/testing/rangeFetch.ts';
import { dropAndWait, dropFiles, FIXTURES, fixture, openApp, openId, waitForMap } from './helpers.ts';
import { openByUrl, serveFiles } from './rangeServer.ts';

const directives = (policy: string): Record<string, string> =>
  Object.fromEntries(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([k, ...v]) => [k!, v.join(' ')]),
  );

/** Everything the page says or asks for, collected from the first navigation on. */
function watch(page: Page) {
  const seen = { console: [] as string[], requests: [] as string[], errors: [] as string[], dialogs: 0 };
  page.on('console', (m) => seen.console.push(m.text()));
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('dialog', (d) => {
    seen.dialogs++;
    void d.dismiss();
  });
  return seen;
}

test('the served page carries the strict policy, as <meta> and as a header', async ({ page }) => {
  const res = await page.goto('/');
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(directives(meta ?? '')).toEqual(STRICT_CSP);
  expect(meta).not.toContain('unsafe-inline');
  expect(meta).not.toContain('unsafe-eval');
  expect(directives(res!.headers()['content-security-policy'] ?? '')).toEqual({
    ...STRICT_CSP,
    ...HEADER_ONLY_CSP,
  });
  expect(cspString(STRICT_CSP)).toContain("worker-src 'self'");
  // The page itself fetches from its own origin only; remote images are the worker's.
  expect(directives(meta ?? '')['connect-src']).toBe("'self'");
  // The meta comes before any script, so it governs all of them.
  const order = await page.evaluate(
    () =>
      [...document.head.children].findIndex((e) => e.matches('meta[http-equiv="Content-Security-Policy"]')) <
      [...document.head.children].findIndex((e) => e.tagName === 'SCRIPT'),
  );
  expect(order).toBe(true);
});

test('the image reader (a module worker) runs under its own policy: it may read any http(s) image host, the page none but its own', async ({
  page,
}) => {
  const srv = await serveFiles(FIXTURES, { ranges: true });
  try {
    await openApp(page);
    const worker = page.workers()[0];
    expect(worker).toBeDefined();
    const script = await page.request.get(worker!.url(), { headers: { 'Sec-Fetch-Dest': 'worker' } });
    expect(directives(script.headers()['content-security-policy'] ?? '')).toEqual(WORKER_CSP);
    // The page's own fetch to another origin is refused by its connect-src 'self'...
    const url = `${srv.origin}/chain-3/top.qcow2`;
    const r = await page.evaluate(async (u) => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
      const fetched = await fetch(u).then(
        () => 'fetched',
        (e: Error) => e.name,
      );
      await new Promise((res) => setTimeout(res, 100));
      return { fetched, violations: [...new Set(violations)] };
    }, url);
    expect(r).toEqual({ fetched: 'TypeError', violations: ['connect-src'] });
    expect(srv.log).toEqual([]);
    // ...while the worker, under its own policy, reads the image there when asked to.
    const before = await openId(page);
    await openByUrl(page, url);
    await waitForMap(page, before);
    expect(srv.log.length).toBeGreaterThan(0);
  } finally {
    await srv.close();
  }
});

test('injected inline script, inline handlers, eval, blob workers and inline styles are all refused', async ({
  page,
}) => {
  const seen = watch(page);
  await openApp(page);
  const r = await page.evaluate(async () => {
    const violations: string[] = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
    const w = window as unknown as Record<string, unknown>;
    const s = document.createElement('script');
    s.textContent = 'window.__inline = 1';
    document.body.append(s);
    const img = document.createElement('img');
    img.setAttribute('onerror', 'window.__handler = 1');
    img.src = 'data:,not-an-image';
    document.body.append(img);
    const style = document.createElement('style');
    style.textContent = 'body { visibility: hidden }';
    document.head.append(style);
    // Off the DevTools call stack (Runtime.evaluate itself may eval under any CSP): a timer, as page code runs.
    const later = <T>(f: () => T) => new Promise<T>((done) => setTimeout(() => done(f())));
    const evalResult = await later(() => {
      try {
        // biome-ignore lint/security/noGlobalEval: the point of the test
        return String(eval('1 + 1'));
      } catch (e) {
        return (e as Error).name;
      }
    });
    const fnResult = await later(() => {
      try {
        return String(new Function('return 1')());
      } catch (e) {
        return (e as Error).name;
      }
    });
    let workerResult = 'ran';
    try {
      const url = URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' }));
      const bw = new Worker(url);
      workerResult = await new Promise<string>((done) => {
        bw.onmessage = () => done('ran');
        bw.onerror = () => done('blocked');
        setTimeout(() => done('blocked (silent)'), 2000);
      });
    } catch (e) {
      workerResult = (e as Error).name;
    }
    await new Promise((res) => setTimeout(res, 300));
    return {
      inline: w.__inline,
      handler: w.__handler,
      evalResult,
      fnResult,
      workerResult,
      visibility: getComputedStyle(document.body).visibility,
      violations,
    };
  });
  expect(r.inline).toBeUndefined();
  expect(r.handler).toBeUndefined();
  expect(r.evalResult).toBe('EvalError');
  expect(r.fnResult).toBe('EvalError');
  expect(r.workerResult).not.toBe('ran');
  expect(r.visibility).toBe('visible');
  expect(r.violations).toEqual(expect.arrayContaining(['script-src-elem', 'script-src-attr', 'script-src']));
  expect(r.violations).toEqual(expect.arrayContaining(['style-src-elem', 'worker-src']));
  expect(seen.errors).toEqual([]);
});

test('no third-party requests, and neither local paths nor file bytes reach URLs, history or logs', async ({
  page,
  baseURL,
}) => {
  const seen = watch(page);
  // Record every history entry the page writes (init scripts run outside the page's CSP).
  await page.addInitScript(() => {
    const w = window as unknown as { __urls: string[] };
    w.__urls = [];
    for (const k of ['pushState', 'replaceState'] as const) {
      const orig = history[k].bind(history);
      history[k] = (data: unknown, unused: string, url?: string | URL | null) => {
        w.__urls.push(String(url ?? ''));
        orig(data, unused, url);
      };
    }
  });
  await openApp(page);
  const PATH = 'PATHMARKER-9f3c';
  const BYTES = 'BYTESMARKER-51ab';
  const top = fixture('compressed-zlib', 'top.qcow2');
  const bytes = Buffer.concat([top.bytes, Buffer.from(BYTES.repeat(64))]);
  await dropAndWait(page, [{ name: `C:\\Users\\alice\\${PATH}\\disk.qcow2`, bytes }]);
  const canvas = page.getByTestId('heatmap-canvas');
  await canvas.click({ position: { x: 4, y: 4 } });
  await page.mouse.wheel(0, -300);
  await page.waitForTimeout(800);
  // A second, path-like name the POSIX way.
  await dropAndWait(page, [{ name: `/home/alice/${PATH}/vm.qcow2`, bytes }]);
  await page.waitForTimeout(800);

  const written = await page.evaluate(() => (window as unknown as { __urls: string[] }).__urls);
  const all = [page.url(), ...written, ...seen.requests, ...seen.console].join('\n');
  expect(all).not.toContain(PATH);
  expect(all).not.toContain(BYTES);
  expect(all).not.toContain('alice');
  const origins = new Set(seen.requests.map((u) => new URL(u).origin));
  expect([...origins]).toEqual([new URL(baseURL!).origin]);
});

test('file names and backing file names with markup are shown as text, never as elements', async ({
  page,
}) => {
  const seen = watch(page);
  await openApp(page);
  const TOP = '<img src=x onerror=alert(1)>.qcow2';
  const BACKING = '<svg onload=alert(2)><b>bold</b>.qcow2';
  const top = withBackingName(fixture('chain-3', 'top.qcow2').bytes, BACKING);
  // The top alone: its backing file is named (missing) in the chain panel.
  await dropAndWait(page, [{ name: TOP, bytes: top }]);
  await expect(page.locator('.app-header .files')).toHaveText(TOP);
  const chain = page.getByRole('region', { name: 'Backing chain' });
  await expect(chain).toContainText(TOP);
  await expect(chain).toContainText(BACKING);
  // Then with the backing file dropped under that name: matched by name, shown as text.
  await dropAndWait(page, [
    { name: TOP, bytes: top },
    { ...fixture('chain-3', 'mid.qcow2'), name: BACKING },
    fixture('chain-3', 'base.qcow2'),
  ]);
  await expect(chain.locator('tbody tr')).toHaveCount(3);
  await expect(chain).toContainText(BACKING);
  // A file that fails to open shows its name in the error list, as text too.
  const future = Buffer.alloc(1024);
  future.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]); // qcow2 version 9: refused with a typed error
  await dropFiles(page, [{ name: '<iframe src=javascript:alert(3)>.qcow2', bytes: future }]);
  await expect(page.getByRole('region', { name: 'Errors and findings' })).toContainText(
    '<iframe src=javascript:alert(3)>.qcow2',
  );
  const injected = await page.evaluate(
    () => document.querySelectorAll('img[src="x"], [onerror], [onload], iframe, b').length,
  );
  expect(injected).toBe(0);
  expect(seen.dialogs).toBe(0);
  expect(seen.errors).toEqual([]);
});

const junk = (n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += `%${((i * 131 + 7) & 0xff).toString(16).padStart(2, '0')}`;
  return s;
};

for (const [what, hash] of [
  ['a 1 MB hash', `v=2&range=${'9'.repeat(1 << 20)}`],
  ['binary junk', `v=2&${junk(4096)}=${junk(4096)}&range=${junk(64)}&file=%00%ff%fe`],
  ['a truncated base64 map', 'v=2&file=top.qcow2&size=0x100000&range=0x0-0x100000&map=eJzLSM3JyVcozy'],
  ['an unknown version', 'v=99&range=0x0-0x10'],
] as const) {
  test(`a hostile link (${what}) gives a message and the default view, no crash`, async ({ page }) => {
    // Known gap (permalinks, src/state/urlSync.ts): a truncated map says "Showing the map carried
    // in the link" and then shows nothing, with no error. Enable once it falls back to the default.
    // Chromium takes ~16 s just to navigate to a 1 MB URL; the page itself answers in ~2 s.
    test.setTimeout(90_000);
    const seen = watch(page);
    await page.goto(`/#${hash}`, { timeout: 60_000 });
    await expect
      .poll(
        () =>
          page
            .getByTestId('heatmap-canvas')
            .evaluate((c) => c.getAttribute('data-ready') === 'true')
            .catch(() => false),
        { timeout: 20_000 },
      )
      .toBe(true);
    await expect(page.locator('.app-header h1')).toHaveText('clusterscope');
    if (what !== 'an unknown version') {
      await expect(page.getByTestId('link-notices')).toContainText(/default view/i);
    }
    expect(seen.errors).toEqual([]);
    // The default view: the whole sample, not the link's range.
    await expect(page.locator('.heatmap-caption')).not.toContainText('0x0–0x10 ');
  });
}
