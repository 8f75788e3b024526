#!/usr/bin/env node
// `npm run fuzz -- --runs N [--seed S] [--maps M]`: the long fuzz run. Spawns `vitest run
// src/cli/fuzz.test.ts src/cli/fuzzMaps.test.ts` with CS_FUZZ_RUNS=N (mutations; a third as
// many generated chains) and CS_FUZZ_MAP_RUNS=M (map files, link maps, clusterscope map files;
// default N), saves failing inputs under fixtures/fuzz-regressions/ as recipes (replayed by
// fuzzRegressions.test.ts and fuzzMaps.test.ts), prints inputs/s and outcomes by error class. A hang the in-process harness cannot interrupt
// (a loop that never reads) is caught here: with no progress for --stall seconds the run is
// killed and the input in flight is saved as a regression fixture.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const a = args[i];
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
};
const runs = Number(opt('runs', 1000));
const seed = Number(opt('seed', Date.now() % 1_000_000));
const stall = Number(opt('stall', 60));
const mapRuns = Number(opt('maps', runs));
if (!Number.isSafeInteger(runs) || runs < 1) {
  console.error('fuzz: --runs N needs a positive integer');
  process.exit(2);
}

const root = resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'cs-fuzz-'));
const report = join(tmp, 'report.json');
const inflight = join(tmp, 'inflight');
const env = {
  ...process.env,
  CS_FUZZ_RUNS: String(runs),
  CS_FUZZ_MAP_RUNS: String(mapRuns),
  CS_FUZZ_SEED: String(seed),
  CS_FUZZ_SAVE: '1',
  CS_FUZZ_REPORT: report,
  CS_FUZZ_INFLIGHT: inflight,
};
console.log(
  `fuzz: ${runs} mutations + ${Math.max(1, Math.round(runs / 3))} generated chains + ${mapRuns} map texts from seed ${seed}`,
);
const t0 = Date.now();
// Its own process group, so that a hang kills vitest and its workers, not only npx.
const child = spawn('npx', ['vitest', 'run', 'src/cli/fuzz.test.ts', 'src/cli/fuzzMaps.test.ts'], {
  cwd: root,
  env,
  stdio: 'inherit',
  detached: true,
});
const killChild = () => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
};
process.on('SIGINT', () => {
  killChild();
  process.exit(130);
});

// Each test file marks the input in flight (image inputs: inflight/input.json, map texts:
// inflight-maps/map-input.json) and removes its marker when done; a marker older than --stall
// seconds is a hang. A marker being rewritten may vanish between the checks: skipped.
let hung = false;
const markers = [
  { dir: inflight, file: 'input.json' },
  { dir: `${inflight}-maps`, file: 'map-input.json' },
];
const watchdog = setInterval(() => {
  for (const m of markers) {
    const marker = join(m.dir, m.file);
    let meta;
    try {
      if (Date.now() - statSync(marker).mtimeMs <= stall * 1000) continue;
      meta = JSON.parse(readFileSync(marker, 'utf8'));
    } catch {
      continue;
    }
    hung = true;
    const dest = join(root, 'fixtures', 'fuzz-regressions', `hang-${meta.origin ?? meta.what}`);
    cpSync(m.dir, dest, { recursive: true });
    console.error(`fuzz: HANG: no progress for ${stall} s on ${meta.origin ?? meta.what}; saved to ${dest}`);
    killChild();
  }
}, 1000);

child.on('exit', (code) => {
  clearInterval(watchdog);
  const secs = (Date.now() - t0) / 1000;
  if (existsSync(report)) {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    for (const k of ['mutated', 'generated']) {
      const s = r[k];
      console.log(
        `fuzz: ${k}: ${s.inputs} inputs, ${(s.inputs / Math.max(s.ms / 1000, 1e-3)).toFixed(1)} inputs/s in the engine; outcomes by class ${JSON.stringify(s.outcomes)}; failures ${s.failures.length}; slowest input ${s.maxInputMs} ms (${s.slowest}); most bytes asked ${s.maxBytesRequested}; most engine bytes held ${s.maxEngineBytes}; peak RSS ${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      );
      for (const f of s.failures)
        console.log(
          `  FAIL ${f.input}\n    ${f.failures.join('\n    ')}${f.saved ? `\n    saved: ${f.saved}` : ''}`,
        );
    }
    let maps = 0;
    if (existsSync(`${report}.maps`)) {
      const m = JSON.parse(readFileSync(`${report}.maps`, 'utf8'));
      maps = m.inputs;
      console.log(
        `fuzz: maps: ${m.inputs} inputs, ${(m.inputs / Math.max(m.ms / 1000, 1e-3)).toFixed(1)} inputs/s; outcomes by class ${JSON.stringify(m.outcomes)}; failures ${m.failures.length}; slowest input ${m.maxInputMs.toFixed(0)} ms (${m.slowest}); most engine bytes held ${m.maxEngineBytes}; peak RSS ${(m.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      );
      for (const f of m.failures)
        console.log(
          `  FAIL ${f.input}\n    ${f.failures.join('\n    ')}${f.saved ? `\n    saved: ${f.saved}` : ''}`,
        );
    }
    const total = r.mutated.inputs + r.generated.inputs + maps;
    console.log(
      `fuzz: ${total} inputs in ${secs.toFixed(1)} s wall (${(total / secs).toFixed(1)} inputs/s overall)`,
    );
  }
  rmSync(tmp, { recursive: true, force: true });
  process.exit(hung ? 3 : (code ?? 1));
});
