/**
 * `clusterscope check` and checkImage() against `qemu-img check --output=json` recorded from
 * QEMU 7.2.22 (fixtures/make-fixtures.sh -> fixtures/golden/<case>/check.json, check.exit).
 * `filename` is host-dependent only where the golden was recorded with --image-opts (LUKS).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkImage } from '../../core/check/checkImage.ts';
import { qemuCheckExitStatus, toQemuCheckJson } from '../../core/check/result.ts';
import { openQcow2 } from '../../core/qcow2/image.ts';
import { runCli } from '../../testing/cli.ts';
import { allCases, FIXTURES, type FixtureCase, golden, imageDir } from '../../testing/fixtures.ts';
import { NodeFileSource } from '../nodeSource.ts';

/**
 * Every case with a recorded check.json: those in cases.json, plus golden directories not (yet)
 * listed there, whose image is top.qcow2 (the recorder's default name).
 */
function checkCases(): FixtureCase[] {
  const listed = existsSync(join(FIXTURES, 'cases.json')) ? allCases() : [];
  const names = new Set(listed.map((c) => c.name));
  const dir = join(FIXTURES, 'golden');
  const extra = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => !names.has(n) && existsSync(join(FIXTURES, 'images', n, 'top.qcow2')))
        .map(
          (name): FixtureCase => ({
            name,
            top: 'top.qcow2',
            description: '',
            covers: [],
            hostSparse: false,
            error: null,
          }),
        )
    : [];
  return [...listed, ...extra]
    .filter((c) => golden(c, 'check.json') !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

const withCheck = checkCases();

/**
 * Cases the engine refuses on purpose: over-2p53 has a virtual size of 2^54, above the exact
 * integer limit (ARCHITECTURE.md: refuse offsets >= 2^53 with a clear error), which qemu-img
 * checks. The test still fails if the image opens or fails in any other way.
 */
const REFUSED_BY_LIMIT = new Set(['over-2p53']);

function goldenCheck(c: FixtureCase): { json: Record<string, unknown>; exit: number | undefined } {
  const exit = golden(c, 'check.exit');
  return {
    json: JSON.parse(golden(c, 'check.json')!) as Record<string, unknown>,
    exit: exit === undefined ? undefined : Number(exit.trim()),
  };
}

describe('checkImage() gives qemu-img 7.2 check --output=json answers', () => {
  it('has golden check cases to compare with', () => {
    expect(withCheck.length).toBeGreaterThan(0);
  });

  for (const c of withCheck) {
    it(`${c.name}: same counts, image end offset and exit status as qemu-img check`, async () => {
      const g = goldenCheck(c);
      const source = await NodeFileSource.open(`${imageDir(c)}/${c.top}`, c.top);
      try {
        if (REFUSED_BY_LIMIT.has(c.name)) {
          await expect(openQcow2(source)).rejects.toMatchObject({ kind: 'limit' });
          return;
        }
        const result = await checkImage(await openQcow2(source), { filename: c.top });
        const ours: Record<string, unknown> = toQemuCheckJson(result);
        if (g.json.filename !== c.top) ours.filename = g.json.filename;
        expect(ours).toEqual(g.json);
        if (g.exit !== undefined) expect(qemuCheckExitStatus(result)).toBe(g.exit);
      } finally {
        await source.close();
      }
    });
  }
});

describe('clusterscope check prints what qemu-img check prints', () => {
  for (const c of withCheck.filter((x) => !REFUSED_BY_LIMIT.has(x.name))) {
    it(`${c.name}: --output=json parses to the golden object and exits like qemu-img`, async () => {
      const g = goldenCheck(c);
      const r = await runCli(['check', '--output=json', c.top], imageDir(c));
      const ours = JSON.parse(r.stdout) as Record<string, unknown>;
      if (g.json.filename !== c.top) ours.filename = g.json.filename;
      expect(ours).toEqual(g.json);
      if (g.exit !== undefined) expect(r.code).toBe(g.exit);
    });
  }

  it('prints the JSON with QEMU 7.2 key order and 4-space indent', async () => {
    const c = withCheck.find((x) => x.name === 'compressed-zlib') ?? withCheck[0]!;
    const r = await runCli(['check', '--output=json', c.top], imageDir(c));
    expect(`${r.stdout}`).toBe(`${golden(c, 'check.json')!.trimEnd()}\n`);
  });

  it('human output of a clean image says no errors and gives the allocation summary', async () => {
    const c = withCheck.find((x) => x.name === 'compressed-zlib') ?? withCheck[0]!;
    const r = await runCli(['check', c.top], imageDir(c));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^No errors were found on the image\.\n\d+\/\d+ = [\d.]+% allocated, [\d.]+% fragmented, [\d.]+% compressed clusters\nImage end offset: \d+\n$/,
    );
  });

  it('rejects an unknown --output value with a usage error (exit 1)', async () => {
    const c = withCheck[0]!;
    const r = await runCli(['check', '--output=xml', c.top], imageDir(c));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--output must be used with human or json as argument.');
  });
});
