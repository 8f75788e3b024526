/**
 * The content scan's timing, run by bench/zeroScan.mjs (bundled by vite, since node runs no
 * TypeScript): over the same file in the same process, a plain sequential read of exactly the
 * bytes the scan plans to read (same source, same 8 MiB reads, the bytes not looked at) against
 * the scan itself (reads plus QEMU's block rules). Alternating, after one warm-up of each;
 * prints one JSON line. The ratio is read time / scan time per back-to-back pair (= the scan's
 * throughput as a share of the read's), median over the pairs.
 *
 *   node bench/out/zeroScanRun.js FILE RUNS
 */
import { openChainFromPath } from '../src/cli/openChain.ts';
import { closeChain } from '../src/core/chain/chain.ts';
import { MAX_READ_BYTES } from '../src/core/limits.ts';
import { chainStatus } from '../src/core/status/resolve.ts';
import { planZeroScan, zeroScan, zeroScanReport } from '../src/core/status/zeroScan.ts';

const [file, runsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: zeroScanRun.js FILE RUNS');
const runs = Number(runsArg ?? 3);
const chain = await openChainFromPath(file);
const st = await chainStatus(chain);
const t0 = performance.now();
const plan = planZeroScan(st);
const planMs = performance.now() - t0;

async function plainRead(): Promise<number> {
  let bytes = 0;
  for (const lp of plan.layers) {
    const src = chain.layers[lp.layer]!.source;
    for (let k = 0; k < lp.start.length; k++) {
      for (let off = lp.start[k]!; off < lp.end[k]!; off += MAX_READ_BYTES) {
        bytes += (await src.read(off, Math.min(MAX_READ_BYTES, lp.end[k]! - off))).length;
      }
    }
  }
  return bytes;
}

/** Wall and CPU (user + system) milliseconds; on a loaded shared machine CPU time is the steadier. */
const cpu: { read: number[]; scan: number[] } = { read: [], scan: [] };
const time = async (f: () => Promise<unknown>, into: number[]) => {
  const c = process.cpuUsage();
  const a = performance.now();
  await f();
  const wall = performance.now() - a;
  const d = process.cpuUsage(c);
  into.push((d.user + d.system) / 1000);
  return wall;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let scanned = st;
await plainRead();
scanned = await zeroScan(st, { plan });
const read: number[] = [];
const scan: number[] = [];
for (let r = 0; r < runs; r++) {
  read.push(await time(plainRead, cpu.read));
  scan.push(
    await time(async () => {
      scanned = await zeroScan(st, { plan });
    }, cpu.scan),
  );
}
const report = zeroScanReport(scanned)!;
let zeroBytes = 0;
for (let i = 0; i < scanned.extents.count; i++)
  if (scanned.extents.flags[i]! & 0x20) zeroBytes += scanned.extents.length[i]!;
const mib = plan.bytes / 2 ** 20;
console.log(
  JSON.stringify({
    file,
    planBytes: plan.bytes,
    planMs,
    bytesRead: report.bytesRead,
    zeroBytes,
    extents: scanned.extents.count,
    heuristics: report.heuristics,
    readMs: median(read),
    scanMs: median(scan),
    readMiBs: mib / (median(read) / 1000),
    scanMiBs: mib / (median(scan) / 1000),
    // Pairs run back to back, so the load of a shared machine hits both alike: the median of
    // the pairs' ratios is steadier than the ratio of the medians.
    ratio: median(read.map((x, k) => x / scan[k]!)),
    readCpuMs: median(cpu.read),
    scanCpuMs: median(cpu.scan),
    cpuRatio: median(cpu.read.map((x, k) => x / cpu.scan[k]!)),
    runs: { read, scan, cpu },
  }),
);
await closeChain(chain);
