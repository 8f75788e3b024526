/**
 * Parity with real QEMU: for every fixture that QEMU maps, clusterscope's CLI output equals
 * the answers recorded from qemu-img 7.2 / qemu-nbd 7.2 + nbdinfo 1.14 (fixtures/golden).
 * JSON is compared parsed (deep-equal), nbdinfo lines as tuples, human map rows as tokens.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import {
  allCases,
  golden,
  INTENDED_REFUSALS,
  imageDir,
  parseHumanMap,
  parseNbdinfo,
} from '../testing/fixtures.ts';

const QEMU = '--qemu=7.2';
/** Cases QEMU mapped (its refusals are in corrupt.test.ts), minus the intended refusals. */
const cases = allCases().filter(
  (c) => !(c.name in INTENDED_REFUSALS) && golden(c, 'map.json.exit') === undefined,
);

/** fixtures/make-fixtures.sh ran qemu-img and qemu-nbd with `-f qcow2` (the json: spec names the driver). */
const fmt = (extra: string[]) => ['--format=qcow2', ...extra];

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
        const r = await runCli(['map', '--output=json', QEMU, ...fmt(v.extra), c.top], cwd);
        expect(r.stderr.replace(/^clusterscope: warning:.*\n/gm, '')).toBe('');
        expect(JSON.parse(r.stdout)).toEqual(JSON.parse(mapJson));
        expect(r.code).toBe(0);
      });
    }
    const mapTxt = golden(c, `map${v.suffix}.txt`);
    if (mapTxt !== undefined) {
      it(`map${v.extra.join(' ')} (human) equals qemu-img map`, async () => {
        const r = await runCli(['map', QEMU, ...fmt(v.extra), c.top], cwd);
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
      if (g === undefined || golden(c, `${file}.exit`) !== undefined) continue;
      it(`nbd-map --context=${ctx}${v.extra.join(' ')} equals nbdinfo --map`, async () => {
        const r = await runCli(['nbd-map', `--context=${ctx}`, QEMU, ...fmt(v.extra), c.top], cwd);
        expect(parseNbdinfo(r.stdout)).toEqual(parseNbdinfo(g));
        expect(r.code).toBe(0);
      });
    }
  }
});

/**
 * Internal snapshots: `qemu-nbd -l NAME` exports a snapshot's L1 table (recorded as
 * nbd-snapshot-NAME.txt); map-snapshot-NAME.json was recorded from `qemu-img convert -l
 * snapshot.name=NAME` output, a different file, so its offsets are not comparable and only the
 * other members are.
 */
describe('internal snapshots', () => {
  const c = allCases().find((x) => x.name === 'snapshots');
  const names = ['s1', 's2'];
  it.each(names)('nbd-map --snapshot=%s equals qemu-nbd -l NAME + nbdinfo --map', async (s) => {
    const r = await runCli(['nbd-map', `--snapshot=${s}`, '--qemu=7.2', c!.top], imageDir(c!));
    expect(parseNbdinfo(r.stdout)).toEqual(parseNbdinfo(golden(c!, `nbd-snapshot-${s}.txt`)!));
  });
  it.each(names)('map --snapshot=%s equals the map of the converted snapshot, offsets aside', async (s) => {
    const r = await runCli(['map', '--output=json', `--snapshot=${s}`, '--qemu=7.2', c!.top], imageDir(c!));
    // Without offsets, entries that only split on host contiguity merge (the converted file is laid out anew).
    const strip = (xs: { start: number; length: number; offset?: number }[]) => {
      const out: { start: number; length: number }[] = [];
      for (const { offset: _, ...e } of xs) {
        const p = out.at(-1);
        const same =
          p &&
          JSON.stringify({ ...p, start: 0, length: 0 }) === JSON.stringify({ ...e, start: 0, length: 0 });
        if (p && same && p.start + p.length === e.start) p.length += e.length;
        else out.push({ ...e });
      }
      return out;
    };
    expect(strip(JSON.parse(r.stdout))).toEqual(strip(JSON.parse(golden(c!, `map-snapshot-${s}.json`)!)));
  });
  it('an unknown snapshot name is a one-line error listing the snapshots', async () => {
    const r = await runCli(['map', '--snapshot=nope', c!.top], imageDir(c!));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("clusterscope: top.qcow2: no snapshot 'nope' (snapshots: s1, s2)\n");
  });
});
