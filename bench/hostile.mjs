#!/usr/bin/env node
// Hostile images against qemu-img: fixtures/hostile.py builds 384 KiB files whose shared L2
// tables make millions of extents (issue 15: `clusterscope map` took 4 GiB and failed with
// "Invalid string length" on 12 M extents, 5.6 GiB and "Invalid typed array length" on 31 M).
// Runs `qemu-img map` and `clusterscope map` (streamed) on each, --output=json and human, and
// prints wall and CPU time, peak RSS (GNU time) and whether the two outputs are byte-identical
// (SHA-256 of each stdout, hashed as it streams).
//
//   npm run build:cli && node bench/hostile.mjs [--l1 1536,3800] [--cli PATH]
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GNU_TIME, haveGnuTime } from './measure.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : args[i + 1];
};
const l1s = opt('l1', '1536,3800').split(',').map(Number);
const root = resolve(import.meta.dirname, '..');
const cli = resolve(opt('cli', process.env.CLUSTERSCOPE_BIN ?? join(root, 'bin', 'clusterscope.mjs')));
if (!haveGnuTime()) {
  console.error('bench: needs GNU time (/usr/bin/time)');
  process.exit(2);
}

/** Runs argv under GNU time, hashing its stdout as it streams. */
function run(argv) {
  const side = join(tmpdir(), `cs-hostile-time-${process.pid}.txt`);
  return new Promise((res, rej) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const t0 = performance.now();
    const p = spawn(GNU_TIME, ['-f', '%U %S %M', '-o', side, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stdout.on('data', (b) => {
      bytes += b.length;
      hash.update(b);
    });
    p.stderr.on('data', (b) => {
      stderr += b;
    });
    p.on('error', rej);
    p.on('close', (status) => {
      const [user, sys, rss] = readFileSync(side, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
      rmSync(side, { force: true });
      res({
        seconds: (performance.now() - t0) / 1000,
        cpu: user + sys,
        rssMiB: rss / 1024,
        status,
        bytes,
        sha: hash.digest('hex'),
        stderr,
      });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'cs-hostile-bench-'));
try {
  const fmt = (r) =>
    `${r.seconds.toFixed(1).padStart(6)} s wall ${r.cpu.toFixed(1).padStart(6)} s CPU ${r.rssMiB.toFixed(0).padStart(5)} MiB peak RSS, exit ${r.status}`;
  for (const l1 of l1s) {
    const img = join(dir, `shared-${l1}.qcow2`);
    execFileSync('python3', [join(root, 'fixtures', 'hostile.py'), 'shared-l2', img, '--l1', String(l1)]);
    console.log(`shared-l2 --l1 ${l1}: ${l1 * 8192} extents, 384 KiB on disk`);
    for (const [label, qArgs, cArgs] of [
      [
        '--output=json',
        ['map', '--output=json', '-f', 'qcow2', img],
        ['map', '--output=json', '--qemu=7.2', img],
      ],
      ['human', ['map', '-f', 'qcow2', img], ['map', '--qemu=7.2', img]],
    ]) {
      const q = await run(['qemu-img', ...qArgs]);
      const c = await run(['node', cli, ...cArgs]);
      console.log(`  ${label}: ${(q.bytes / 2 ** 20).toFixed(0)} MiB of output`);
      console.log(`    qemu-img     ${fmt(q)}`);
      console.log(`    clusterscope ${fmt(c)}${c.stderr ? ` stderr: ${c.stderr.trim().slice(0, 200)}` : ''}`);
      console.log(`    outputs byte-identical: ${q.sha === c.sha && q.bytes === c.bytes ? 'yes' : 'NO'}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
