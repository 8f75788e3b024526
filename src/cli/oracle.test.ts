/**
 * Live oracle: seeded random chains of writes, zero writes and discards made with qemu-io,
 * mapped by qemu-img / qemu-nbd + nbdinfo and by clusterscope, compared. Required, never
 * skipped: `npm test` runs scripts/preflight.mjs first, which installs QEMU or stops.
 * A failure names the seed; rerun one with CS_ORACLE_SEED=<seed>.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import { parseNbdinfo } from '../testing/fixtures.ts';
import { rng } from '../testing/fuzz/prng.ts';
import { nbdinfo, run } from '../testing/qemu.ts';

/** 16 seeds in `npm test` (~25 s); CS_ORACLE_RUNS=N and CS_ORACLE_START=S explore further. */
const RUNS = Number(process.env.CS_ORACLE_RUNS ?? 16);
const START = Number(process.env.CS_ORACLE_START ?? 1000);
const SEEDS = process.env.CS_ORACLE_SEED
  ? [Number(process.env.CS_ORACLE_SEED)]
  : Array.from({ length: RUNS }, (_, i) => START + i);
const work = mkdtempSync(join(tmpdir(), 'cs-oracle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Scenario {
  readonly dir: string;
  readonly top: string;
  readonly layers: number;
  readonly log: string[];
  /** Persistent bitmap names anywhere in the chain (qemu-nbd -B looks down the chain). */
  readonly bitmaps: string[];
}

/** Bitmap names the scenarios use; the same name on two layers tests which one -B finds. */
const BITMAP_NAMES = ['cp0', 'cp1', 'cp2', 'Daily.1'];

function build(seed: number): Scenario {
  const r = rng(seed).next; // mulberry32 (testing/fuzz/prng.ts): a seed names one exact scenario
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const dir = join(work, `s${seed}`);
  execFileSync('mkdir', ['-p', dir]);
  const log: string[] = [];
  const cluster = pick([4096, 65536]);
  const extl2 = cluster === 65536 && r() < 0.35;
  const v2 = !extl2 && r() < 0.2;
  const depth = 1 + Math.floor(r() * 3);
  const rawBase = depth > 1 && r() < 0.4;
  const names: string[] = [];
  const bitmaps = new Set<string>();
  for (let i = 0; i < depth; i++) {
    // Layers may differ in size, so the walk crosses the end of shorter backing files.
    const clusters = 16 + Math.floor(r() * 48);
    const size = clusters * cluster + (r() < 0.2 ? 512 * Math.floor(r() * 8) : 0);
    const name = i === 0 && rawBase ? 'base.raw' : `l${i}.qcow2`;
    const opts = [
      `cluster_size=${cluster}`,
      `compat=${v2 ? '0.10' : '1.1'}`,
      ...(extl2 ? ['extended_l2=on'] : []),
    ];
    if (name.endsWith('.raw')) {
      run('qemu-img', ['create', '-f', 'raw', name, String(size)], dir);
      // Dense and non-zero: raw holes are invisible to a browser (README, "inherent difference").
      run('qemu-io', ['-f', 'raw', '-c', `write -P 0x${(0x40 + i).toString(16)} 0 ${size}`, name], dir);
    } else {
      const backing = names.at(-1);
      const bopt = backing ? ['-b', backing, '-F', backing.endsWith('.raw') ? 'raw' : 'qcow2'] : [];
      run('qemu-img', ['create', '-f', 'qcow2', '-o', opts.join(','), ...bopt, name, String(size)], dir);
      const cmds: string[] = [];
      const ops = 4 + Math.floor(r() * 14);
      const unit = extl2 ? cluster / 32 : r() < 0.5 ? cluster : 512;
      for (let k = 0; k < ops; k++) {
        const off = Math.floor((r() * size) / unit) * unit;
        const len = Math.min(size - off, unit * (1 + Math.floor(r() * 6)));
        if (len <= 0) continue;
        const op = r();
        if (op < 0.5) cmds.push(`write -P 0x${(1 + Math.floor(r() * 250)).toString(16)} ${off} ${len}`);
        else if (op < 0.7) cmds.push(`write -z ${off} ${len}`);
        else if (op < 0.8) cmds.push(`write -z -u ${off} ${len}`);
        else cmds.push(`discard ${off} ${len}`);
      }
      // Writes in phases; between phases, checkpoint operations on persistent bitmaps (v3 only).
      const withBitmaps = !v2 && r() < 0.6;
      const here: string[] = [];
      const steps: string[] = [];
      const phases = withBitmaps ? 1 + Math.floor(r() * 3) : 1;
      for (let ph = 0; ph < phases; ph++) {
        if (withBitmaps) {
          const bops = 1 + Math.floor(r() * 3);
          for (let b = 0; b < bops; b++) {
            const free = BITMAP_NAMES.filter((n) => !here.includes(n));
            const op = r();
            let args: string[];
            if (!here.length || (op < 0.45 && free.length)) {
              const bm = pick(free);
              const gran = 2 ** (9 + Math.floor(r() * 13));
              args = ['--add', '-g', String(gran), ...(r() < 0.2 ? ['--disable'] : []), name, bm];
              here.push(bm);
            } else if (op < 0.6) args = ['--disable', name, pick(here)];
            else if (op < 0.7) args = ['--enable', name, pick(here)];
            else if (op < 0.8) args = ['--clear', name, pick(here)];
            else args = ['--merge', pick(here), name, pick(here)];
            run('qemu-img', ['bitmap', ...args], dir);
            steps.push(`bitmap ${args.join(' ')}`);
          }
        }
        const mine = cmds.slice(
          Math.floor((ph * cmds.length) / phases),
          Math.floor(((ph + 1) * cmds.length) / phases),
        );
        if (mine.length) run('qemu-io', ['-f', 'qcow2', ...mine.flatMap((c) => ['-c', c]), name], dir);
        steps.push(...mine);
      }
      for (const b of here) bitmaps.add(b);
      log.push(
        `${name}: ${opts.join(',')} size ${size}${backing ? ` backing ${backing}` : ''}: ${steps.join('; ')}`,
      );
    }
    // Densify: git checkouts and browser Files have no host holes (reference §3.5).
    run('sh', ['-c', `cp --sparse=never ${name} ${name}.d && mv ${name}.d ${name}`], dir);
    names.push(name);
  }
  return { dir, top: names.at(-1)!, layers: depth, log, bitmaps: [...bitmaps] };
}

describe('live oracle: random qemu-io chains', () => {
  it.each(SEEDS)('seed %i: map, no-backing map and NBD maps equal QEMU', async (seed) => {
    const s = build(seed);
    const ctx = `seed ${seed} (rerun: CS_ORACLE_SEED=${seed} npx vitest run src/cli/oracle.test.ts)\n${s.log.join('\n')}`;
    const qemuMap = JSON.parse(run('qemu-img', ['map', '--output=json', s.top], s.dir));
    const ours = await runCli(['map', '--output=json', '--qemu=7.2', s.top], s.dir);
    expect(JSON.parse(ours.stdout), ctx).toEqual(qemuMap);

    const nullSpec = `json:{"driver":"qcow2","backing":null,"file":{"driver":"file","filename":"${s.top}"}}`;
    if (s.top.endsWith('.qcow2') && s.layers > 1) {
      const qemuNull = JSON.parse(run('qemu-img', ['map', '--output=json', nullSpec], s.dir));
      const oursNull = await runCli(['map', '--output=json', '--qemu=7.2', '--no-backing', s.top], s.dir);
      expect(JSON.parse(oursNull.stdout), `${ctx}\n--no-backing`).toEqual(qemuNull);
    }
    for (const context of ['base:allocation', 'qemu:allocation-depth']) {
      const q = await nbdinfo(s.dir, ['-f', 'qcow2', s.top], context);
      const o = await runCli(['nbd-map', `--context=${context}`, '--qemu=7.2', s.top], s.dir);
      expect(parseNbdinfo(o.stdout), `${ctx}\n${context}`).toEqual(parseNbdinfo(q));
    }
    for (const bm of s.bitmaps) {
      const context = `qemu:dirty-bitmap:${bm}`;
      const q = await nbdinfo(s.dir, ['-B', bm, '-f', 'qcow2', s.top], context);
      const o = await runCli(['nbd-map', `--context=${context}`, s.top], s.dir);
      expect(parseNbdinfo(o.stdout), `${ctx}\n${context}`).toEqual(parseNbdinfo(q));
    }
  });

  it.each(SEEDS)('seed %i: measure and compare equal qemu-img measure and compare', async (seed) => {
    const s = build(seed + 500_000);
    const ctx = `seed ${seed + 500_000}\n${s.log.join('\n')}`;
    const fmtTop = s.top.endsWith('.raw') ? 'raw' : 'qcow2';
    for (const o of [
      ['-O', 'qcow2'],
      ['-O', 'qcow2', '-o', 'cluster_size=4K'],
      ['-O', 'raw'],
    ]) {
      const q = JSON.parse(run('qemu-img', ['measure', '--output=json', '-f', fmtTop, ...o, s.top], s.dir));
      const ours = await runCli(['measure', '--output=json', '-f', fmtTop, ...o, s.top], s.dir);
      expect(JSON.parse(ours.stdout), `${ctx}\nmeasure ${o.join(' ')}`).toEqual(q);
    }
    // A flat copy, then one random write into it: compare both ways, plain and strict.
    const r = rng(seed).next;
    run('qemu-img', ['convert', '-f', fmtTop, '-O', 'qcow2', s.top, 'copy.qcow2'], s.dir);
    const size = Number(
      JSON.parse(run('qemu-img', ['info', '--output=json', 'copy.qcow2'], s.dir))['virtual-size'],
    );
    const off = Math.floor(r() * size);
    const edit =
      r() < 0.5
        ? `write -P 0x${(1 + Math.floor(r() * 250)).toString(16)} ${off} 1`
        : `write -z ${off - (off % 512)} 512`;
    for (const [a, b] of [
      [s.top, 'copy.qcow2'],
      ['copy.qcow2', s.top],
    ] as const) {
      for (const strict of [[], ['-s']]) {
        const args = [
          'compare',
          ...strict,
          '-f',
          a === s.top ? fmtTop : 'qcow2',
          '-F',
          b === s.top ? fmtTop : 'qcow2',
          a,
          b,
        ];
        let want = '';
        let code = 0;
        try {
          want = run('qemu-img', args, s.dir);
        } catch (e) {
          const x = e as { status: number; stdout: string };
          want = x.stdout;
          code = x.status;
        }
        const ours = await runCli(args, s.dir);
        expect({ out: ours.stdout, code: ours.code }, `${ctx}\n${args.join(' ')}`).toEqual({
          out: want,
          code,
        });
      }
      if (a === s.top) run('qemu-io', ['-f', 'qcow2', '-c', edit, 'copy.qcow2'], s.dir);
    }
  });
});
