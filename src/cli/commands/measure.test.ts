/**
 * clusterscope measure against every `qemu-img measure` answer in fixtures/golden/measure
 * (make-fixtures.sh measure_pass, qemu-img 7.2 on dense copies): plain, compressed, chained,
 * extended-L2, snapshot- and bitmap-carrying images, with -O raw/qcow2 and -o cluster_size,
 * extended_l2, compat, refcount_bits, preallocation and backing_file. JSON is compared parsed;
 * the human form as text.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../testing/cli.ts';
import { allCases, FIXTURES, golden, imageDir } from '../../testing/fixtures.ts';

/** The options each golden's slug stands for (make-fixtures.sh MEASURE_OPTS). */
const OPTS: Record<string, string[]> = {
  raw: ['-O', 'raw'],
  qcow2: ['-O', 'qcow2'],
  'qcow2-cs4k': ['-O', 'qcow2', '-o', 'cluster_size=4K'],
  'qcow2-cs2m-extl2': ['-O', 'qcow2', '-o', 'cluster_size=2M,extended_l2=on'],
  'qcow2-v2': ['-O', 'qcow2', '-o', 'compat=0.10'],
  'qcow2-rb1-full': ['-O', 'qcow2', '-o', 'refcount_bits=1,preallocation=full'],
  'qcow2-backing': ['-O', 'qcow2', '-o', 'backing_file=x.qcow2,backing_fmt=qcow2'],
  'qcow2-cs512-rb64': ['-O', 'qcow2', '-o', 'cluster_size=512,refcount_bits=64'],
};

const goldens = readdirSync(join(FIXTURES, 'golden', 'measure'))
  .map((f) => /^(.+)\.([a-z0-9-]+)\.(json|txt)$/.exec(f))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ caseName: m[1]!, slug: m[2]!, json: m[3] === 'json', file: m[0] }));

describe('measure equals qemu-img measure', () => {
  it('has goldens for every slug', () => {
    expect(new Set(goldens.map((g) => g.slug))).toEqual(new Set(Object.keys(OPTS)));
  });
  it.each(goldens)('$caseName $slug $json', async (g) => {
    const c = allCases().find((x) => x.name === g.caseName)!;
    const r = await runCli(
      ['measure', ...(g.json ? ['--output=json'] : []), ...OPTS[g.slug]!, c.top],
      imageDir(c),
    );
    const want = golden('measure', g.file)!;
    expect(r.code).toBe(0);
    if (g.json) expect(JSON.parse(r.stdout)).toEqual(JSON.parse(want));
    else expect(r.stdout).toBe(want);
  });
  it.each([
    [
      ['-O', 'qcow2', '-o', 'cluster_size=4K,extended_l2=on'],
      'Extended L2 entries are only supported with cluster sizes of at least 16384 bytes',
    ],
    [['-O', 'qcow2', '-o', 'cluster_size=3000'], 'Cluster size must be a power of two between 512 and 2048k'],
    [
      ['-O', 'qcow2', '-o', 'refcount_bits=3'],
      'Refcount width must be a power of two and may not exceed 64 bits',
    ],
  ])('refuses %j as qemu-img 7.2 does (its stderr, checked by hand): %s', async (opts, says) => {
    const c = allCases().find((x) => x.name === 'bitmaps')!;
    const r = await runCli(['measure', ...opts, c.top], imageDir(c));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(says);
  });
});
