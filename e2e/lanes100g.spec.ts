/**
 * Issue 10: on a 100 GiB image of a few thousand scattered writes, every lane shows where the
 * data is. The image is made at test time with qemu-img and qemu-io (3,000 writes of 64 KiB in
 * 40 spots, pseudo-random, fixed seed); which lane pixels hold data is computed from qemu-img
 * map's own JSON, and every pixel of every lane is checked against it: a pixel with any data
 * differs from the lane's colour for "nothing here", a pixel without is that colour.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openApp, openId, waitForMap } from './helpers.ts';

const GiB = 1024 ** 3;
const SIZE = 100 * GiB;
const CLUSTER = 65536;
const SPOTS = 40;
const WRITES = 3000;
/** Lane geometry (src/ui/paint.ts LANE_H, LANE_GAP). */
const LANE_H = 14;
const LANE_GAP = 6;

function makeImage(): { file: string; data: [number, number][] } {
  const dir = mkdtempSync(join(tmpdir(), 'cs-100g-'));
  const file = join(dir, 'scattered.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, String(SIZE)]);
  let seed = 0x1234_5678;
  const rand = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const spots = Array.from({ length: SPOTS }, () => Math.floor(rand() * (SIZE / CLUSTER - 4096)));
  const cmds: string[] = [];
  for (let i = 0; i < WRITES; i++) {
    const c = spots[i % SPOTS]! + Math.floor(rand() * 2048);
    cmds.push('-c', `write -q -P ${1 + (i % 250)} ${c * CLUSTER} ${CLUSTER}`);
  }
  execFileSync('qemu-io', ['-f', 'qcow2', ...cmds, file]);
  const map = JSON.parse(execFileSync('qemu-img', ['map', '--output=json', file], { encoding: 'utf8' })) as {
    start: number;
    length: number;
    data: boolean;
  }[];
  return { file, data: map.filter((e) => e.data).map((e) => [e.start, e.start + e.length]) };
}

test('100 GiB, 3,000 scattered writes: every lane shows each pixel that holds data, and no other', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const { file, data } = makeImage();
  expect(data.length).toBeGreaterThan(SPOTS);
  await openApp(page);
  const before = await openId(page);
  await page.getByLabel('Open disk images (several files form a backing chain)').setInputFiles(file);
  await waitForMap(page, before);
  // The whole map, not a partial one: the open's progress is gone.
  await expect(page.locator('.progress')).toHaveCount(0, { timeout: 60_000 });
  const tracks = page.getByRole('region', { name: 'Extent tracks' });
  const canvas = tracks.getByTestId('tracks-canvas');
  await expect(canvas).toHaveAttribute('data-ready', 'true');
  await expect(page.getByRole('region', { name: 'Backing chain' })).toContainText('100 GiB');
  const lanes = await tracks.locator('.track-labels li').allTextContents();
  expect(lanes).toEqual(['scattered.qcow2', 'qemu-img map', 'NBD base:allocation', 'allocation depth']);
  const { width, rows } = await canvas.evaluate(
    (c, { n, h, gap }) => {
      const el = c as HTMLCanvasElement;
      const s = el.width / el.getBoundingClientRect().width;
      const ctx = el.getContext('2d')!;
      const out: string[][] = [];
      for (let l = 0; l < n; l++) {
        const y = Math.floor((l * (h + gap) + h / 2) * s);
        const d = ctx.getImageData(0, y, el.width, 1).data;
        const row: string[] = [];
        for (let x = 0; x < el.width; x += Math.round(s))
          row.push(`${d[x * 4]},${d[x * 4 + 1]},${d[x * 4 + 2]}`);
        out.push(row);
      }
      return { width: el.getBoundingClientRect().width, rows: out };
    },
    { n: lanes.length, h: LANE_H, gap: LANE_GAP },
  );
  // Which pixels hold data, by qemu-img map.
  const px = Math.round(width);
  const holds = new Array<boolean>(px).fill(false);
  for (const [a, z] of data)
    for (let p = Math.floor((a / SIZE) * px); p < Math.min(px, Math.ceil((z / SIZE) * px)); p++)
      holds[p] = true;
  expect(holds.filter(Boolean).length).toBeGreaterThan(10);
  expect(holds.filter((h) => !h).length).toBeGreaterThan(px / 2);
  rows.forEach((row, l) => {
    const nothing = row[holds.indexOf(false)]!;
    const wrong = row.slice(0, px).flatMap((c, p) => ((c !== nothing) !== holds[p] ? [p] : []));
    expect(
      wrong.map((p) => `${p}:${row[p]}:${holds[p]}`),
      `lane ${lanes[l]}: pixels that disagree with qemu-img map (nothing = ${nothing})`,
    ).toEqual([]);
  });
});
