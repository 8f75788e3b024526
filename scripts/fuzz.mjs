#!/usr/bin/env node
// `npm run fuzz -- --runs N [--seed S]`: the long fuzz run. Spawns `vitest run
// src/cli/fuzz.test.ts` with CS_FUZZ_RUNS=N (mutations; a third as many generated chains),
// saves failing inputs under fixtures/fuzz-regressions/ (replayed by fuzzRegressions.test.ts),
// prints inputs/s and outcomes by error class. A hang the in-process harness cannot interrupt
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
  CS_FUZZ_SEED: String(seed),
  CS_FUZZ_SAVE: '1',
  CS_FUZZ_REPORT: report,
  CS_FUZZ_INFLIGHT: inflight,
};
console.log(
  `fuzz: ${runs} mutations + ${Math.max(1, Math.round(runs / 3))} generated chains from seed ${seed}`,
);
const t0 = Date.now();
const child = spawn('npx', ['vitest', 'run', 'src/cli/fuzz.test.ts'], { cwd: root, env, stdio: 'inherit' });

let hung = false;
const watchdog = setInterval(() => {
  const marker = join(inflight, 'input.json');
  if (!existsSync(marker)) return;
  if (Date.now() - statSync(marker).mtimeMs > stall * 1000) {
    hung = true;
    const meta = JSON.parse(readFileSync(marker, 'utf8'));
    const dest = join(root, 'fixtures', 'fuzz-regressions', `hang-${meta.origin}`);
    cpSync(inflight, dest, { recursive: true });
    console.error(`fuzz: HANG: no progress for ${stall} s on ${meta.origin}; saved to ${dest}`);
    child.kill('SIGKILL');
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
        `fuzz: ${k}: ${s.inputs} inputs, ${(s.inputs / Math.max(s.ms / 1000, 1e-3)).toFixed(1)} inputs/s in the engine; outcomes by class ${JSON.stringify(s.outcomes)}; failures ${s.failures.length}; slowest input ${s.maxInputMs} ms; most bytes asked ${s.maxBytesRequested}; peak RSS ${(s.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      );
      for (const f of s.failures)
        console.log(
          `  FAIL ${f.input}\n    ${f.failures.join('\n    ')}${f.saved ? `\n    saved: ${f.saved}` : ''}`,
        );
    }
    const total = r.mutated.inputs + r.generated.inputs;
    console.log(
      `fuzz: ${total} inputs in ${secs.toFixed(1)} s wall (${(total / secs).toFixed(1)} inputs/s overall)`,
    );
  }
  rmSync(tmp, { recursive: true, force: true });
  process.exit(hung ? 3 : (code ?? 1));
});
