/**
 * Parity with real QEMU: for every fixture that QEMU maps, clusterscope's CLI output equals
 * the answers recorded from qemu-img 7.2 / qemu-nbd 7.2 + nbdinfo 1.14 (fixtures/golden).
 * JSON is compared parsed (deep-equal), nbdinfo lines as tuples, human map rows as tokens.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import { allCases, golden, imageDir, parseHumanMap, parseNbdinfo } from '../testing/fixtures.ts';

const QEMU = '--qemu=7.2';
const cases = allCases().filter((c) => c.error === null);

describe.each(cases)('$name', (c) => {
  const cwd = imageDir(c);
  const variants = [
    { suffix: '', extra: [] as string[] },
    { suffix: '-nobacking', extra: ['--no-backing'] },
  ];
  for (const v of variants) {
    const mapJson = golden(c, `map${v.suffix}.json`);
    if (mapJson !== undefined && golden(c, `map${v.suffix}.json.exit`) === undefined) {
      it(`map --output=json${v.extra.join(' ')} equals qemu-img map --output=json`, async () => {
        const r = await runCli(['map', '--output=json', QEMU, ...v.extra, c.top], cwd);
        expect(r.stderr.replace(/^clusterscope: warning:.*\n/gm, '')).toBe('');
        expect(JSON.parse(r.stdout)).toEqual(JSON.parse(mapJson));
        expect(r.code).toBe(0);
      });
    }
    const mapTxt = golden(c, `map${v.suffix}.txt`);
    if (mapTxt !== undefined) {
      it(`map${v.extra.join(' ')} (human) equals qemu-img map`, async () => {
        const r = await runCli(['map', QEMU, ...v.extra, c.top], cwd);
        expect(parseHumanMap(r.stdout)).toEqual(parseHumanMap(mapTxt));
        const exit = golden(c, `map${v.suffix}.txt.exit`);
        expect(r.code).toBe(exit === undefined ? 0 : Number(exit.trim()));
      });
    }
    for (const [ctx, file] of [
      ['base:allocation', `nbd-base${v.suffix}.txt`],
      ['qemu:allocation-depth', `nbd-depth${v.suffix}.txt`],
    ] as const) {
      const g = golden(c, file);
      if (g === undefined) continue;
      it(`nbd-map --context=${ctx}${v.extra.join(' ')} equals nbdinfo --map`, async () => {
        const r = await runCli(['nbd-map', `--context=${ctx}`, QEMU, ...v.extra, c.top], cwd);
        expect(parseNbdinfo(r.stdout)).toEqual(parseNbdinfo(g));
        expect(r.code).toBe(0);
      });
    }
  }
});
