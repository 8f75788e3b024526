// Diff benchmark in the browser (issue 4: "diffing two 1 TiB preallocated images must stay
// interactive"): the production build in Debian's chromium, the 1 TiB preallocation=metadata
// image opened through the page's file picker (a disk-backed File, as a person's pick gives),
// then in the diff view a second 1 TiB preallocated image (1000 clusters zeroed) picked as
// image B. Measured per run:
//   - B ready: from handing image B to the picker to the diff drawn (opening B's 2048 L2
//     tables, both interpretations, the diff, the first bins);
//   - diff ready: with both images open, from one change of B's interpretation (A already NBD
//     base:allocation) to the new diff drawn: both sides computed, diffed, binned, painted;
//   - memory after the diff: the JS heap of the page and of its worker and their ArrayBuffers
//     (CDP Runtime.getHeapUsage on each target), and the resident set of the largest renderer
//     process of this browser (the page's; ps);
//   - p95 frame time (rAF intervals) over 20 wheel zooms in, a drag pan and 20 zooms out on
//     the diff heatmap.
// Prints the medians of N runs with the load average (a shared 2-core machine is noisy).
//
//   node bench/browserDiff.mjs [--runs N] [--port P] [--no-build] [--profile]
// --profile: a CPU profile of the page during the last run's zoom and pan, summarised (and kept
// in bench/out/browser-diff.cpuprofile).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { ensureImage, PREALLOC, PREALLOC_ZEROED, qemuImgVersion } from './images.mjs';
import { heaps, launchChromium, ROOT, servePage } from './page.mjs';
import { formatProfile, summariseProfile } from './profile.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(opt('runs', 3));
const PORT = Number(opt('port', 4192));
/** Interpretations compared: qemu-img map of each image, then NBD base:allocation (a new diff, both open). */
const FIRST = 'qemu-img-map-7.2';
const SECOND = 'nbd-base-allocation-6.0';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const version = qemuImgVersion();
const imgA = ensureImage(resolve(ROOT, 'bench/out'), PREALLOC, version, console.log);
const imgB = ensureImage(resolve(ROOT, 'bench/out'), PREALLOC_ZEROED, version, console.log);
console.log(
  `A: ${imgA.file}\nB: ${imgB.file}\n(${version.line}; ${cpus().length} cores, load average ${load()})`,
);

const { base, stop: stopServer } = await servePage({ port: PORT, build: !args.includes('--no-build') });
const browser = await launchChromium();

/**
 * Resident set of this browser's renderer processes (the page and its worker run there), from
 * ps: only processes descended from this script, not other Chromiums on a shared machine.
 */
function rendererRss() {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' }).stdout;
  const procs = ps
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pid, ppid, rss, ...rest] = l.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), rss: Number(rss), args: rest.join(' ') };
    });
  const parent = new Map(procs.map((p) => [p.pid, p.ppid]));
  const ours = (pid) => {
    for (let p = pid, n = 0; p > 1 && n < 64; p = parent.get(p) ?? 0, n++) if (p === process.pid) return true;
    return false;
  };
  const renderers = procs.filter((p) => p.args.includes('--type=renderer') && ours(p.pid));
  return { bytes: Math.max(0, ...renderers.map((p) => p.rss)) * 1024, processes: renderers.length };
}

/** Waits (polling per frame) until the diff canvas shows a diff with image B, B read as `interp` (a title). */
async function diffDrawn(page, interp) {
  await page.waitForFunction(
    (want) => {
      const c = document.querySelector('[data-testid="diff-canvas"]');
      const files = document.querySelector('[data-testid="diff-files"]');
      const b = document.querySelector('.diff-sides li:nth-child(2)')?.textContent ?? '';
      return c?.dataset.ready === 'true' && files && b.includes(want);
    },
    interp,
    { polling: 'raf', timeout: 300_000 },
  );
}

