/**
 * 65,535 persistent bitmaps (QCOW2_MAX_BITMAPS, legal on disk) and the near misses around it,
 * made by fixtures/gen-many-bitmaps.py from images/bitmaps-many/base.qcow2 (the same script
 * made them for qemu-img 7.2, whose answers are in golden/bitmaps-many): check's report, its
 * exit status, and QEMU's sentence where QEMU refuses to open the image (exit 1).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../testing/cli.ts';
import { FIXTURES, golden } from '../../testing/fixtures.ts';

/** make-fixtures.sh BITMAPS_MANY: variant name and gen-many-bitmaps.py arguments. */
const VARIANTS: [string, string[]][] = [
  ['65535', ['65535']],
  ['65535-announce-65536', ['65535', '--announce', '65536']],
  ['65534-announce-65535', ['65534', '--announce', '65535']],
  ['65535-short-table', ['65535', '--table-entries-last', '2']],
];

const work = mkdtempSync(join(tmpdir(), 'cs-bitmaps-many-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function make(name: string, args: string[]): void {
  const out = join(work, `${name}.qcow2`);
  execFileSync('python3', [
    join(FIXTURES, 'gen-many-bitmaps.py'),
    join(FIXTURES, 'images', 'bitmaps-many', 'base.qcow2'),
    out,
    ...args,
  ]);
  // The very image qemu-img answered for.
  expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(
    golden('bitmaps-many', `${name}.sha256`)!.trim(),
  );
}

describe.each(VARIANTS)('%s bitmaps', (name, args) => {
  it('check: the report and exit status of qemu-img check --output=json', async () => {
    make(name, args);
    const r = await runCli(['check', '--output=json', `${name}.qcow2`], work);
    expect(r.code).toBe(Number(golden('bitmaps-many', `${name}.check.exit`)!.trim()));
    const json = golden('bitmaps-many', `${name}.check.json`);
    const err = golden('bitmaps-many', `${name}.check.err`)!;
    if (json !== undefined) {
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(json));
      expect(r.stderr.split('\n').filter((l) => !l.startsWith('clusterscope:'))).toEqual(err.split('\n'));
    } else {
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(err.trim().replace(/^qemu-img: Could not open '[^']*': /, ''));
    }
  }, 60_000);
  const infoExit = golden('bitmaps-many', `${name}.info.json.exit`);
  if (infoExit?.trim() === '1') {
    it("info: refused with qemu-img info's sentence", async () => {
      make(name, args);
      const r = await runCli(['info', '--output=json', `${name}.qcow2`], work);
      expect(r.code).toBe(1);
      const err = golden('bitmaps-many', `${name}.info.json.err`)!;
      expect(r.stderr).toContain(err.trim().replace(/^qemu-img: Could not open '[^']*': /, ''));
    }, 60_000);
  }
});
