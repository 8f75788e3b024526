/**
 * Every lesson against the engine and against QEMU: the expected answers equal what the worker
 * computes for the lesson's chain, and every image a lesson builds passes `qemu-img check` with
 * no errors or leaks (writer images are valid for QEMU; writer.oracle.test.ts covers random
 * sessions).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNbdinfo } from '../testing/fixtures.ts';
import { nbdinfo } from '../testing/qemu.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { workerHarness } from '../testing/workerHarness.ts';
import { engineAnswer, LESSONS } from './lessons.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-lessons-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lessons', () => {
  for (const lesson of LESSONS) {
    it(`${lesson.id}: the expected answers are the engine's, and the images pass qemu-img check`, async () => {
      const w = workerHarness();
      let files: File[] = [];
      const build = lesson.build;
      if ('ops' in build) {
        const st = await w.call('sandbox', { ops: build.ops });
        if (st.error) throw new Error(JSON.stringify(st.error));
        for (const img of st.images)
          writeFileSync(join(dir, img.name), await w.call('sandboxFile', { name: img.name }));
        for (const img of st.images.filter((i) => i.format === 'qcow2')) {
          const c = spawnSync('qemu-img', ['check', join(dir, img.name)], { encoding: 'utf8' });
          expect(c.status, `${img.name}: ${c.stdout}${c.stderr}`).toBe(0);
          expect(c.stdout).toContain('No errors were found on the image.');
        }
      } else {
        files = build.files.map((n) => fixtureFile(build.sample, n));
      }
      for (const step of lesson.steps) {
        expect(step.choices).toContain(step.answer);
        const from =
          'ops' in lesson.build
            ? { kind: 'sandbox' as const, top: step.top }
            : { kind: 'files' as const, files };
        const { info } = await w.call('open', { slot: 'main', from });
        const h = await w.call('hit', { source: info.id, view: step.view ?? '', offset: step.offset });
        if (!h) throw new Error(`no hit at ${step.offset}`);
        expect(engineAnswer(step, h)?.label, `${lesson.id} @${step.offset}: ${step.question}`).toBe(
          step.answer,
        );
        // A bitmap's answer is also what nbdinfo prints against qemu-nbd -B on the built image.
        if (step.tool.startsWith('nbd-dirty-bitmap-') && 'ops' in build) {
          const name = step.tool.slice('nbd-dirty-bitmap-'.length);
          const map = parseNbdinfo(
            await nbdinfo(dir, ['-B', name, '-f', 'qcow2', step.top], `qemu:dirty-bitmap:${name}`),
          );
          const row = map.find(([o, l]) => o <= step.offset && step.offset < o + l)!;
          expect(row[3], `${lesson.id} @${step.offset}: nbdinfo`).toBe(step.answer);
        }
      }
    });
  }
});

describe('lesson texts', () => {
  it('stand on their own: no reference to a document the reader does not have', () => {
    for (const l of LESSONS) {
      const texts = [l.title, l.intro, ...l.steps.flatMap((s) => [s.question, s.note, s.since ?? ''])];
      for (const t of texts) expect(t, l.id).not.toMatch(/§|\bthe reference\b|reference document/i);
    }
  });
  it('cover what the page promises to teach', () => {
    expect(LESSONS.map((l) => l.id)).toEqual(
      expect.arrayContaining([
        'backing-chain',
        'nbd-hole',
        'discard-v2-v3',
        'compressed',
        'subclusters',
        'snapshots',
      ]),
    );
  });
});
