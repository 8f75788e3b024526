// The content scan in the page (issue 14: "content scan ... >= 70% of a plain sequential Blob
// read of the same bytes, with progress and cancel"): a 16 GiB preallocation=metadata image
// (images.mjs PREALLOC_SCAN: every data cluster on a host hole, so the scan reads all of them) is
// dropped as a disk-backed File, the Host holes notice's "Scan contents" clicked, and the time to
// "Content scanned." taken. In the same run, the floor: the same file read front to back in a
// worker of a blank page, 8 MiB slices (MAX_READ_BYTES), one at a time and with 4 in flight, the
// faster counting. Printed: each run, the medians and the scan's throughput as a share of the
// floor's.
//
//   node bench/browserScan.mjs [--runs N] [--port P] [--no-build]
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { ensureImage, PREALLOC_SCAN, qemuImgVersion } from './images.mjs';
import { launchChromium, ROOT, servePage } from './page.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('runs', 3));
const PORT = Number(opt('port', 4197));
const SLICE = 8 * 2 ** 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () => loadavg()[0].toFixed(1);

const version = qemuImgVersion();
const img = ensureImage(resolve(ROOT, 'bench/out'), PREALLOC_SCAN, version, console.log);
console.log(`image: ${img.file} (${version.line})`);
const { base, stop } = await servePage({ port: PORT, build: !args.includes('--no-build') });
const browser = await launchChromium();

/** The file read front to back in a worker: `inflight` 8 MiB slices at a time; ms and bytes. */
async function floorRead(inflight) {
  const page = await browser.newPage();
  await page.setContent('<input type=file id=f>');
  await page.setInputFiles('#f', img.file);
  const src = `onmessage = async ({ data: { file, slice, inflight } }) => {
    const t0 = performance.now();
    let next = 0, bytes = 0;
    const loop = async () => {
      while (next < file.size) {
        const o = next; next += slice;
        const n = (await file.slice(o, Math.min(o + slice, file.size)).arrayBuffer()).byteLength;
        bytes += n;
      }
    };
    await Promise.all(Array.from({ length: inflight }, loop));
    postMessage({ ms: performance.now() - t0, bytes });
  };`;
  const r = await page.evaluate(
    ({ src, slice, inflight }) =>
      new Promise((done) => {
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
        w.onmessage = (e) => {
          w.terminate();
          done(e.data);
        };
        w.postMessage({ file: document.getElementById('f').files[0], slice, inflight });
      }),
    { src, slice: SLICE, inflight },
  );
  await page.close();
  return r;
}

/** The page: drop the image, wait for its map, click "Scan contents", time to "Content scanned.". */
async function pageScan() {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(base);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="heatmap-canvas"]')?.dataset.ready === 'true',
  );
  const before = await page.evaluate(() =>
    Number(document.querySelector('[data-testid="heatmap-canvas"]').dataset.openId),
  );
  await page.getByLabel('Open disk images (several files form a backing chain)').setInputFiles(img.file);
  await page.waitForFunction(
    (b) => {
      const c = document.querySelector('[data-testid="heatmap-canvas"]');
      return (
        Number(c?.dataset.openId) > b && c.dataset.ready === 'true' && !document.querySelector('.progress')
      );
    },
    before,
    { timeout: 120_000 },
  );
  const notice = page.getByTestId('host-holes');
  const button = notice.getByRole('button', { name: /^Scan contents/ });
  await button.waitFor({ timeout: 60_000 });
  const label = (await button.textContent()).trim();
  const t0 = Date.now();
  let progress = 0;
  await button.click();
  for (;;) {
    const text = await notice.textContent();
    if (/Content scanned\./.test(text)) break;
    if (/Reading /.test(text)) progress++;
    if (Date.now() - t0 > 600_000) throw new Error('the scan did not end in 10 minutes');
    await page.waitForTimeout(25);
  }
  const ms = Date.now() - t0;
  const says = (await notice.locator('p').first().textContent()).trim();
  await page.close();
  return { ms, label, progress, says };
}

const floors = [];
const scans = [];
const loads = [load()];
await floorRead(4); // warm the page cache: both sides read it warm
for (let i = 0; i < RUNS; i++) {
  const f1 = await floorRead(1);
  const f4 = await floorRead(4);
  const floor = Math.min(f1.ms, f4.ms);
  if (f1.bytes !== f4.bytes) throw new Error(`the floor reads differ: ${f1.bytes} and ${f4.bytes} bytes`);
  const s = await pageScan();
  loads.push(load());
  floors.push(floor);
  scans.push(s.ms);
  console.log(
    `run ${i + 1} (load ${loads.at(-1)}): floor ${f1.ms.toFixed(0)} ms (1 in flight), ${f4.ms.toFixed(0)} ms (4) for ${(f4.bytes / 2 ** 30).toFixed(1)} GiB | page scan ${s.ms} ms ("${s.label}"; progress seen ${s.progress} times; "${s.says}") | scan throughput ${(floor / s.ms).toFixed(2)} of the floor's`,
  );
}
await browser.close();
stop();
const fm = median(floors);
const sm = median(scans);
console.log(`\nmedian of ${RUNS} (${PREALLOC_SCAN.name}; load ${loads.join(' -> ')}):`);
console.log(
  `  plain sequential Blob read  ${fm.toFixed(0)} ms (${((16 * 1024) / (fm / 1000)).toFixed(0)} MiB/s)`,
);
console.log(
  `  content scan in the page    ${sm.toFixed(0)} ms: throughput ${(fm / sm).toFixed(2)} of the read's (target >= 0.70: ${fm / sm >= 0.7 ? 'met' : 'MISSED'}); runs' own ${floors.map((f, i) => (f / scans[i]).toFixed(2)).join(' ')}`,
);
