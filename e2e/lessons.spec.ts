import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { hex } from '../src/core/format.ts';
import { LESSONS } from '../src/lessons/lessons.ts';
import { cellCentre, cellColour, openApp, openId, waitForMap } from './helpers.ts';

const SHOTS = 'test-results/screenshots';

test("a lesson is a mode of the page: answer a step, see the engine grade it with QEMU's words", async ({
  page,
}) => {
  await openApp(page);
  const lessons = page.getByRole('region', { name: 'Lessons' });
  const before = await openId(page);
  await lessons.getByRole('button', { name: 'Unallocated, zero or hole: NBD 5.2 vs 6.0' }).click();
  await waitForMap(page, before);
  const mode = page.getByTestId('lesson-mode');
  await expect(mode.getByTestId('lesson-step')).toContainText('qemu-nbd 6.0');
  // Started from the list at the foot of the page: the map is brought into view, the keyboard
  // is at the lesson's heading.
  await expect(page.getByTestId('heatmap-canvas')).toBeInViewport();
  await expect(mode.getByRole('heading', { level: 2 })).toBeFocused();
  // The lesson sits beside the map, not below the side panels.
  const map = (await page.getByTestId('heatmap-canvas').boundingBox())!;
  const step = (await mode.boundingBox())!;
  expect(step.y).toBeLessThan(map.y + map.height + 400);
  await mode.getByRole('button', { name: 'zero', exact: true }).click();
  const answer = page.getByTestId('lesson-answer');
  await expect(answer).toContainText('Not quite.');
  await expect(answer).toContainText('hole,zero');
  await expect(answer).toContainText("In QEMU's terms:");
  await expect(answer).toContainText('What changed: qemu-nbd 6.0');
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/lesson-answered.png`, fullPage: true });
  await answer.getByRole('button', { name: 'Next step' }).click();
  await mode.getByRole('button', { name: 'zero', exact: true }).click();
  await expect(page.getByTestId('lesson-answer')).toContainText('Right.');
});

test("every lesson, step by step: the step's cluster is selected on the map and no answer shows before it is asked", async ({
  page,
}) => {
  test.setTimeout(180_000);
  await openApp(page);
  const canvas = page.getByTestId('heatmap-canvas');
  for (const lesson of LESSONS) {
    await page.getByRole('region', { name: 'Lessons' }).getByRole('button', { name: lesson.title }).click();
    const mode = page.getByTestId('lesson-mode');
    for (const [i, step] of lesson.steps.entries()) {
      const s = mode.getByTestId('lesson-step');
      await expect(s).toContainText(`Step ${i + 1} of ${lesson.steps.length}`);
      await expect(s).toHaveAttribute('data-offset', hex(step.offset));
      // The map highlights the cluster the step names.
      await expect(canvas).toHaveAttribute('data-selected', hex(step.offset));
      await expect(canvas).toHaveAttribute('data-ready', 'true');
      // Nothing answers before the reader does: no answer, no inspector, no rows, no lanes, and the
      // tooltip names the range only.
      await expect(page.getByTestId('lesson-answer')).toHaveCount(0);
      await expect(page.getByTestId('inspector')).toHaveCount(0);
      await expect(page.getByTestId('extent-rows')).toHaveCount(0);
      await expect(page.getByTestId('tracks-canvas')).toHaveCount(0);
      await canvas.hover({ position: await cellCentre(page, 0) });
      await expect(page.getByRole('tooltip')).toBeVisible();
      await expect(page.getByRole('tooltip')).not.toContainText(/qemu-img map|NBD|Owner/);
      // Odd steps ask for the answer, even ones pick the right choice.
      if (i % 2) await s.getByRole('button', { name: 'Show the answer' }).click();
      else await s.getByRole('button', { name: step.answer, exact: true }).click();
      const answer = page.getByTestId('lesson-answer');
      await expect(answer).toContainText(`The tool prints ${step.answer}.`);
      if (i % 2 === 0) await expect(answer).toContainText('Right.');
      await answer
        .getByRole('button', { name: i + 1 < lesson.steps.length ? 'Next step' : 'Finish the lesson' })
        .click();
    }
    await expect(page.getByTestId('lesson-mode')).toHaveCount(0);
  }
});

test('sandbox: create a chain, apply operations, pixels change, download passes qemu-img check', async ({
  page,
}) => {
  await openApp(page);
  const sb = page.getByRole('region', { name: 'Sandbox' });
  await sb.getByLabel('name').first().fill('base.raw');
  await sb.getByLabel('format').selectOption('raw');
  await sb.getByLabel('size').fill('256K');
  await sb.getByRole('button', { name: 'Create' }).click();
  await expect(sb.getByRole('cell', { name: 'base.raw' })).toBeVisible();
  await sb.getByLabel('name').first().fill('top.qcow2');
  await sb.getByLabel('format').selectOption('qcow2');
  await sb.getByLabel('size').fill('');
  await sb.getByLabel('backing').selectOption('base.raw');
  let before = await openId(page);
  await sb.getByRole('button', { name: 'Create' }).click();
  await waitForMap(page, before);
  const c2 = await cellColour(page, 2);
  // write -P 0xab 64K 64K in the top
  await sb.getByLabel('image').selectOption('top.qcow2');
  await sb.getByLabel('operation').selectOption('write');
  await sb.getByLabel('offset').fill('64K');
  await sb.getByLabel('length').fill('64K');
  before = await openId(page);
  await sb.getByRole('button', { name: 'Apply' }).click();
  await waitForMap(page, before);
  // write -z -u on cluster 2, discard cluster 1
  await sb.getByLabel('operation').selectOption('zero');
  await sb.getByLabel('offset').fill('128K');
  await sb.getByLabel('-u (unmap)').check();
  before = await openId(page);
  await sb.getByRole('button', { name: 'Apply' }).click();
  await waitForMap(page, before);
  // The raw base reads as data there; the top's zero cluster now reads as zero: the cell's colour changes.
  expect(await cellColour(page, 2)).not.toBe(c2);
  await sb.getByLabel('operation').selectOption('snapshot');
  before = await openId(page);
  await sb.getByRole('button', { name: 'Apply' }).click();
  await waitForMap(page, before);
  await expect(page.getByTestId('sandbox-log')).toContainText('write -z -u 131072 65536');
  await expect(page.getByTestId('sandbox-log')).toContainText('snapshot -c s1 top.qcow2');
  await page.screenshot({ path: `${SHOTS}/sandbox.png`, fullPage: true });

  const dir = mkdtempSync(join(tmpdir(), 'cs-sandbox-'));
  for (const name of ['base.raw', 'top.qcow2']) {
    const row = sb.getByRole('row').filter({ has: page.getByRole('cell', { name, exact: true }) });
    const dl = page.waitForEvent('download');
    await row.getByRole('button', { name: 'Download' }).click();
    const d = await dl;
    expect(d.suggestedFilename()).toBe(name);
    await d.saveAs(join(dir, name));
  }
  const check = execFileSync('qemu-img', ['check', join(dir, 'top.qcow2')], { encoding: 'utf8' });
  expect(check).toContain('No errors were found on the image.');
  const map = JSON.parse(
    execFileSync('qemu-img', ['map', '--output=json', join(dir, 'top.qcow2')], {
      encoding: 'utf8',
      cwd: dir,
    }),
  ) as { start: number; length: number; depth: number; data: boolean; zero: boolean }[];
  writeFileSync(join(dir, 'map.json'), JSON.stringify(map));
  expect(map.find((e) => e.start === 65536)).toMatchObject({ depth: 0, data: true });
  expect(map.find((e) => e.start === 131072)).toMatchObject({ depth: 0, zero: true, data: false });
});
