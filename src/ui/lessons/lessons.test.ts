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
import { fixtureFile } from '../../testing/testFiles.ts';
import { createHandler } from '../../worker/handler.ts';
import { type Request, type Response, PROTOCOL_VERSION as v } from '../../worker/protocol.ts';
import { engineAnswer, LESSONS } from './lessons.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-lessons-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function harness() {
  const out: Response[] = [];
  const handle = createHandler((m) => out.push(m));
  let id = 1;
  const send = async (r: (id: number) => Request): Promise<Response> => {
    const n = id++;
    await handle(r(n));
    const m = out.filter((x) => x.id === n && x.type !== 'progress').at(-1);
    if (!m) throw new Error(`no answer to ${n}`);
    return m;
  };
  return send;
}

describe('lessons', () => {
  for (const lesson of LESSONS) {
    it(`${lesson.id}: the expected answers are the engine's, and the images pass qemu-img check`, async () => {
      const send = harness();
      let files: File[] = [];
      const build = lesson.build;
      if ('ops' in build) {
        const r = await send((id) => ({ v, id, type: 'sandbox', ops: build.ops }));
        if (r.type !== 'sandbox' || r.error) throw new Error(JSON.stringify(r));
        for (const img of r.state.images) {
          const f = await send((id) => ({ v, id, type: 'sandboxFile', name: img.name }));
          if (f.type !== 'sandboxFile') throw new Error(JSON.stringify(f));
          writeFileSync(join(dir, img.name), f.bytes);
        }
        for (const img of r.state.images.filter((i) => i.format === 'qcow2')) {
          const c = spawnSync('qemu-img', ['check', join(dir, img.name)], { encoding: 'utf8' });
          expect(c.status, `${img.name}: ${c.stdout}${c.stderr}`).toBe(0);
          expect(c.stdout).toContain('No errors were found on the image.');
        }
      } else {
        files = build.files.map((n) => fixtureFile(build.sample, n));
      }
      for (const step of lesson.steps) {
        expect(step.choices).toContain(step.answer);
        const source = 'ops' in lesson.build ? { kind: 'sandbox' as const, top: step.top } : undefined;
        const o = await send((id) => ({ v, id, type: 'open', files, ...(source && { source }) }));
        if (o.type !== 'opened') throw new Error(JSON.stringify(o));
        const h = await send((id) => ({ v, id, type: 'hit', openId: o.id, offset: step.offset }));
        if (h.type !== 'hit' || !h.detail) throw new Error(JSON.stringify(h));
        expect(engineAnswer(step, h.detail)?.label, `${lesson.id} @${step.offset}: ${step.question}`).toBe(
          step.answer,
        );
      }
    });
  }
});