async function run(profile = false) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(base);
  await page.waitForFunction(
    () => document.querySelector('[data-testid="heatmap-canvas"]')?.dataset.ready === 'true',
  );
  const before = await page.getByTestId('heatmap-canvas').getAttribute('data-open-id');
  await page.getByLabel('Open disk images (several files form a backing chain)').setInputFiles(imgA.file);
  await page.waitForFunction(
    (b) => {
      const c = document.querySelector('[data-testid="heatmap-canvas"]');
      return (
        c && c.dataset.openId !== b && c.dataset.ready === 'true' && !document.querySelector('.progress')
      );
    },
    before,
    { timeout: 300_000 },
  );
  const picker = page.getByRole('region', { name: 'Compare interpretations' });
  const choose = async (a, b) => {
    await picker.getByLabel('A interpretation').selectOption(a);
    await picker.getByLabel('A view').selectOption('');
    await picker.getByLabel('B interpretation').selectOption(b);
    await picker.getByLabel('B view').selectOption('');
  };
  await choose(FIRST, FIRST);
  await picker.getByRole('button', { name: 'Compare A and B' }).click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="diff-canvas"]')?.dataset.ready === 'true',
  );

  // Image B: from the pick to the diff drawn.
  let t0 = performance.now();
  await page.getByLabel(/Open image B/).setInputFiles(imgB.file);
  await diffDrawn(page, 'qemu-img map');
  const bReady = performance.now() - t0;
  const legend = await page.getByTestId('diff-legend').locator('.diff-total').textContent();

  // Both open: A to NBD base:allocation (a diff of two interpretations), then timed, B too:
  // one change, one new diff of the two 1 TiB images drawn.
  await picker.getByLabel('A interpretation').selectOption(SECOND);
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="diff-canvas"]')?.dataset.ready === 'true' &&
      document.querySelector('.diff-sides li')?.textContent?.includes('NBD base:allocation'),
    undefined,
    { polling: 'raf', timeout: 300_000 },
  );
  t0 = performance.now();
  await picker.getByLabel('B interpretation').selectOption(SECOND);
  await diffDrawn(page, 'NBD base:allocation');
  const diffReady = performance.now() - t0;

  const heap = await heaps(page);
  const rss = rendererRss();

  // Frame times while zooming and panning the diff heatmap.
  const canvas = page.getByTestId('diff-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const f = (now) => {
      window.__frames.push(now - last);
      last = now;
      if (!window.__stop) requestAnimationFrame(f);
    };
    requestAnimationFrame(f);
  });
  const prof = profile ? await page.context().newCDPSession(page) : undefined;
  if (prof) {
    await prof.send('Profiler.enable');
    await prof.send('Profiler.start');
  }
  const cx = box.x + box.width / 2;
  const cy = box.y + Math.min(box.height / 2, 200);
  await page.mouse.move(cx, cy);
  for (let i = 0; i < 20; i++) {
    await page.mouse.wheel(0, -240);
    await page.waitForTimeout(30);
  }
  await page.mouse.down();
  for (let i = 0; i < 30; i++) await page.mouse.move(cx - i * 10, cy, { steps: 2 });
  await page.mouse.up();
  for (let i = 0; i < 20; i++) {
    await page.mouse.wheel(0, 240);
    await page.waitForTimeout(30);
  }
  const frames = await page.evaluate(() => {
    window.__stop = true;
    return window.__frames.slice(1);
  });
  if (prof) {
    const { profile: p } = await prof.send('Profiler.stop');
    const path = resolve(ROOT, 'bench/out/browser-diff.cpuprofile');
    writeFileSync(path, JSON.stringify(p));
    console.log(`page CPU profile during zoom/pan (${path}):\n${formatProfile(summariseProfile(path))}`);
  }
  await page.close();
  return {
    bReady,
    diffReady,
    heap,
    rss,
    legend,
    p95: pct(frames, 0.95),
    frames: frames.length,
    load: load(),
  };
}

const r = [];
await run(); // warm-up: JIT, the bundle's first load, the files in the page cache
for (let i = 0; i < RUNS; i++) {
  r.push(await run(args.includes('--profile') && i === RUNS - 1));
  const x = r.at(-1);
  console.log(
    `run ${i + 1}: B ready ${x.bReady.toFixed(0)} ms, diff ready ${x.diffReady.toFixed(0)} ms, heap page ${mib(x.heap.page)} + worker ${mib(x.heap.worker)} (${x.heap.workers} worker), array buffers ${mib(x.heap.buffers)}, largest renderer RSS ${mib(x.rss.bytes)} (of ${x.rss.processes}), p95 frame ${x.p95.toFixed(1)} ms (${x.frames} frames); load ${x.load}`,
  );
}
await browser.close();
stopServer();
console.log(`\nlegend: ${r[0].legend}`);
console.log(
  `median of ${RUNS} (two 1 TiB preallocation=metadata images, ${version.full}; load average now ${load()}):`,
);
console.log(`  image B ready (open + diff + draw)  ${median(r.map((x) => x.bReady)).toFixed(0)} ms`);
console.log(`  diff ready (both open)              ${median(r.map((x) => x.diffReady)).toFixed(0)} ms`);
console.log(
  `  JS heap after the diff              page ${mib(median(r.map((x) => x.heap.page)))}, worker ${mib(median(r.map((x) => x.heap.worker)))}; array buffers ${mib(median(r.map((x) => x.heap.buffers)))}`,
);
console.log(`  page renderer resident set          ${mib(median(r.map((x) => x.rss.bytes)))}`);
console.log(
  `  p95 frame zoom/pan of the diff      ${median(r.map((x) => x.p95)).toFixed(1)} ms   (target <= 16 ms)`,
);
process.exit(0);
