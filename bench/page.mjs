// What the browser benchmarks share: the production build served by `vite preview` on a port
// of their own, and Debian's chromium through playwright-core (the flags DEVELOPERS.md names).
import { spawn, spawnSync } from 'node:child_process';
import { openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');

/**
 * Builds the app into dist/bench-PORT (unless `build` is false; `minify` false keeps function
 * names for profiles), or serves the build in `dir`, waits until it answers; `stop()` ends the
 * server, and so does the process's exit or SIGINT/SIGTERM.
 */
export async function servePage({ port, build = true, minify = true, dir = undefined }) {
  const out = dir ?? resolve(ROOT, 'dist', `bench-${port}`);
  if (build) {
    const args = [
      'vite',
      'build',
      '--logLevel',
      'warn',
      '--outDir',
      out,
      ...(minify ? [] : ['--minify', 'false']),
    ];
    const b = spawnSync('npx', args, { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('vite build failed');
  }
  const server = spawn('npx', ['vite', 'preview', '--outDir', out, '--port', String(port), '--strictPort'], {
    cwd: ROOT,
    stdio: 'ignore',
    detached: true,
  });
  const stop = () => {
    try {
      process.kill(-server.pid);
    } catch {}
  };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.on(sig, () => {
      stop();
      process.exit(130);
    });
  const base = `http://localhost:${port}/`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(base)).ok) break;
    } catch {}
    if (i > 100) throw new Error('vite preview did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { base, stop };
}

/** Debian's chromium, headless, as the e2e tests run it. */
export const launchChromium = () =>
  chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });

/**
 * JS heap in use of the page, of its dedicated workers and of theirs (the reader workers), through
 * CDP: every worker is attached (non-flat sessions, nested ones through their parent's) and asked
 * Runtime.getHeapUsage through Target.sendMessageToTarget. `worker` sums the page's workers,
 * `nested` the workers they started; `buffers` the ArrayBuffer backing stores of all of them
 * (typed arrays live there, outside the JS heap), and `pageBuffers`, `workerBuffers`,
 * `nestedBuffers` each one's. With `gc`, every target first collects its garbage
 * (HeapProfiler.collectGarbage): what is live, not what a collection has yet to free.
 */
