/**
 * nbd-map --context=qemu:dirty-bitmap:NAME against every nbd-bitmap golden: nbdinfo [--json]
 * --map=qemu:dirty-bitmap:NAME against qemu-nbd 7.2 -r -t -A -B NAME (fixtures/make-fixtures.sh
 * nbd_bitmap), or qemu-nbd's refusal (stderr and exit status) where it refused the bitmap.
 * File names spell the bitmap name as interpretation ids do (ids.ts dirtyBitmapId()).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIRTY_BITMAP_ID_PREFIX, dirtyBitmapName } from '../../core/interpret/ids.ts';
import { runCli } from '../../testing/cli.ts';
import { allCases, FIXTURES, golden, imageDir, parseNbdinfo } from '../../testing/fixtures.ts';

interface BitmapGolden {
  readonly name: string;
  readonly noBacking: boolean;
  readonly base: string;
}

function bitmapGoldens(caseName: string): BitmapGolden[] {
  const bases = new Set<string>();
  for (const f of readdirSync(join(FIXTURES, 'golden', caseName))) {
    const m = /^(nbd-bitmap-.+)\.txt(\.exit)?$/.exec(f);
    if (m) bases.add(m[1]!);
  }
  return [...bases].map((base) => {
    const m = /^nbd-bitmap-(.+?)(-nobacking)?$/.exec(base)!;
    const name = dirtyBitmapName(DIRTY_BITMAP_ID_PREFIX + m[1]!);
    if (name === undefined) throw new Error(`${caseName}/${base}: not a bitmap id spelling`);
    return { name, noBacking: m[2] !== undefined, base };
  });
}

const cases = allCases().filter((c) => c.covers.includes('bitmaps'));

describe.each(cases)('$name', (c) => {
  const goldens = bitmapGoldens(c.name);
  it('has bitmap goldens', () => expect(goldens.length).toBeGreaterThan(0));
  for (const g of goldens) {
    const extra = g.noBacking ? ['--no-backing'] : [];
    const args = (more: string[]) => [
      'nbd-map',
      `--context=qemu:dirty-bitmap:${g.name}`,
      ...extra,
      ...more,
      c.top,
    ];
    const exit = golden(c, `${g.base}.txt.exit`);
    if (exit !== undefined) {
      const qemuSays = golden(c, `${g.base}.txt.err`)!
        .trim()
        .replace(/^qemu-nbd: /, '');
      it(`refuses '${g.name}'${extra.join('')} as qemu-nbd -B does: ${qemuSays}`, async () => {
        const r = await runCli(args([]), imageDir(c));
        expect(r.code).toBe(Number(exit.trim()));
        expect(r.stdout).toBe('');
        expect(r.stderr).toContain(qemuSays);
      });
      continue;
    }
    it(`'${g.name}'${extra.join('')} equals nbdinfo --map=qemu:dirty-bitmap:${g.name}`, async () => {
      const r = await runCli(args([]), imageDir(c));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(parseNbdinfo(r.stdout)).toEqual(parseNbdinfo(golden(c, `${g.base}.txt`)!));
    });
    const json = golden(c, `${g.base}.json`);
    if (json !== undefined) {
      it(`'${g.name}'${extra.join('')} --output=json equals nbdinfo --json --map`, async () => {
        const r = await runCli(args(['--output=json']), imageDir(c));
        expect(JSON.parse(r.stdout)).toEqual(JSON.parse(json));
      });
    }
  }
});
