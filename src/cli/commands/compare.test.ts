/**
 * clusterscope compare against every `qemu-img compare [-s]` answer recorded for the image pairs
 * of fixtures/images/compare (make-fixtures.sh compare_pass, qemu-img 7.2): stdout and exit
 * status equal; for an image qemu-img could not open, its exit status and sentence. --ranges
 * is checked against a byte-by-byte comparison of the guest contents (qemu-img convert -O raw).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../testing/cli.ts';
import { FIXTURES, golden } from '../../testing/fixtures.ts';

const dir = join(FIXTURES, 'images', 'compare');
const pairs = readdirSync(join(FIXTURES, 'golden', 'compare'))
  .map((f) => /^(.+?)--(.+?)(-s)?\.txt(?:\.exit)?$/.exec(f))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ a: m[1]!, b: m[2]!, strict: m[3] !== undefined, base: `${m[1]}--${m[2]}${m[3] ?? ''}.txt` }))
  .filter((p, i, all) => all.findIndex((q) => q.base === p.base) === i);
const fmt = (f: string) => (f.endsWith('.raw') ? 'raw' : 'qcow2');

describe('compare equals qemu-img compare', () => {
  it('has the recorded pairs', () => expect(pairs.length).toBeGreaterThanOrEqual(30));
  it.each(pairs)('$a $b strict=$strict', async (p) => {
    const args = ['compare', ...(p.strict ? ['-s'] : []), '-f', fmt(p.a), '-F', fmt(p.b), p.a, p.b];
    const r = await runCli(args, dir);
    const exit = golden('compare', `${p.base}.exit`);
    expect(r.code).toBe(exit === undefined ? 0 : Number(exit.trim()));
    const out = golden('compare', p.base);
    if (out !== undefined) expect(r.stdout).toBe(out);
    const err = golden('compare', `${p.base}.err`);
    if (err !== undefined)
      expect(r.stderr).toContain(err.trim().replace(/^qemu-img: Could not open '[^']*': /, ''));
  });
});

describe('compare --ranges', () => {
  const work = mkdtempSync(join(tmpdir(), 'cs-compare-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const raw = (f: string) => {
    const out = join(work, `${f}.raw`);
    execFileSync('qemu-img', ['convert', '-f', fmt(f), '-O', 'raw', join(dir, f), out]);
    return readFileSync(out);
  };
  const plain = pairs.filter((p) => !p.strict && golden('compare', `${p.base}.err`) === undefined);
  it.each(plain)(
    '$a $b: every range where the guest contents (qemu-img convert -O raw) differ',
    async (p) => {
      const x = raw(p.a);
      const y = raw(p.b);
      const want: string[] = [];
      const n = Math.max(x.length, y.length);
      for (let k = 0; k < n; ) {
        if ((x[k] ?? 0) === (y[k] ?? 0)) {
          k++;
          continue;
        }
        let e = k;
        while (e < n && (x[e] ?? 0) !== (y[e] ?? 0)) e++;
        want.push(`${k}  ${e - k}`);
        k = e;
      }
      const r = await runCli(['compare', '--ranges', '-f', fmt(p.a), '-F', fmt(p.b), p.a, p.b], dir);
      expect(r.stdout.split('\n').filter(Boolean)).toEqual(want);
      expect(r.code).toBe(want.length ? 1 : 0);
      // qemu-img's first mismatch is the first range's sector.
      const first = /Content mismatch at offset (\d+)!/.exec(golden('compare', p.base) ?? '');
      if (first) expect(Math.floor(Number(want[0]!.split(' ')[0]) / 512) * 512).toBe(Number(first[1]));
    },
  );
});
