// The floor under the browser benchmark: how long Chromium takes just to hand a worker the
// L2 tables of the 1 TiB preallocation=metadata image through Blob slices, with no parsing,
// beside qemu-img map on the same file in the same run. Every full map in the page reads these
// bytes, so no full map can beat this time; the ratio says how far the issue's 0.5x target is.
//
//   node bench/blobRead.mjs [--runs N]
//
// Strategies, each in a fresh worker on about:blank (no app code):
//   batched      2048 slices of 64 KiB as composite Blobs of 256 slices (what BlobSource does)
//   single       one slice of the same byte count, contiguous (the bytes alone, no per-slice cost)
//   one-by-one   2048 separate slice.arrayBuffer() calls, all in flight
import { spawnSync } from 'node:child_process';
import { openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { ensureImage, PREALLOC, qemuImgVersion } from './images.mjs';

const args = process.argv.slice(2);
const i = args.indexOf('--runs');
const RUNS = i >= 0 ? Number(args[i + 1]) : 3;
const ROOT = resolve(import.meta.dirname, '..');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const version = qemuImgVersion();
const img = ensureImage(resolve(ROOT, 'bench/out'), PREALLOC, version, console.log);

// The L2 table offsets, from the header and the L1 table.
const fd = openSync(img.file, 'r');
const head = Buffer.alloc(104);
readSync(fd, head, 0, 104, 0);
const l1Size = head.readUInt32BE(36);
const l1 = Buffer.alloc(l1Size * 8);
readSync(fd, l1, 0, l1.length, Number(head.readBigUInt64BE(40)));
const clusterSize = 2 ** head.readUInt32BE(20);
const offsets = [];
for (let k = 0; k < l1Size; k++) {
  const o = Number(l1.readBigUInt64BE(k * 8) & 0x00fffffffffffe00n);
  if (o) offsets.push(o);
}
console.log(`${img.file}: ${offsets.length} L2 tables of ${clusterSize / 1024} KiB`);

const WORKER = `onmessage = async ({ data: { file, offsets, size, how } }) => {
  const t0 = performance.now();
  let bytes = 0;
  if (how === 'batched') {
    const reads = [];
    for (let i = 0; i < offsets.length; i += 256)
      reads.push(new Blob(offsets.slice(i, i + 256).map((o) => file.slice(o, o + size))).arrayBuffer());
    for (const b of await Promise.all(reads)) bytes += b.byteLength;
  } else if (how === 'single') {
    bytes = (await file.slice(offsets[0], offsets[0] + size * offsets.length).arrayBuffer()).byteLength;
  } else {
    for (const b of await Promise.all(offsets.map((o) => file.slice(o, o + size).arrayBuffer()))) bytes += b.byteLength;
  }
  postMessage({ ms: performance.now() - t0, bytes });
};`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const page = await browser.newPage();
await page.setContent('<input type=file id=f>');
await page.setInputFiles('#f', img.file);

const read = (how) =>
  page.evaluate(
    ({ src, offsets, size, how }) =>
      new Promise((done) => {
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
        w.onmessage = (e) => {
          w.terminate();
          done(e.data);
        };
        w.postMessage({ file: document.getElementById('f').files[0], offsets, size, how });
      }),
    { src: WORKER, offsets, size: clusterSize, how },
  );
const qemu = () => {
  const t0 = performance.now();
  const r = spawnSync('qemu-img', ['map', '--output=json', img.file], { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`qemu-img map: ${r.stderr}`);
  return performance.now() - t0;
};

const hows = ['batched', 'single', 'one-by-one'];
const t = { qemu: [], batched: [], single: [], 'one-by-one': [] };
qemu();
await read('batched');
for (let r = 0; r < RUNS; r++) {
  t.qemu.push(qemu());
  for (const how of hows) {
    const x = await read(how);
    if (x.bytes !== offsets.length * clusterSize) throw new Error(`${how}: read ${x.bytes} bytes`);
    t[how].push(x.ms);
  }
  console.log(
    `run ${r + 1}: qemu-img map ${t.qemu.at(-1).toFixed(0)} ms | ${hows.map((h) => `${h} ${t[h].at(-1).toFixed(0)} ms`).join(' | ')}`,
  );
}
await browser.close();
const q = median(t.qemu);
console.log(`\nmedian of ${RUNS}; load average ${(await import('node:os')).loadavg()[0].toFixed(1)}:`);
console.log(`  qemu-img map (whole map)          ${q.toFixed(0)} ms`);
for (const how of hows) {
  const m = median(t[how]);
  console.log(
    `  Blob read, ${how.padEnd(11)} ${m.toFixed(0).padStart(6)} ms = ${(m / q).toFixed(2)}x qemu-img map`,
  );
}
