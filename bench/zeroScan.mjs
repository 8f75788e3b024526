// The content scan (`--zero-scan`, src/core/status/zeroScan.ts) against a plain sequential read
// of the same bytes, in the same run and process: the scan's throughput as a share of the read's.
// Target: >= 0.70 (issue 14).
//
//   node bench/zeroScan.mjs [--runs N]
//
// The image (bench/images.mjs SCAN, cached under bench/out/): 2 GiB of data clusters made by
// qemu-img convert -S 0, one cluster in 8 all zero and one in 16 half zero. It fits in the page
// cache here, so both sides are measured warm: the difference is the scan's own work per block.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { build } from 'vite';
import { ensureImage, qemuImgVersion, SCAN } from './images.mjs';

const args = process.argv.slice(2);
const i = args.indexOf('--runs');
const RUNS = i >= 0 ? Number(args[i + 1]) : 7;
const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(ROOT, 'bench/out');

const img = ensureImage(OUT, SCAN, qemuImgVersion(), console.log);
if (img.created) console.log(`made ${img.file} in ${img.seconds.toFixed(1)} s`);
await build({
  configFile: false,
  logLevel: 'warn',
  build: {
    ssr: resolve(ROOT, 'bench/zeroScanRun.ts'),
    outDir: OUT,
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    rollupOptions: { output: { entryFileNames: 'zeroScanRun.js', format: 'es' } },
  },
});
const r = spawnSync('node', [resolve(OUT, 'zeroScanRun.js'), img.file, String(RUNS)], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(`zeroScanRun failed:\n${r.stderr}`);
const m = JSON.parse(r.stdout.trim().split('\n').at(-1));
const gib = (n) => `${(n / 2 ** 30).toFixed(2)} GiB`;
console.log(
  `plan: ${gib(m.planBytes)} to read (planned in ${m.planMs.toFixed(1)} ms); read ${gib(m.bytesRead)}`,
);
console.log(
  `zero content found: ${gib(m.zeroBytes)} in ${m.extents} extents; heuristic: ${JSON.stringify(m.heuristics)}`,
);
console.log(
  `plain read: ${m.readMs.toFixed(0)} ms (${m.readMiBs.toFixed(0)} MiB/s), runs ${m.runs.read.map((x) => x.toFixed(0)).join(' ')}`,
);
console.log(
  `zero scan:  ${m.scanMs.toFixed(0)} ms (${m.scanMiBs.toFixed(0)} MiB/s), runs ${m.runs.scan.map((x) => x.toFixed(0)).join(' ')}`,
);
console.log(`CPU time: read ${m.readCpuMs.toFixed(0)} ms, scan ${m.scanCpuMs.toFixed(0)} ms (medians)`);
console.log(
  `scan throughput / read throughput, median of back-to-back pairs: wall ${m.ratio.toFixed(2)}, CPU ${m.cpuRatio.toFixed(2)} (target >= 0.70)`,
);
const load = (await import('node:os')).loadavg()[0];
if (load > (await import('node:os')).availableParallelism() / 2)
  console.log(
    `note: load average ${load.toFixed(1)}: wall times are shared with other work; the CPU ratio is steadier`,
  );
