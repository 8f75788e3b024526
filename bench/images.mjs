// Benchmark images, made with qemu-img and qemu-io and cached under the output directory.
// Each image set lives in a directory named after a hash of its parameters and the qemu-img
// version; a `ready.json` written last marks it complete, so an interrupted run starts over.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** The 1 TiB image with preallocation=metadata: every L2 entry points at a (sparse) host cluster. */
export const PREALLOC = {
  name: 'prealloc-1T',
  kind: 'prealloc',
  size: 1024 * GiB,
  clusterSize: 64 * KiB,
};

/**
 * The page's content scan (bench/browserScan.mjs): a 16 GiB preallocation=metadata image, every
 * data cluster on a host hole, so the scan reads all 16 GiB (QEMU's heuristic fires; the page
 * offers the scan). 16 GiB rather than issue 14's 100 GiB keeps a run near 10 s.
 */
export const PREALLOC_SCAN = {
  name: 'prealloc-16G',
  kind: 'prealloc',
  file: 'scan16.qcow2',
  size: 16 * GiB,
  clusterSize: 64 * KiB,
};

/**
 * A second 1 TiB preallocation=metadata image for the diff benchmark (bench/browserDiff.mjs):
 * made as PREALLOC, then `write -z` of `zeroes` whole clusters at pseudo-random offsets (fixed
 * seed), which keep their host clusters (ZERO_ALLOC). Against PREALLOC, every interpretation
 * differs there and agrees everywhere else: 2 x `zeroes` + 1 runs of a diff over 1 TiB.
 */
export const PREALLOC_ZEROED = {
  name: 'prealloc-1T-zeroed',
  kind: 'prealloc',
  file: 'big-zeroed.qcow2',
  size: 1024 * GiB,
  clusterSize: 64 * KiB,
  zeroes: 1000,
  seed: 0x0d1f_f1e5,
};

/**
 * The fragmented 3-layer chain base <- mid <- top, 64 GiB virtual. Writes land at
 * pseudo-random cluster-aligned offsets (fixed seed), 4-64 KiB long, so every written
 * cluster gets a host cluster that does not continue its guest neighbour's: each one is
 * its own map entry, and so is the gap after it. Mid and top also get zero writes
 * (`write -z`: zero clusters), and top gets discards (with a backing file, a discarded
 * cluster becomes a zero cluster in qcow2 v3).
 */
export const CHAIN = {
  name: 'chain-64G',
  kind: 'chain',
  size: 64 * GiB,
  clusterSize: 64 * KiB,
  seed: 0x5eed_c0de,
  layers: [
    { file: 'base.qcow2', writes: 24000, zeroes: 0, discards: 0 },
    { file: 'mid.qcow2', writes: 14000, zeroes: 3000, discards: 0 },
    { file: 'top.qcow2', writes: 10000, zeroes: 3000, discards: 3000 },
  ],
};

/**
 * CHAIN ten times over (issue 14: the CLI map "on a chain ten times larger, where start-up does
 * not dominate"): the same recipe on 640 GiB, so the ~480k operations land as sparsely as
 * CHAIN's 57k do on 64 GiB, and about a million map entries come out (the run prints the count).
 * More of the operations are zero writes and discards than in CHAIN (they cost no data
 * clusters): ~270k data writes are ~17 GiB on disk where CHAIN's proportions would be ~31 GiB.
 */
export const CHAIN_1M = {
  name: 'chain-640G',
  kind: 'bigchain',
  size: 640 * GiB,
  clusterSize: 64 * KiB,
  seed: 0x5eed_c1de,
  layers: [
    { file: 'base.qcow2', writes: 130000, zeroes: 0, discards: 0 },
    { file: 'mid.qcow2', writes: 80000, zeroes: 70000, discards: 0 },
    { file: 'top.qcow2', writes: 60000, zeroes: 70000, discards: 70000 },
  ],
};

/**
 * The memory case of issue 14: a 16 TiB sparse qcow2 with about a million map entries, one
 * layer. Its operations are scattered over `regions` pseudo-random 512 MiB stretches of the
 * 16 TiB (one L2 table each with 64 KiB clusters), so the image has 1024 L2 tables (64 MiB) and an
 * L1 table of 32768 entries, mostly empty: opening it reads what a person's image of this shape
 * costs, not 2 GiB of tables. Small data writes (4-64 KiB, one data cluster each) and one-cluster
 * `write -z` (zero clusters: no data on disk, still their own map entries) alternate with the
 * unallocated gaps between them.
 */
