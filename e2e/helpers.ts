/** Shared e2e steps: real drops of real fixture files, waiting for the map, reading pixels. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, expect, type Page } from '@playwright/test';

/** The bundled samples: copies of QEMU-made fixtures (fixtures/make-fixtures.sh), stable while fixtures are remade. */
export const FIXTURES = resolve(import.meta.dirname, '../public/samples');

export interface DropFile {
  readonly name: string;
  readonly bytes: Buffer | Uint8Array;
}

export const fixture = (dir: string, name: string): DropFile => ({
  name,
  bytes: readFileSync(join(FIXTURES, dir, name)),
});

/** The open id the map is showing; a drop is done when it changes and the cells are drawn. */
export async function openId(page: Page): Promise<number> {
  const c = page.getByTestId('heatmap-canvas');
  if (!(await c.count())) return 0;
  return c.evaluate((el) => Number((el as HTMLCanvasElement).dataset.openId));
}

/**
 * Drops files on the page as a person would: a DataTransfer holding File objects, through
 * dragenter, dragover and drop events (the page listens on window, so any target works).
 */
export async function dropFiles(page: Page, files: readonly DropFile[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, b64: Buffer.from(f.bytes).toString('base64') }));
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name));
    }
    const target = document.querySelector('main') ?? document.body;
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, payload);
}

/**
 * How long a map may take to appear: a first open also loads the page's worker and the sample;
 * on a loaded 2-core machine that took 5.6 s once where it takes about 1 s idle.
 */
const MAP_WAIT_MS = 20_000;

/** Waits until the map shows an open newer than `after`, with its cells drawn. */
export async function waitForMap(page: Page, after: number): Promise<void> {
  await expect
    .poll(
      async () => {
        const c = page.getByTestId('heatmap-canvas');
        if (!(await c.count())) return false;
        return c.evaluate(
          (el, a) =>
            Number((el as HTMLCanvasElement).dataset.openId) > a &&
            (el as HTMLCanvasElement).dataset.ready === 'true',
          after,
        );
      },
      { timeout: MAP_WAIT_MS },
    )
    .toBe(true);
}

export async function dropAndWait(page: Page, files: readonly DropFile[]): Promise<void> {
  const before = await openId(page);
  await dropFiles(page, files);
  await waitForMap(page, before);
}

/** The centre of cell `i` (or the point `at` of it, in cells from its top left), relative to the canvas. */
export async function cellCentre(
  page: Page,
  i: number,
  at: { x: number; y: number } = { x: 0.5, y: 0.5 },
): Promise<{ x: number; y: number }> {
  return page.getByTestId('heatmap-canvas').evaluate(
    (c, { idx, at }) => {
      const el = c as HTMLCanvasElement;
      const px = Number(el.dataset.cellPx);
      const cols = Number(el.dataset.cols);
      return { x: (idx % cols) * px + px * at.x, y: Math.floor(idx / cols) * px + px * at.y };
    },
    { idx: i, at },
  );
}

/** The colour drawn at the centre of cell `i` (or at the point `at` of it), as #rrggbb. */
export async function cellColour(page: Page, i: number, at?: { x: number; y: number }): Promise<string> {
  const { x, y } = await cellCentre(page, i, at);
  return page.getByTestId('heatmap-canvas').evaluate(
    (c, p) => {
      const el = c as HTMLCanvasElement;
      const scale = el.width / el.getBoundingClientRect().width;
      const d = el
        .getContext('2d')!
        .getImageData(Math.floor(p.x * scale), Math.floor(p.y * scale), 1, 1).data;
      return `#${[d[0], d[1], d[2]].map((v) => (v ?? 0).toString(16).padStart(2, '0')).join('')}`;
    },
    { x, y },
  );
}

export async function openApp(page: Page): Promise<void> {
  await page.goto('/');
  await waitForMap(page, 0);
}

/** A page in a new browser context (no shared storage or history), opened at `url`. */
export async function fresh(browser: Browser, url: string): Promise<Page> {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(url);
  return p;
}

/** Clicks "Copy link" (or "Copy link with map") and reads the link the page offers. */
export async function shareFrom(page: Page, withMap: boolean): Promise<string> {
  const link = page.getByTestId('share-link');
  const old = (await link.count()) ? await link.inputValue() : undefined;
  await page.getByRole('button', { name: withMap ? 'Copy link with map' : 'Copy link', exact: true }).click();
  await expect(link).toBeVisible();
  // A link offered before (for the same map) is replaced once the new one is made.
  if (old !== undefined) await expect.poll(() => link.inputValue()).not.toBe(old);
  return link.inputValue();
}

/** The colours of the first `n` cells. */
export async function colours(page: Page, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await cellColour(page, i));
  return out;
}