export async function heaps(page, { gc = false } = {}) {
  const cdp = await page.context().newCDPSession(page);
  if (gc) await cdp.send('HeapProfiler.collectGarbage');
  const main = await cdp.send('Runtime.getHeapUsage');
  let nextId = 1;
  const replies = new Map();
  /** Worker targets as session paths from the page: [worker] or [worker, nested worker]. */
  const workers = [];
  const arrived = (path, m) => {
    if (m.id !== undefined) replies.get(`${path.join('/')}#${m.id}`)?.(m.result ?? {});
    else if (m.method === 'Target.attachedToTarget' && m.params.targetInfo.type === 'worker')
      workers.push([...path, m.params.sessionId]);
    else if (m.method === 'Target.receivedMessageFromTarget')
      arrived([...path, m.params.sessionId], JSON.parse(m.params.message));
  };
  cdp.on('Target.attachedToTarget', (params) => arrived([], { method: 'Target.attachedToTarget', params }));
  cdp.on('Target.receivedMessageFromTarget', (e) => arrived([e.sessionId], JSON.parse(e.message)));
  /** Sends `method` to the target at `path`, each hop wrapped in its parent's sendMessageToTarget. */
  const send = (path, method, params = {}) =>
    new Promise((done) => {
      const id = nextId++;
      replies.set(`${path.join('/')}#${id}`, done);
      let message = { id, method, params };
      for (let k = path.length - 1; k >= 1; k--) {
        message = {
          id: nextId++,
          method: 'Target.sendMessageToTarget',
          params: { sessionId: path[k], message: JSON.stringify(message) },
        };
      }
      cdp.send('Target.sendMessageToTarget', { sessionId: path[0], message: JSON.stringify(message) });
    });
  const attach = { autoAttach: true, waitForDebuggerOnStart: false, flatten: false };
  const settle = async (n) => {
    for (let i = 0; i < 50 && workers.length < n; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
  };
  await cdp.send('Target.setAutoAttach', attach);
  await settle(1);
  for (const path of [...workers]) await send(path, 'Target.setAutoAttach', attach);
  await settle(workers.length + 1);
  let worker = 0;
  let nested = 0;
  // ArrayBuffer backing stores live outside the JS heap (CDP reports them where it can).
  const pageBuffers = main.backingStorageSize ?? 0;
  let workerBuffers = 0;
  let nestedBuffers = 0;
  for (const path of workers) {
    if (gc) await send(path, 'HeapProfiler.collectGarbage');
    const r = await send(path, 'Runtime.getHeapUsage');
    if (path.length === 1) {
      worker += r.usedSize ?? 0;
      workerBuffers += r.backingStorageSize ?? 0;
    } else {
      nested += r.usedSize ?? 0;
      nestedBuffers += r.backingStorageSize ?? 0;
    }
  }
  await cdp.detach();
  return {
    page: main.usedSize,
    worker,
    nested,
    buffers: pageBuffers + workerBuffers + nestedBuffers,
    pageBuffers,
    workerBuffers,
    nestedBuffers,
    workers: workers.filter((p) => p.length === 1).length,
    nestedWorkers: workers.filter((p) => p.length > 1).length,
  };
}

/**
 * The L2 tables of a qcow2 image as its L1 table names them (Node reads the header and the L1
 * table): their file offsets, the table size, and `check`, the sum (mod 2^32) of every table's
 * first entry's low word, which a strategy that hands over the right bytes reproduces.
 */
export function l2Tables(file) {
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(104);
  readSync(fd, head, 0, 104, 0);
  const l1Size = head.readUInt32BE(36);
  const l1 = Buffer.alloc(l1Size * 8);
  readSync(fd, l1, 0, l1.length, Number(head.readBigUInt64BE(40)));
  const size = 2 ** head.readUInt32BE(20);
  const offsets = [];
  let check = 0;
  const e = Buffer.alloc(8);
  for (let k = 0; k < l1Size; k++) {
    const o = Number(l1.readBigUInt64BE(k * 8) & 0x00fffffffffffe00n);
    if (!o) continue;
    offsets.push(o);
    readSync(fd, e, 0, 8, o);
    check = (check + e.readUInt32BE(4)) >>> 0;
  }
  return { offsets, size, check };
}

/** Read strategies for the floor (bench/blobRead.mjs describes them): composite P x K. */
export const composite = (parts, inflight) => ({
  name: `composite ${parts} x ${inflight || 'all'}`,
  kind: 'composite',
  parts,
  inflight,
});
/** FileReaderSync of composite Blobs of P slices, one after another. */
export const syncRead = (parts) => ({ name: `sync ${parts}`, kind: 'sync', parts });
/**
 * N reader workers, each reading the batches dealt to it with strategy `s`; with `window`, the
 * batches are asked for as the engine's scan asks for tables (l2Reader.ts): at most `window`
 * tables ahead of those taken in order, refilled once half of them are taken.
 */
export const readers = (n, s, window = 0) => ({
  ...s,
  name: `workers ${n}: ${s.name}${window ? ` window ${window}` : ''}`,
  workers: n,
  window,
  // Paced as the scan asks, it shows what the window costs; the floor is the unpaced best.
  ...(window && { ref: true }),
});
/**
 * Strategy `s` slicing a Blob of the whole File (`file.slice(0, size)`, made once) instead of the
 * File itself: Chromium's File.slice() of a picked file captures the file's snapshot (its size and
 * modification time, a synchronous round trip to the browser process) on every call, a Blob's
 * slice() does not.
 */
export const asBlob = (s) => ({ ...s, name: `${s.name} of Blob`, blob: true });
/** References, not candidates: the same byte count as one contiguous range. */
export const CONTIGUOUS = [
  { name: 'single (ref)', kind: 'single', ref: true },
  { name: 'stream (ref)', kind: 'stream', ref: true },
];

// How one batch is read, in the owning worker and in reader workers alike.
const READ = `const readBatch = (file, offs, size, sync) => {
  const parts = offs.map((o) => file.slice(o, o + size));
  const blob = parts.length === 1 ? parts[0] : new Blob(parts);
  return sync ? new FileReaderSync().readAsArrayBuffer(blob) : blob.arrayBuffer();
};
const pool = async (n, items, f) => {
  let next = 0;
  const loop = async () => { while (next < items.length) await f(items[next++]); };
  await Promise.all(Array.from({ length: n || items.length }, loop));
};`;

const READER = `${READ}
let file, size, sync, inflight;
let running = 0;
const queue = [];
const send = (b, buf) => postMessage({ i: b.i, buf }, [buf]);
const pump = () => {
  while (queue.length && (!inflight || running < inflight)) {
    const b = queue.shift();
    if (sync) send(b, readBatch(file, b.offs, size, true));
    else {
      running++;
      readBatch(file, b.offs, size, false).then((buf) => { running--; send(b, buf); pump(); });
    }
  }
};
onmessage = ({ data }) => {
  if (data.file) ({ file, size, sync, inflight } = data);
  if (data.batches) {
    queue.push(...data.batches);
    pump();
  }
  if (!data.file && !data.batches) postMessage('ready');
};`;

const OWNER = `${READ}
const READER = ${JSON.stringify(READER)};
onmessage = async ({ data: { file, offsets, size, s } }) => {
  const batches = [];
  for (let i = 0; i < offsets.length; i += s.parts || 1)
    batches.push({ i: batches.length, offs: offsets.slice(i, i + (s.parts || 1)) });
  let readers = [];
  if (s.workers) {
    const url = URL.createObjectURL(new Blob([READER], { type: 'text/javascript' }));
    readers = Array.from({ length: s.workers }, () => new Worker(url));
    await Promise.all(readers.map((w) => new Promise((r) => { w.onmessage = r; w.postMessage({}); })));
  }
  // The owner's event loop: the longest interval between two 4 ms timer ticks.
  let blocked = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    blocked = Math.max(blocked, now - last);
    last = now;
  }, 4);
  await new Promise((r) => setTimeout(r, 20));
  last = performance.now();
  blocked = 0;
  const t0 = performance.now();
  // A Blob of the whole File: slicing it needs no file snapshot per slice (see asBlob).
  const src = s.blob ? file.slice(0, file.size) : file;
  let bytes = 0;
  let sum = 0;
  const take = (buf) => {
    bytes += buf.byteLength;
    const dv = new DataView(buf);
    for (let at = 0; at < buf.byteLength; at += size) sum = (sum + dv.getUint32(at + 4)) >>> 0;
  };
  if (s.kind === 'composite' && !s.workers) {
    await pool(s.inflight, batches, async (b) => take(await readBatch(src, b.offs, size, false)));
  } else if (s.kind === 'sync' && !s.workers) {
    for (const b of batches) take(readBatch(src, b.offs, size, true));
  } else if (s.workers) {
    // Batches dealt in order to the reader with the fewest tables outstanding; with a window,
    // only as the scan would ask: up to s.window tables ahead of the ones taken in order, refilled
    // once half of them are taken (core/status/l2Reader.ts).
    const outstanding = readers.map(() => 0);
    const arrived = new Set();
    let issued = 0;
    let ahead = 0;
    let taken = 0;
    const W = s.window || Number.POSITIVE_INFINITY;
    const refill = () => {
      if (ahead > W / 2) return;
      while (issued < batches.length && ahead + batches[issued].offs.length <= W) {
        const b = batches[issued++];
        let k = 0;
        for (let j = 1; j < readers.length; j++) if (outstanding[j] < outstanding[k]) k = j;
        outstanding[k] += b.offs.length;
        b.reader = k;
        ahead += b.offs.length;
        readers[k].postMessage({ batches: [b] });
      }
    };
    await new Promise((done) => {
      readers.forEach((w) => {
        w.onmessage = ({ data }) => {
          take(data.buf);
          const b = batches[data.i];
          outstanding[b.reader] -= b.offs.length;
          arrived.add(data.i);
          while (arrived.has(taken)) {
            ahead -= batches[taken].offs.length;
            arrived.delete(taken++);
          }
          if (taken === batches.length) done();
          else refill();
        };
        w.postMessage({ file: src, size, sync: s.kind === 'sync', inflight: s.inflight });
      });
      refill();
    });
  } else {
    const from = offsets[0];
    const slice = src.slice(from, from + size * offsets.length);
    if (s.kind === 'single') bytes = (await slice.arrayBuffer()).byteLength;
    else {
      const r = slice.stream().getReader();
      for (let x = await r.read(); !x.done; x = await r.read()) bytes += x.value.byteLength;
    }
    sum = -1;
  }
  const ms = performance.now() - t0;
  clearInterval(tick);
  blocked = Math.max(blocked, performance.now() - last);
  for (const w of readers) w.terminate();
  postMessage({ ms, bytes, sum, blocked });
};`;

/**
 * A blank page of `browser` holding `file` as a disk-backed File (an <input type=file>, as a
 * person's pick gives) and `read(strategy)`: the strategy run once in a fresh worker over the
 * tables (l2Tables), returning { ms, blocked } (blocked: the owning worker's longest stall).
 * A blank page, because the app's CSP allows no blob: workers.
 */
export async function floorPage(browser, file) {
  const tables = l2Tables(file);
  const page = await browser.newPage();
  await page.setContent('<input type=file id=f>');
  await page.setInputFiles('#f', file);
  const read = async (s) => {
    const x = await page.evaluate(
      ({ src, offsets, size, s }) =>
        new Promise((done) => {
          const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
          w.onmessage = (e) => {
            w.terminate();
            done(e.data);
          };
          w.postMessage({ file: document.getElementById('f').files[0], offsets, size, s });
        }),
      { src: OWNER, offsets: tables.offsets, size: tables.size, s },
    );
    const want = tables.offsets.length * tables.size;
    if (x.bytes !== want) throw new Error(`${s.name}: read ${x.bytes} bytes, not ${want}`);
    if (!s.ref && x.sum !== tables.check) throw new Error(`${s.name}: tables differ from the file's`);
    return { ms: x.ms, blocked: x.blocked };
  };
  return { tables, read, close: () => page.close() };
}

/**
 * Interaction latency on a heatmap canvas (issue 14: "one wheel-zoom step, input to painted
 * frame"; "each pan step"). In the page: the input event's own timestamp (`timeStamp`, when the
 * browser received it, so time it waited for a busy main thread counts), the first time the
 * canvas is painted after it (GridView sets `data-frame` "estimate" or "exact" right after each
 * paint; a MutationObserver sees every set, same value or not), and the next animation frame
 * after that paint, whose rendering puts the canvas on screen: `frame` is input -> that frame's
 * requestAnimationFrame callback, the number the targets are about. `paint` is input -> the
 * canvas painted; `kind` what the first paint drew; `raf2` input -> the second animation frame
 * callback after the input, which is `frame`'s floor: what a canvas painted in the very first
 * frame after the input (in its requestAnimationFrame callback, as the view batch applies a
 * change) would measure; `raf1` input -> the first. `queued`: how long the input event waited
 * for the main thread (Chromium hands continuous input, wheel and mouse moves, to the page
 * aligned with its animation frames).
 *
 * `zoomSteps` wheel steps (deltaY -240, as a mouse notch with d3-zoom: x1.39) toward the canvas
 * middle, then `pans` drags of `movesPerPan` pointer moves of two cells each (alternating
 * direction, so the view never stops at an end of the image). Every step waits for its sample
 * (or `timeoutMs`: counted as missed), then for the canvas to be exact again (at most
 * `settleMs`): each step is measured from a quiet page, as a person's single notch or drag is.
 */
export async function interactionLatency(
  page,
  {
    testId = 'heatmap-canvas',
    zoomSteps = 20,
    pans = 10,
    movesPerPan = 5,
    timeoutMs = 2000,
    settleMs = 3000,
  } = {},
) {
  const canvas = page.getByTestId(testId);
  await page.evaluate((id) => {
    const c = document.querySelector(`[data-testid="${id}"]`);
    const L = { samples: [], rec: undefined, track: false };
    window.__lat = L;
    const input = (e) => {
      if (!L.track || L.rec) return;
      const rec = { t0: e.timeStamp, queued: performance.now() - e.timeStamp };
      L.rec = rec;
      // The floor of `frame`: a canvas painted in the first animation frame after the input
      // shows in the frame whose callback is the second.
      requestAnimationFrame(() => {
        rec.raf1 = performance.now() - rec.t0;
        requestAnimationFrame(() => {
          rec.raf2 = performance.now() - rec.t0;
        });
      });
    };
    window.addEventListener('wheel', input, { capture: true, passive: true });
    window.addEventListener('mousemove', input, { capture: true, passive: true });
    new MutationObserver(() => {
      const rec = L.rec;
      if (!rec || rec.paint !== undefined) return;
      rec.paint = performance.now() - rec.t0;
      rec.kind = c.dataset.frame;
      requestAnimationFrame(() => {
        rec.frame = performance.now() - rec.t0;
        L.samples.push(rec);
      });
    }).observe(c, { attributes: true, attributeFilter: ['data-frame'] });
  }, testId);
  const exact = () =>
    page
      .waitForFunction(
        (id) => document.querySelector(`[data-testid="${id}"]`)?.dataset.frame === 'exact',
        testId,
        {
          timeout: settleMs,
          polling: 50,
        },
      )
      .catch(() => {});
  /** Runs one input and waits for its sample; returns it, or undefined when none came. */
  const step = async (act) => {
    await exact();
    const n = await page.evaluate(() => {
      window.__lat.track = true;
      return window.__lat.samples.length;
    });
    await act();
    const got = await page
      .waitForFunction(
        (k) => window.__lat.samples.length > k && window.__lat.samples.at(-1).raf2 !== undefined,
        n,
        { timeout: timeoutMs, polling: 'raf' },
      )
      .then(() => true)
      .catch(() => false);
    return page.evaluate((ok) => {
      const L = window.__lat;
      L.track = false;
      L.rec = undefined;
      return ok ? L.samples.at(-1) : undefined;
    }, got);
  };
  const box = await canvas.boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + Math.min(box.height / 2, 200);
  await page.mouse.move(cx, cy);
  const zoom = [];
  let zoomMissed = 0;
  for (let i = 0; i < zoomSteps; i++) {
    const s = await step(() => page.mouse.wheel(0, -240));
    if (s) zoom.push(s);
    else zoomMissed++;
  }
  const pan = [];
  let panMissed = 0;
  for (let p = 0; p < pans; p++) {
    const cellPx = Number(await canvas.getAttribute('data-cell-px')) || 8;
    const dir = p % 2 ? 1 : -1;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let m = 1; m <= movesPerPan; m++) {
      const s = await step(() => page.mouse.move(cx + dir * m * 2 * cellPx, cy));
      if (s) pan.push(s);
      else panMissed++;
    }
    await page.mouse.up();
  }
  await page.evaluate(() => {
    window.__lat.track = false;
  });
  return { zoom, zoomMissed, pan, panMissed };
}