export const HUGE_16T = {
  name: 'huge-16T',
  kind: 'huge',
  size: 16 * 1024 * GiB,
  clusterSize: 64 * KiB,
  seed: 0x16_7e_b0_01,
  regions: 1024,
  layers: [{ file: 'huge.qcow2', writes: 100000, zeroes: 500000, discards: 0 }],
};

/**
 * The content scan's image (bench/zeroScan.mjs): `scan.qcow2` of `size` bytes made with
 * `qemu-img convert -S 0` (every cluster a data cluster, zero ones included) from a raw file of
 * pseudo-random bytes in which every `zeroEvery`-th cluster is all zero and every
 * `halfZeroEvery`-th has a zero second half: data clusters in host order, with zero 4 KiB
 * blocks for the scan to find.
 */
export const SCAN = {
  name: 'scan-2G',
  kind: 'scan',
  file: 'scan.qcow2',
  size: 2 * GiB,
  clusterSize: 64 * KiB,
  zeroEvery: 8,
  halfZeroEvery: 16,
  seed: 0x5ca7_0001,
};

/** mulberry32: a small, fixed, portable PRNG, so the images are the same on every machine. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, ...opts });
  if (r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}${r.error ?? ''}`,
    );
  }
  return r;
}

export function qemuImgVersion() {
  const out = run('qemu-img', ['--version']).stdout;
  const m = /version (\d+)\.(\d+)(?:\.(\d+))?/.exec(out);
  if (!m) throw new Error(`cannot parse qemu-img --version: ${out}`);
  return {
    full: `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}`,
    release: `${m[1]}.${m[2]}`,
    line: out.split('\n')[0],
  };
}

function cacheDir(outDir, spec, version) {
  const key = createHash('sha256')
    .update(JSON.stringify({ spec, qemu: version.line, v: 1 }))
    .digest('hex')
    .slice(0, 12);
  return join(outDir, `${spec.name}-${key}`);
}

/**
 * Makes (or reuses) one image set; returns { dir, file, created, seconds }, `file` being the
 * image to map (the top of a chain).
 */
