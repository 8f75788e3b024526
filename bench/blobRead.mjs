// The read floor under the browser benchmark: the fastest way the File API lets a worker get the
// L2 tables of the 1 TiB preallocation=metadata image (2048 tables of 64 KiB, 512 MiB apart in
// the file), with no parsing, beside qemu-img map on the same file in the same run. Every full
// map in the page reads these bytes, so no full map can beat the floor; bench/browser.mjs prints
// the map as a ratio to it.
//
//   node bench/blobRead.mjs [--runs N] [--only REGEX] [--grid] [--json FILE]
//
// Every strategy runs in a fresh worker on about:blank (no app code) that owns the File, as the
// app's worker does, and is timed there from its first slice to the last table's bytes in hand
// (each table's first entry summed, against the same sum read by Node, so a strategy that
// misplaces a table fails). Reader workers are started and answer a ping before the clock starts
// (the app starts its pool with its worker, before a file is dropped); handing them the File and
// their share is timed. Strategies:
//   composite P x K   composite Blobs of P slices (new Blob(parts).arrayBuffer()), K in flight
//                     (K = all: every batch started at once); P = 1 is one slice.arrayBuffer() each
//   sync P            FileReaderSync.readAsArrayBuffer of composite Blobs of P slices, one after
//                     another, in the worker itself (it is blocked meanwhile)
//   workers N: ...    N dedicated reader workers, the batches dealt round-robin, each reading its
//                     share (composite P x K, or sync P) and transferring the bytes back
//   stream / single   references, not candidates: one contiguous range of the same byte count
//                     through Blob.stream() / one arrayBuffer() (the bytes alone, no per-slice
//                     cost; this image's tables are 512 MiB apart, so no stream can read them)
// Per strategy the run prints the median time, its ratio to the floor (the fastest candidate's
// median) and to qemu-img map, and the longest the owning worker went without running a timer
// (its event loop blocked by slicing or synchronous reads: what the scan and bin requests would
// wait).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { ensureImage, PREALLOC, qemuImgVersion } from './images.mjs';
import {
  asBlob,
  CONTIGUOUS,
  composite as c,
  floorPage,
  launchChromium,
  ROOT,
  syncRead,
  readers as w,
} from './page.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('runs', 3));
const ONLY = opt('only', undefined);
const JSON_OUT = opt('json', undefined);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () => loadavg()[0].toFixed(1);

/** The strategies (--grid: every combination tried while choosing the default list). */
function strategies() {
  const list = [];
  if (args.includes('--grid')) {
    for (const p of [16, 32, 64, 128, 256]) for (const k of [1, 2, 4, 8, 0]) list.push(c(p, k));
    for (const k of [16, 64, 0]) list.push(c(1, k));
    for (const p of [1, 32, 128]) list.push(syncRead(p));
    for (const n of [2, 3, 4]) {
      for (const s of [c(64, 2), c(128, 2), c(128, 4), syncRead(32), syncRead(128)]) list.push(w(n, s));
    }
  } else {
    list.push(c(256, 0), c(128, 1), c(128, 2), c(128, 4), c(128, 8), c(64, 4), c(64, 8), c(1, 64));
    list.push(syncRead(1), syncRead(128));
    for (const n of [2, 4]) for (const s of [c(128, 2), c(128, 4), syncRead(128)]) list.push(w(n, s));
    for (const win of [512, 1024]) list.push(w(2, c(128, 2), win));
  }
  list.push(asBlob(c(128, 4)), asBlob(w(2, c(128, 4))));
  list.push(...CONTIGUOUS);
  return ONLY ? list.filter((s) => new RegExp(ONLY).test(s.name)) : list;
}

const version = qemuImgVersion();
const img = ensureImage(resolve(ROOT, 'bench/out'), PREALLOC, version, console.log);
const browser = await launchChromium();
const { tables, read } = await floorPage(browser, img.file);
console.log(`${img.file}: ${tables.offsets.length} L2 tables of ${tables.size / 1024} KiB`);

const qemu = () => {
  const t0 = performance.now();
  const r = spawnSync('qemu-img', ['map', '--output=json', img.file], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`qemu-img map: ${r.stderr}`);
  return performance.now() - t0;
};

const list = strategies();
const t = new Map(list.map((s) => [s.name, { ms: [], blocked: [] }]));
const q = [];
const loads = [load()];
qemu();
await read(list[0]); // warm-up: the browser's file handle, the page cache
for (let r = 0; r < RUNS; r++) {
  q.push(qemu());
  // Each run starts the list at another place, so no strategy always follows the same one.
  const order = list.map((_, k) => list[(k + r * Math.ceil(list.length / RUNS)) % list.length]);
  for (const s of order) {
    const x = await read(s);
    t.get(s.name).ms.push(x.ms);
    t.get(s.name).blocked.push(x.blocked);
  }
  loads.push(load());
  console.log(
    `run ${r + 1} (load ${loads.at(-1)}): qemu-img map ${q.at(-1).toFixed(0)} ms | ${list.map((s) => `${s.name} ${t.get(s.name).ms.at(-1).toFixed(0)}`).join(' | ')}`,
  );
}
await browser.close();

const qm = median(q);
const rows = list.map((s) => ({
  name: s.name,
  ref: !!s.ref,
  ms: median(t.get(s.name).ms),
  runs: t.get(s.name).ms,
  blocked: median(t.get(s.name).blocked),
}));
const floor = rows.filter((x) => !x.ref).sort((a, b) => a.ms - b.ms)[0];
console.log(`\nmedian of ${RUNS}; load average ${loads.join(' -> ')} (${version.full}):`);
console.log(`  qemu-img map (whole map)      ${qm.toFixed(0).padStart(6)} ms`);
console.log(
  `  the floor: ${floor.name.padEnd(24)} ${floor.ms.toFixed(0).padStart(6)} ms = ${(floor.ms / qm).toFixed(2)}x qemu-img map`,
);
console.log('  strategy                      median   / floor  / qemu-img  owner blocked  runs');
for (const x of [...rows].sort((a, b) => a.ms - b.ms)) {
  console.log(
    `  ${x.name.padEnd(28)} ${x.ms.toFixed(0).padStart(6)} ms ${(x.ms / floor.ms).toFixed(2).padStart(6)}x ${(x.ms / qm).toFixed(2).padStart(7)}x ${x.blocked.toFixed(0).padStart(8)} ms   ${x.runs.map((m) => m.toFixed(0)).join(' ')}`,
  );
}
if (JSON_OUT) writeFileSync(JSON_OUT, `${JSON.stringify({ qemu: qm, floor, rows, loads }, null, 2)}\n`);
