/**
 * `clusterscope map-file`: every map QEMU 7.2 and nbdinfo 1.14 printed for the fixtures
 * (fixtures/golden: map.json, map.txt, nbd-base.txt, nbd-depth.txt) is read as the page reads a
 * dropped map and printed back byte for byte; a file that is no map is one line naming it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../testing/cli.ts';
import { FIXTURES } from '../../testing/fixtures.ts';

const root = join(FIXTURES, 'golden');
const MAPS = readdirSync(root)
  .sort()
  .filter((c) => statSync(join(root, c)).isDirectory())
  .flatMap((c) =>
    readdirSync(join(root, c))
      .filter((f) => /^(map(-nobacking)?\.(json|txt)|nbd-(base|depth)(-nobacking)?\.txt)$/.test(f))
      .map((f) => `${c}/${f}`),
  );

describe('map-file --output=native prints every golden map back as its tool printed it', () => {
  it('has goldens to read', () => expect(MAPS.length).toBeGreaterThan(200));
  it.each(MAPS)('%s', async (f) => {
    const text = readFileSync(join(root, f), 'utf8');
    const r = await runCli(['map-file', '--output=native', f], root);
    // QEMU's output after a failure is partial (no closing bracket, no last entry): refused, line named.
    if (text.trimEnd().endsWith(',') || text === '[') {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`^clusterscope: ${f.replace('.', '\\.')}: qemu-img map JSON line \\d+`),
      );
      return;
    }
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout === text).toBe(true);
  });
});

describe('map-file', () => {
  it('says what a map holds', async () => {
    const r = await runCli(['map-file', 'over-2p53/map.json'], root);
    expect(r.stdout).toBe(
      'over-2p53/map.json: qemu-img map --output=json, field set 6.1-8.1; interpretation qemu-img-map-7.2; 5 extents over 18014398509481984 bytes\n',
    );
  });
  it('refuses a file that is no map in one line naming it and the formats it reads', async () => {
    const r = await runCli(['map-file', 'snapshots/info.json'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^clusterscope: snapshots\/info\.json: map file at 0x0: not a map file: a JSON array, .*qemu-img map --output=json, qemu-img map \(human\), nbdinfo --map or nbdinfo --map --json output\)\n$/,
    );
  });
});