export function ensureImage(outDir, spec, version, log = () => {}) {
  const dir = cacheDir(outDir, spec, version);
  const ready = join(dir, 'ready.json');
  const top = spec.layers ? spec.layers.at(-1).file : (spec.file ?? 'big.qcow2');
  if (existsSync(ready)) {
    const info = JSON.parse(readFileSync(ready, 'utf8'));
    return { dir, file: join(dir, top), created: false, seconds: info.seconds };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  if (spec.kind === 'prealloc') {
    log(`creating ${spec.name}: qemu-img create -f qcow2 -o preallocation=metadata big.qcow2 ${spec.size}`);
    run(
      'qemu-img',
      [
        'create',
        '-q',
        '-f',
        'qcow2',
        '-o',
        `preallocation=metadata,cluster_size=${spec.clusterSize}`,
        top,
        String(spec.size),
      ],
      { cwd: dir },
    );
    if (spec.zeroes) zeroClusters(dir, top, spec, log);
  } else if (spec.kind === 'scan') {
    makeScanImage(dir, top, spec, log);
  } else if (spec.layers) {
    makeChain(dir, spec, log);
  } else {
    throw new Error(`images: no recipe for ${spec.name}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  writeFileSync(ready, `${JSON.stringify({ spec, qemu: version.line, seconds }, null, 2)}\n`);
  return { dir, file: join(dir, top), created: true, seconds };
}

/** `write -z` of spec.zeroes distinct whole clusters at pseudo-random offsets, one qemu-io script. */
function zeroClusters(dir, file, spec, log) {
  const rand = prng(spec.seed);
  const clusters = Math.floor(spec.size / spec.clusterSize);
  const picked = new Set();
  while (picked.size < spec.zeroes) picked.add(Math.floor(rand() * clusters));
  const lines = [...picked].map((c) => `write -z ${c * spec.clusterSize} ${spec.clusterSize}`);
  log(`creating ${spec.name}: ${lines.length} x write -z of one cluster`);
  writeFileSync(join(dir, `${file}.qemu-io.txt`), `${lines.join('\n')}\nquit\n`);
  run('sh', ['-c', `qemu-io -t unsafe -f qcow2 ${file} < ${file}.qemu-io.txt > /dev/null`], { cwd: dir });
}

function makeScanImage(dir, file, spec, log) {
  const rand = prng(spec.seed);
  const cs = spec.clusterSize;
  const chunk = 8 * MiB;
  const buf = new Uint8Array(chunk);
  const words = new Uint32Array(buf.buffer);
  const raw = join(dir, 'scan.raw');
  log(`creating ${spec.name}: ${spec.size} bytes of raw data, then qemu-img convert -S 0 -O qcow2`);
  const fd = openSync(raw, 'w');
  for (let off = 0; off < spec.size; off += chunk) {
    for (let w = 0; w < words.length; w++) words[w] = (rand() * 4294967296) >>> 0;
    for (let c = 0; c < chunk; c += cs) {
      const cluster = (off + c) / cs;
      if (cluster % spec.zeroEvery === 0) buf.fill(0, c, c + cs);
      else if (cluster % spec.halfZeroEvery === 1) buf.fill(0, c + cs / 2, c + cs);
    }
    writeSync(fd, buf);
  }
  closeSync(fd);
  run('qemu-img', ['convert', '-S', '0', '-f', 'raw', '-O', 'qcow2', 'scan.raw', file], { cwd: dir });
  rmSync(raw);
}

function makeChain(dir, spec, log) {
  const rand = prng(spec.seed);
  const cs = spec.clusterSize;
  const clusters = Math.floor(spec.size / cs);
  const sub = 4 * KiB;
  // With spec.regions: every operation lands in one of that many distinct, pseudo-random
  // stretches of one L2 table's reach (cluster_size / 8 clusters each).
  const perTable = cs / 8;
  const tables = Math.ceil(clusters / perTable);
  const regions = [];
  if (spec.regions) {
    const picked = new Set();
    while (picked.size < Math.min(spec.regions, tables)) picked.add(Math.floor(rand() * tables));
    regions.push(...picked);
  }
  const pick = () =>
    regions.length
      ? Math.min(
          clusters - 1,
          regions[Math.floor(rand() * regions.length)] * perTable + Math.floor(rand() * perTable),
        )
      : Math.floor(rand() * clusters);
  let backing;
  for (const [li, layer] of spec.layers.entries()) {
    const args = ['create', '-q', '-f', 'qcow2', '-o', `cluster_size=${cs}`];
    if (backing) args.push('-b', backing, '-F', 'qcow2');
    args.push(layer.file, String(spec.size));
    run('qemu-img', args, { cwd: dir });
    // One command list, interleaving the operations so zero writes and discards hit clusters
    // that lower layers (and this one) have written as well as fresh ones.
    const ops = [
      ...Array(layer.writes).fill('w'),
      ...Array(layer.zeroes).fill('z'),
      ...Array(layer.discards).fill('d'),
    ];
    for (let i = ops.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [ops[i], ops[j]] = [ops[j], ops[i]];
    }
    const lines = [];
    for (const op of ops) {
      const off = pick() * cs;
      if (op === 'w') {
        // 4-64 KiB inside one cluster, starting on a 4 KiB boundary: a partial write over a
        // backing cluster makes qemu copy the rest of the cluster up (COW), as in real use.
        const n = 1 + Math.floor(rand() * 16);
        const at = Math.floor(rand() * (16 - n + 1)) * sub;
        const pattern = 1 + ((li * 17 + lines.length) % 254);
        lines.push(`write -P ${pattern} ${off + at} ${n * sub}`);
      } else if (op === 'z') {
        const n = 1 + Math.floor(rand() * 4); // 1-4 whole clusters
        lines.push(`write -z ${off} ${Math.min(n * cs, spec.size - off)}`);
      } else {
        lines.push(`discard ${off} ${cs}`);
      }
    }
    log(`creating ${spec.name}: ${layer.file} (${lines.length} qemu-io commands)`);
    const cmds = join(dir, `${layer.file}.qemu-io.txt`);
    writeFileSync(cmds, `${lines.join('\n')}\nquit\n`);
    run('sh', ['-c', `qemu-io -t unsafe -f qcow2 ${layer.file} < ${layer.file}.qemu-io.txt > /dev/null`], {
      cwd: dir,
    });
    backing = layer.file;
  }
}
