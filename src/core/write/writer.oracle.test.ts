/**
 * Live oracle for the qcow2 writer (required, never skipped: scripts/preflight.mjs installs QEMU
 * before `npm test`). The same
 * scenario is built twice, by clusterscope's writer and by real qemu-img / qemu-io, and both are
 * judged by QEMU: `qemu-img check` (no errors, no leaks), `qemu-img map` of the writer's files
 * equal to clusterscope's map of them, and per layer the same L2 entry kinds and the same guest
 * content (`qemu-img compare`) as QEMU's own images. Persistent bitmaps: `qemu-img info` lists
 * the same bitmaps (name, granularity, flags) on the writer's image as on QEMU's, and every
 * bitmap's `nbdinfo --map=qemu:dirty-bitmap:NAME` of the writer's image equals QEMU's image's
 * and clusterscope's nbd-map of the writer's image.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../testing/cli.ts';
import { FIXTURES, parseNbdinfo } from '../../testing/fixtures.ts';
import { rng } from '../../testing/fuzz/prng.ts';
import { nbdinfo } from '../../testing/qemu.ts';
import { openLayer } from '../chain/layer.ts';
import { MemorySource } from '../io/byteSource.ts';
import { kindName } from '../status/kinds.ts';
import { layerStatus } from '../status/layerStatus.ts';
import { commit } from './commit.ts';
import type { WritableImage } from './image.ts';
import { type BitmapAction, Qcow2Writer } from './qcow2Writer.ts';
import { RawWriter } from './rawWriter.ts';

interface LayerSpec {
  readonly name: string;
  readonly raw?: boolean;
  readonly size?: number;
  readonly version?: 2 | 3;
  readonly clusterBits?: number;
  readonly extendedL2?: boolean;
  readonly refcountOrder?: number;
  /** Name of an earlier layer. */
  readonly backing?: string;
}

type Op =
  | {
      readonly op: 'write';
      readonly layer: string;
      readonly offset: number;
      readonly length: number;
      readonly pattern: number;
    }
  | {
      readonly op: 'zero';
      readonly layer: string;
      readonly offset: number;
      readonly length: number;
      readonly unmap?: boolean;
    }
  | { readonly op: 'discard'; readonly layer: string; readonly offset: number; readonly length: number }
  | { readonly op: 'snapshot'; readonly layer: string; readonly name: string }
  | { readonly op: 'commit'; readonly layer: string }
  | ({ readonly op: 'bitmap'; readonly layer: string; readonly name: string } & BitmapAction);

/** The qemu-img bitmap arguments of one action. */
const bitmapArgs = (o: Extract<Op, { op: 'bitmap' }>): string[] =>
  o.action === 'add'
    ? ['--add', ...(o.granularity ? ['-g', String(o.granularity)] : []), ...(o.disabled ? ['--disable'] : [])]
    : o.action === 'merge'
      ? ['--merge', o.source]
      : [`--${o.action}`];

interface Scenario {
  readonly layers: readonly LayerSpec[];
  readonly ops: readonly Op[];
}

const describeOp = (o: Op): string => {
  switch (o.op) {
    case 'write':
      return `${o.layer}: write -P 0x${o.pattern.toString(16)} ${o.offset} ${o.length}`;
    case 'zero':
      return `${o.layer}: write -z${o.unmap ? ' -u' : ''} ${o.offset} ${o.length}`;
    case 'discard':
      return `${o.layer}: discard ${o.offset} ${o.length}`;
    case 'snapshot':
      return `${o.layer}: snapshot -c ${o.name}`;
    case 'commit':
      return `${o.layer}: commit`;
    case 'bitmap':
      return `${o.layer}: bitmap ${bitmapArgs(o).join(' ')} ${o.name}`;
  }
};

const describeScenario = (s: Scenario): string =>
  [
    ...s.layers.map(
      (l) =>
        `${l.name}: ${l.raw ? 'raw' : `qcow2 v${l.version ?? 3} cluster_bits=${l.clusterBits ?? 16}${l.extendedL2 ? ' extended_l2' : ''} refcount_order=${l.refcountOrder ?? 4}`} size=${l.size ?? 'backing'}${l.backing ? ` backing=${l.backing}` : ''}`,
    ),
    ...s.ops.map(describeOp),
  ].join('\n');

const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Git checkouts and browser Files have no host holes: densify QEMU's files (reference §3.5). */
function densify(dir: string): void {
  for (const f of readdirSync(dir)) {
    run('sh', ['-c', `cp --sparse=never '${f}' '${f}.d' && mv '${f}.d' '${f}'`], dir);
  }
}

/** Applies the scenario with the writer; returns the images by name. */
function buildOurs(s: Scenario): Map<string, WritableImage> {
  const imgs = new Map<string, WritableImage>();
  for (const l of s.layers) {
    if (l.raw) {
      imgs.set(l.name, new RawWriter(l.name, l.size ?? 0));
      continue;
    }
    const b = l.backing ? imgs.get(l.backing) : undefined;
    imgs.set(
      l.name,
      Qcow2Writer.create({
        name: l.name,
        ...(l.version !== undefined && { version: l.version }),
        ...(l.size !== undefined && { size: l.size }),
        ...(l.clusterBits !== undefined && { clusterBits: l.clusterBits }),
        ...(l.extendedL2 !== undefined && { extendedL2: l.extendedL2 }),
        ...(l.refcountOrder !== undefined && { refcountOrder: l.refcountOrder }),
        ...(b && l.backing && { backing: { name: l.backing, format: b.format, image: b } }),
      }),
    );
  }
  for (const o of s.ops) {
    const img = imgs.get(o.layer)!;
    switch (o.op) {
      case 'write':
        img.write(o.offset, new Uint8Array(o.length).fill(o.pattern));
        break;
      case 'zero':
        img.writeZeroes(o.offset, o.length, o.unmap ?? false);
        break;
      case 'discard':
        img.discard(o.offset, o.length);
        break;
      case 'snapshot':
        (img as Qcow2Writer).snapshot(o.name, { dateSec: 1700000000, dateNsec: 0 });
        break;
      case 'commit':
        commit(img as Qcow2Writer);
        break;
      case 'bitmap':
        (img as Qcow2Writer).dirtyBitmap(o.name, o);
        break;
    }
  }
  return imgs;
}

function writeOurs(imgs: Map<string, WritableImage>, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, img] of imgs) writeFileSync(join(dir, name), img.file.bytes());
}

/** The same scenario with qemu-img create and one qemu-io (or qemu-img) run per operation. */
function buildQemu(s: Scenario, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const fmt = new Map<string, string>();
  for (const l of s.layers) {
    fmt.set(l.name, l.raw ? 'raw' : 'qcow2');
    if (l.raw) {
      writeFileSync(join(dir, l.name), new Uint8Array(l.size ?? 0));
      continue;
    }
    const o = [
      `compat=${l.version === 2 ? '0.10' : '1.1'}`,
      `cluster_size=${2 ** (l.clusterBits ?? 16)}`,
      ...(l.extendedL2 ? ['extended_l2=on'] : []),
      ...(l.version !== 2 ? [`refcount_bits=${2 ** (l.refcountOrder ?? 4)}`] : []),
    ];
    const b = l.backing ? ['-b', l.backing, '-F', fmt.get(l.backing)!] : [];
    run(
      'qemu-img',
      [
        'create',
        '-f',
        'qcow2',
        '-o',
        o.join(','),
        ...b,
        l.name,
        ...(l.size !== undefined ? [String(l.size)] : []),
      ],
      dir,
    );
  }
  for (const o of s.ops) {
    const f = fmt.get(o.layer)!;
    const io = (cmd: string) => run('qemu-io', ['-f', f, '-c', cmd, o.layer], dir);
    switch (o.op) {
      case 'write':
        io(`write -P 0x${o.pattern.toString(16)} ${o.offset} ${o.length}`);
        break;
      case 'zero':
        io(`write -z${o.unmap ? ' -u' : ''} ${o.offset} ${o.length}`);
        break;
      case 'discard':
        io(`discard ${o.offset} ${o.length}`);
        break;
      case 'snapshot':
        run('qemu-img', ['snapshot', '-c', o.name, o.layer], dir);
        break;
      case 'commit':
        run('qemu-img', ['commit', '-f', 'qcow2', o.layer], dir);
        break;
      case 'bitmap':
        run('qemu-img', ['bitmap', ...bitmapArgs(o), '-f', 'qcow2', o.layer, o.name], dir);
        break;
    }
    densify(dir);
  }
}

interface CheckJson {
  readonly 'check-errors'?: number;
  readonly corruptions?: number;
  readonly leaks?: number;
  readonly [k: string]: unknown;
}

/** `qemu-img check --output=json` with its exit status (0 clean, 2 corruptions, 3 leaks). */
function qemuCheck(dir: string, file: string): { status: number; json: CheckJson; stderr: string } {
  const r = spawnSync('qemu-img', ['check', '--output=json', file], { cwd: dir, encoding: 'utf8' });
  return { status: r.status ?? -1, json: JSON.parse(r.stdout || '{}') as CheckJson, stderr: r.stderr };
}

const qemuMap = (dir: string, file: string): unknown[] =>
  JSON.parse(run('qemu-img', ['map', '--output=json', file], dir)) as unknown[];

async function ourMap(dir: string, file: string): Promise<unknown[]> {
  const r = await runCli(['map', '--output=json', '--qemu=7.2', file], dir);
  if (r.code !== 0) throw new Error(`clusterscope map ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[];
}

interface MapRow {
  start: number;
  length: number;
  depth: number;
  present: boolean;
  zero: boolean;
  data: boolean;
  offset?: number;
}

/** A map with host offsets reduced to "has one", re-merged: comparable across allocators. */
function withoutOffsets(m: unknown[]): string[] {
  const out: { key: string; start: number; length: number }[] = [];
  for (const r of m as MapRow[]) {
    const key = `depth ${r.depth} present ${r.present} zero ${r.zero} data ${r.data} offset ${r.offset !== undefined}`;
    const last = out.at(-1);
    if (last && last.key === key && last.start + last.length === r.start) last.length += r.length;
    else out.push({ key, start: r.start, length: r.length });
  }
  return out.map((r) => `${r.start}+${r.length}: ${r.key}`);
}

/** The layer's own (sub)cluster kinds as clusterscope reads them, host offsets dropped. */
async function kinds(dir: string, file: string): Promise<string[]> {
  const layer = await openLayer(new MemorySource(file, new Uint8Array(readFileSync(join(dir, file)))));
  const st = await layerStatus(layer);
  const out: { kind: number; start: number; length: number }[] = [];
  const e = st.extents;
  for (let i = 0; i < e.count; i++) {
    const last = out.at(-1);
    if (last && last.kind === e.kind[i]) last.length += e.length[i]!;
    else out.push({ kind: e.kind[i]!, start: e.start[i]!, length: e.length[i]! });
  }
  return out.map((r) => `${r.start}+${r.length}: ${kindName(r.kind)}`);
}

interface InfoBitmap {
  readonly name: string;
  readonly granularity: number;
  readonly flags: string[];
}

/** The persistent bitmaps `qemu-img info` lists for a qcow2 file (none: []). */
function infoBitmaps(dir: string, file: string): InfoBitmap[] {
  const info = JSON.parse(run('qemu-img', ['info', '--output=json', '-f', 'qcow2', file], dir));
  return (info['format-specific']?.data?.bitmaps ?? []) as InfoBitmap[];
}

/**
 * The bitmaps of `file` in the writer's folder against QEMU's: the same list, and for each one
 * that QEMU would export the same nbdinfo map on both files and from clusterscope.
 */
async function sameBitmaps(ours: string, qemu: string, file: string, ctx: string): Promise<void> {
  const list = infoBitmaps(ours, file);
  expect(list, `${ctx}\nqemu-img info bitmaps of ${file}: writer vs qemu-img`).toEqual(
    infoBitmaps(qemu, file),
  );
  for (const b of list) {
    const context = `qemu:dirty-bitmap:${b.name}`;
    const spec = ['-B', b.name, '-f', 'qcow2', file];
    const q = parseNbdinfo(await nbdinfo(qemu, spec, context));
    expect(
      parseNbdinfo(await nbdinfo(ours, spec, context)),
      `${ctx}\n${file} ${context}: writer vs qemu-img`,
    ).toEqual(q);
    const cs = await runCli(['nbd-map', `--context=${context}`, file], ours);
    expect(parseNbdinfo(cs.stdout), `${ctx}\n${file} ${context}: clusterscope`).toEqual(q);
  }
}

/** `qemu-img compare` of two images through their chains: true when the guest content is equal. */
function sameContent(a: string, fa: string, b: string, fb: string): { same: boolean; text: string } {
  const r = spawnSync('qemu-img', ['compare', '-f', fa, '-F', fb, a, b], { encoding: 'utf8' });
  return { same: r.status === 0, text: `${r.stdout}${r.stderr}` };
}

// ---- the tests ------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'cs-writer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const K = 1024;

/**
 * Builds the scenario both ways and checks it against QEMU. Returns the writer's images for
 * scenario-specific assertions.
 */
async function verify(s: Scenario, tag: string, context = ''): Promise<Map<string, WritableImage>> {
  const dir = join(work, tag.replace(/[^a-z0-9-]+/gi, '_'));
  const ours = join(dir, 'ours');
  const qemu = join(dir, 'qemu');
  const ctx = `${tag}${context}\n${describeScenario(s)}`;
  const imgs = buildOurs(s);
  writeOurs(imgs, ours);
  buildQemu(s, qemu);
  for (const l of s.layers) {
    const fmt = l.raw ? 'raw' : 'qcow2';
    const c = sameContent(join(ours, l.name), fmt, join(qemu, l.name), fmt);
    expect(c.same, `${ctx}\nqemu-img compare ${l.name}: ${c.text}`).toBe(true);
    if (l.raw) continue;
    const chk = qemuCheck(ours, l.name);
    expect(
      {
        status: chk.status,
        corruptions: chk.json.corruptions ?? 0,
        leaks: chk.json.leaks ?? 0,
        checkErrors: chk.json['check-errors'] ?? 0,
      },
      `${ctx}\nqemu-img check ${l.name}: ${chk.stderr}`,
    ).toEqual({ status: 0, corruptions: 0, leaks: 0, checkErrors: 0 });
    const qm = qemuMap(ours, l.name);
    expect(await ourMap(ours, l.name), `${ctx}\nclusterscope map vs qemu-img map of ${l.name}`).toEqual(qm);
    expect(withoutOffsets(qm), `${ctx}\nmap of ${l.name}: writer vs qemu-io`).toEqual(
      withoutOffsets(qemuMap(qemu, l.name)),
    );
    expect(await kinds(ours, l.name), `${ctx}\nL2 entry kinds of ${l.name}: writer vs qemu-io`).toEqual(
      await kinds(qemu, l.name),
    );
    if (s.ops.some((o) => o.op === 'bitmap')) await sameBitmaps(ours, qemu, l.name, ctx);
  }
  return imgs;
}

/** Raw L2 entry i of the first L2 table of `img` (the first 64 bits, and the bitmap if extended). */
function l2(img: WritableImage, i: number): [bigint, bigint] {
  const f = img.file;
  const l1 = Number(f.u64(40));
  const table = Number(f.u64(l1) & 0x00fffffffffffe00n);
  const ext = (f.u64(72) & 0x10n) !== 0n && f.u32(4) === 3;
  const at = table + i * (ext ? 16 : 8);
  return [f.u64(at), ext ? f.u64(at + 8) : 0n];
}

describe('qemu-img create: byte for byte', () => {
  const cases: [string, Partial<LayerSpec>, number][] = [
    ['v3 64K', {}, 256 * K],
    ['v2 odd size', { version: 2 }, 100000],
    ['v3 512-byte clusters, 1-bit refcounts', { clusterBits: 9, refcountOrder: 0 }, 3 * 1024 * K],
    ['v3 2M clusters, 64-bit refcounts', { clusterBits: 21, refcountOrder: 6 }, 64 * 1024 * K],
    ['v3 extended L2', { extendedL2: true }, 1024 * K],
    ['v3 huge sparse', {}, 2 ** 40],
  ];
  it.each(cases)('%s equals qemu-img create', (_, o, size) => {
    const dir = join(work, `create-${_.replace(/\W+/g, '_')}`);
    const s: Scenario = { layers: [{ name: 'a.qcow2', size, ...o }], ops: [] };
    writeOurs(buildOurs(s), join(dir, 'ours'));
    buildQemu(s, join(dir, 'qemu'));
    const diff = spawnSync('cmp', [join(dir, 'ours', 'a.qcow2'), join(dir, 'qemu', 'a.qcow2')], {
      encoding: 'utf8',
    });
    expect(diff.stdout, describeScenario(s)).toBe('');
  });

  it('with a backing file and format, equals qemu-img create -b -F', () => {
    const dir = join(work, 'create-backing');
    const s: Scenario = {
      layers: [
        { name: 'base.qcow2', size: 300 * K },
        { name: 'top.qcow2', backing: 'base.qcow2' },
      ],
      ops: [],
    };
    writeOurs(buildOurs(s), join(dir, 'ours'));
    buildQemu(s, join(dir, 'qemu'));
    const diff = spawnSync('cmp', [join(dir, 'ours', 'top.qcow2'), join(dir, 'qemu', 'top.qcow2')], {
      encoding: 'utf8',
    });
    expect(diff.stdout).toBe('');
  });
});

describe('writer scenarios against qemu-io (live oracle)', () => {
  it('NBD-hole worked example (reference §7): L2 entries and map as recorded', async () => {
    const imgs = await verify(
      {
        layers: [
          { name: 'base.raw', raw: true, size: 256 * K },
          { name: 'top.qcow2', backing: 'base.raw' },
        ],
        ops: [
          { op: 'write', layer: 'base.raw', offset: 0, length: 256 * K, pattern: 0xbb },
          { op: 'write', layer: 'top.qcow2', offset: 64 * K, length: 64 * K, pattern: 0x11 },
          { op: 'zero', layer: 'top.qcow2', offset: 128 * K, length: 64 * K },
          { op: 'write', layer: 'top.qcow2', offset: 192 * K, length: 64 * K, pattern: 0x33 },
          { op: 'discard', layer: 'top.qcow2', offset: 192 * K, length: 64 * K },
        ],
      },
      'nbd-hole-example',
    );
    const top = imgs.get('top.qcow2')!;
    expect([0, 1, 2, 3].map((i) => l2(top, i)[0])).toEqual([0n, 0x8000000000050000n, 1n, 1n]);
    expect(top.file.size).toBe(458752);
    const golden = JSON.parse(readGolden('nbd-hole-example', 'map.json'));
    const dir = join(work, 'nbd-hole-example', 'ours');
    expect(qemuMap(dir, 'top.qcow2')).toEqual(golden);
  });

  it('zero clusters: write -z keeps an allocated cluster (ZERO_ALLOC), -u frees it, unallocated becomes ZERO_PLAIN', async () => {
    const imgs = await verify(
      {
        layers: [{ name: 'z.qcow2', size: 256 * K }],
        ops: [
          { op: 'write', layer: 'z.qcow2', offset: 0, length: 128 * K, pattern: 0x5a },
          { op: 'zero', layer: 'z.qcow2', offset: 0, length: 64 * K },
          { op: 'zero', layer: 'z.qcow2', offset: 64 * K, length: 64 * K, unmap: true },
          { op: 'zero', layer: 'z.qcow2', offset: 128 * K, length: 64 * K },
          { op: 'write', layer: 'z.qcow2', offset: 4 * K, length: 4 * K, pattern: 0x77 },
        ],
      },
      'zero-clusters',
    );
    const z = imgs.get('z.qcow2')!;
    // Cluster 0 was ZERO_ALLOC (0x8000000000050001) and the last write made it NORMAL in place.
    expect([0, 1, 2, 3].map((i) => l2(z, i)[0])).toEqual([0x8000000000050000n, 1n, 1n, 0n]);
  });

  it('ZERO_ALLOC stays preallocated: map shows zero with an offset', async () => {
    const imgs = await verify(
      {
        layers: [{ name: 'p.qcow2', size: 128 * K }],
        ops: [
          { op: 'write', layer: 'p.qcow2', offset: 0, length: 128 * K, pattern: 0x42 },
          { op: 'zero', layer: 'p.qcow2', offset: 0, length: 128 * K },
        ],
      },
      'zero-alloc',
    );
    expect([l2(imgs.get('p.qcow2')!, 0)[0], l2(imgs.get('p.qcow2')!, 1)[0]]).toEqual([
      0x8000000000050001n,
      0x8000000000060001n,
    ]);
  });

  for (const version of [2, 3] as const) {
    it(`discard and write -z on v${version}, with and without a backing file`, async () => {
      const ops = (layer: string): Op[] => [
        { op: 'write', layer, offset: 0, length: 192 * K, pattern: 0x11 },
        { op: 'discard', layer, offset: 0, length: 64 * K },
        { op: 'zero', layer, offset: 128 * K, length: 64 * K },
        { op: 'zero', layer, offset: 64 * K, length: 64 * K, unmap: true },
        { op: 'zero', layer, offset: 192 * K, length: 64 * K },
        { op: 'discard', layer, offset: 200 * K, length: 8 * K },
      ];
      const imgs = await verify(
        {
          layers: [
            { name: 'base.raw', raw: true, size: 256 * K },
            { name: 'over.qcow2', version, backing: 'base.raw' },
            { name: 'alone.qcow2', version, size: 256 * K },
          ],
          ops: [
            { op: 'write', layer: 'base.raw', offset: 0, length: 256 * K, pattern: 0xbb },
            ...ops('over.qcow2'),
            ...ops('alone.qcow2'),
          ],
        },
        `discard-v${version}`,
      );
      const over = [0, 1, 2, 3].map((i) => l2(imgs.get('over.qcow2')!, i)[0]);
      const alone = [0, 1, 2, 3].map((i) => l2(imgs.get('alone.qcow2')!, i)[0]);
      if (version === 3) {
        expect(over).toEqual([1n, 1n, 0x8000000000070001n, 1n]);
        expect(alone).toEqual([1n, 1n, 0x8000000000070001n, 1n]);
      } else {
        // v2 has no zero flag: with a backing file discard does nothing and write -z writes
        // zeros as data; without one both unallocate.
        expect(over.map((e) => (e & 0x8000000000000000n) !== 0n)).toEqual([true, true, true, true]);
        expect(alone).toEqual([0n, 0n, 0n, 0n]);
      }
    });
  }

  it('subclusters: bitmaps as recorded in reference §2.6', async () => {
    const imgs = await verify(
      {
        layers: [
          { name: 'base.qcow2', size: 512 * K },
          { name: 'sub.qcow2', extendedL2: true, backing: 'base.qcow2' },
        ],
        ops: [
          { op: 'write', layer: 'base.qcow2', offset: 0, length: 512 * K, pattern: 0xaa },
          { op: 'write', layer: 'sub.qcow2', offset: 0, length: 4 * K, pattern: 1 },
          { op: 'write', layer: 'sub.qcow2', offset: 8 * K, length: 2 * K, pattern: 2 },
          { op: 'zero', layer: 'sub.qcow2', offset: 16 * K, length: 4 * K },
          { op: 'zero', layer: 'sub.qcow2', offset: 64 * K, length: 8 * K },
          { op: 'write', layer: 'sub.qcow2', offset: 128 * K, length: 64 * K, pattern: 3 },
          { op: 'zero', layer: 'sub.qcow2', offset: 132 * K, length: 2 * K },
          { op: 'write', layer: 'sub.qcow2', offset: 192 * K, length: 64 * K, pattern: 4 },
          { op: 'discard', layer: 'sub.qcow2', offset: 192 * K, length: 64 * K },
          { op: 'write', layer: 'sub.qcow2', offset: 260 * K, length: 6 * K, pattern: 5 },
          { op: 'zero', layer: 'sub.qcow2', offset: 300 * K, length: 3 * K },
        ],
      },
      'subclusters',
    );
    const sub = imgs.get('sub.qcow2')!;
    const bitmaps = [0, 1, 2, 3].map((i) => l2(sub, i)[1]);
    expect(bitmaps).toEqual([
      0x0000030000000013n,
      0x0000000f00000000n,
      0x00000004fffffffbn,
      0xffffffff00000000n,
    ]);
  });

  it('a backing file shorter than the overlay', async () => {
    await verify(
      {
        layers: [
          { name: 'short.qcow2', size: 100 * K },
          { name: 'long.qcow2', size: 320 * K, backing: 'short.qcow2' },
        ],
        ops: [
          { op: 'write', layer: 'short.qcow2', offset: 0, length: 100 * K, pattern: 0x61 },
          { op: 'write', layer: 'long.qcow2', offset: 60 * K, length: 8 * K, pattern: 0x62 },
          { op: 'write', layer: 'long.qcow2', offset: 96 * K, length: 8 * K, pattern: 0x63 },
          { op: 'zero', layer: 'long.qcow2', offset: 130 * K, length: 1 * K },
          { op: 'zero', layer: 'long.qcow2', offset: 192 * K, length: 65 * K },
          { op: 'discard', layer: 'long.qcow2', offset: 256 * K, length: 64 * K },
        ],
      },
      'short-backing',
    );
  });

  it('internal snapshots: shared clusters lose the copied flag and are copied on write', async () => {
    const imgs = await verify(
      {
        layers: [{ name: 'snap.qcow2', size: 512 * K }],
        ops: [
          { op: 'write', layer: 'snap.qcow2', offset: 0, length: 192 * K, pattern: 0x10 },
          { op: 'zero', layer: 'snap.qcow2', offset: 0, length: 64 * K },
          { op: 'snapshot', layer: 'snap.qcow2', name: 'one' },
          { op: 'write', layer: 'snap.qcow2', offset: 64 * K, length: 4 * K, pattern: 0x20 },
          { op: 'zero', layer: 'snap.qcow2', offset: 128 * K, length: 64 * K },
          { op: 'discard', layer: 'snap.qcow2', offset: 0, length: 64 * K },
          { op: 'snapshot', layer: 'snap.qcow2', name: 'two' },
          { op: 'zero', layer: 'snap.qcow2', offset: 128 * K, length: 64 * K, unmap: true },
          { op: 'write', layer: 'snap.qcow2', offset: 256 * K, length: 128 * K, pattern: 0x30 },
        ],
      },
      'snapshots',
    );
    const info = JSON.parse(
      run('qemu-img', ['info', '--output=json', 'snap.qcow2'], join(work, 'snapshots', 'ours')),
    );
    expect(info.snapshots.map((s: { name: string; id: string }) => `${s.id}:${s.name}`)).toEqual([
      '1:one',
      '2:two',
    ]);
    expect(l2(imgs.get('snap.qcow2')!, 2)[0]).toBe(1n);
  });

  it('commit into a qcow2 backing file, then the overlay is emptied', async () => {
    await verify(
      {
        layers: [
          { name: 'base.qcow2', size: 512 * K, clusterBits: 12 },
          { name: 'top.qcow2', backing: 'base.qcow2' },
        ],
        ops: [
          { op: 'write', layer: 'base.qcow2', offset: 0, length: 512 * K, pattern: 0x01 },
          { op: 'write', layer: 'top.qcow2', offset: 0, length: 64 * K, pattern: 0x02 },
          { op: 'zero', layer: 'top.qcow2', offset: 64 * K, length: 64 * K },
          { op: 'write', layer: 'top.qcow2', offset: 200 * K, length: 4 * K, pattern: 0x03 },
          { op: 'write', layer: 'top.qcow2', offset: 320 * K, length: 64 * K, pattern: 0x04 },
          { op: 'discard', layer: 'top.qcow2', offset: 320 * K, length: 64 * K },
          { op: 'commit', layer: 'top.qcow2' },
        ],
      },
      'commit-qcow2',
    );
  });

  it('commit with a snapshot in the overlay (discard fallback) and into a raw base', async () => {
    await verify(
      {
        layers: [
          { name: 'base.raw', raw: true, size: 256 * K },
          { name: 'mid.qcow2', backing: 'base.raw' },
          { name: 'top.qcow2', backing: 'mid.qcow2', clusterBits: 12 },
        ],
        ops: [
          { op: 'write', layer: 'base.raw', offset: 0, length: 256 * K, pattern: 0x0b },
          { op: 'write', layer: 'mid.qcow2', offset: 0, length: 128 * K, pattern: 0x0c },
          { op: 'snapshot', layer: 'mid.qcow2', name: 's' },
          { op: 'write', layer: 'top.qcow2', offset: 4 * K, length: 8 * K, pattern: 0x0d },
          { op: 'zero', layer: 'top.qcow2', offset: 128 * K, length: 64 * K },
          { op: 'commit', layer: 'top.qcow2' },
          { op: 'commit', layer: 'mid.qcow2' },
        ],
      },
      'commit-chain',
    );
  });

  it('small clusters with 64-bit refcounts: new refcount blocks and a grown refcount table', async () => {
    await verify(
      {
        layers: [{ name: 'tiny.qcow2', size: 1024 * K, clusterBits: 9, refcountOrder: 6 }],
        ops: [
          { op: 'write', layer: 'tiny.qcow2', offset: 0, length: 300 * K, pattern: 0x71 },
          { op: 'zero', layer: 'tiny.qcow2', offset: 10 * K, length: 20 * K, unmap: true },
          { op: 'snapshot', layer: 'tiny.qcow2', name: 'a' },
          { op: 'write', layer: 'tiny.qcow2', offset: 5 * K, length: 100 * K, pattern: 0x72 },
          { op: 'discard', layer: 'tiny.qcow2', offset: 50 * K, length: 30 * K },
        ],
      },
      'refcount-growth',
    );
  });
});

describe('persistent bitmaps: qemu-img bitmap and dirty tracking against QEMU (live oracle)', () => {
  const bm = (layer: string, name: string, a: BitmapAction): Op => ({ op: 'bitmap', layer, name, ...a });
  it('checkpoints: granularities, a discard and a write -z dirty their granules, disable, merge, clear, remove', async () => {
    const L = 'cp.qcow2';
    await verify(
      {
        layers: [{ name: L, size: 4 * 1024 * K }],
        ops: [
          { op: 'write', layer: L, offset: 0, length: 192 * K, pattern: 0x11 },
          bm(L, 'cp1', { action: 'add' }),
          { op: 'write', layer: L, offset: 1024 * K + 1000, length: 1024, pattern: 0x12 },
          bm(L, 'cp2', { action: 'add', granularity: 4096 }),
          { op: 'write', layer: L, offset: 128 * K, length: 128 * K, pattern: 0x22 },
          { op: 'zero', layer: L, offset: 512 * K, length: 128 * K },
          { op: 'discard', layer: L, offset: 64 * K + 512, length: 512 },
          bm(L, 'cp1', { action: 'disable' }),
          bm(L, 'cp3', { action: 'add', granularity: 1024 * K }),
          { op: 'zero', layer: L, offset: 1536 * K, length: 4 * K, unmap: true },
          bm(L, 'cp4', { action: 'add', granularity: 512, disabled: true }),
          bm(L, 'cp4', { action: 'merge', source: 'cp2' }),
          bm(L, 'cp4', { action: 'enable' }),
          { op: 'write', layer: L, offset: 3 * 1024 * K, length: 8 * K, pattern: 0x44 },
          bm(L, 'cp2', { action: 'clear' }),
          bm(L, 'all', { action: 'add', granularity: 2 * 1024 * K, disabled: true }),
          bm(L, 'all', { action: 'merge', source: 'cp1' }),
          bm(L, 'all', { action: 'merge', source: 'cp3' }),
          bm(L, 'cp3', { action: 'remove' }),
          { op: 'snapshot', layer: L, name: 's1' },
          { op: 'write', layer: L, offset: 0, length: 64 * K, pattern: 0x55 },
        ],
      },
      'bitmaps-checkpoints',
    );
  });

  it('over a chain, with small clusters and a commit that dirties the base', async () => {
    await verify(
      {
        layers: [
          { name: 'base.qcow2', size: 512 * K, clusterBits: 12 },
          { name: 'top.qcow2', backing: 'base.qcow2', clusterBits: 9 },
        ],
        ops: [
          { op: 'write', layer: 'base.qcow2', offset: 0, length: 64 * K, pattern: 0x01 },
          bm('base.qcow2', 'b', { action: 'add' }),
          bm('top.qcow2', 't', { action: 'add', granularity: 512 }),
          { op: 'write', layer: 'top.qcow2', offset: 100 * K, length: 3 * K, pattern: 0x02 },
          { op: 'zero', layer: 'top.qcow2', offset: 300 * K, length: 16 * K },
          { op: 'discard', layer: 'top.qcow2', offset: 4 * K, length: 2 * K },
          bm('top.qcow2', 't2', { action: 'add' }),
          { op: 'commit', layer: 'top.qcow2' },
        ],
      },
      'bitmaps-chain',
    );
  });

  it('refuses what qemu-img bitmap refuses, in its words', () => {
    const dir = join(work, 'bitmap-refusals');
    mkdirSync(dir, { recursive: true });
    const cases: [string, { version?: 2 }, BitmapAction & { name: string }, string[]][] = [
      ['v2', { version: 2 }, { name: 'x', action: 'add' }, ['--add']],
      ['exists', {}, { name: 'b', action: 'add' }, ['--add']],
      ['no such bitmap', {}, { name: 'nope', action: 'remove' }, ['--remove']],
      ['merge from no such bitmap', {}, { name: 'b', action: 'merge', source: 'nope' }, ['--merge', 'nope']],
      ['granularity', {}, { name: 'g', action: 'add', granularity: 1000 }, ['--add', '-g', '1000']],
      ['empty name', {}, { name: '', action: 'add' }, ['--add']],
    ];
    for (const [what, o, a, args] of cases) {
      const file = `${what.replace(/\W+/g, '-')}.qcow2`;
      const w = Qcow2Writer.create({ name: file, size: 1024 * K, ...o });
      run(
        'qemu-img',
        ['create', '-f', 'qcow2', '-o', `compat=${o.version === 2 ? '0.10' : '1.1'}`, file, '1M'],
        dir,
      );
      if (o.version !== 2) {
        w.dirtyBitmap('b', { action: 'add' });
        run('qemu-img', ['bitmap', '--add', file, 'b'], dir);
      }
      const q = spawnSync('qemu-img', ['bitmap', ...args, file, a.name], { cwd: dir, encoding: 'utf8' });
      expect(q.status, what).toBe(1);
      let ours = '';
      try {
        w.dirtyBitmap(a.name, a);
      } catch (e) {
        ours = (e as { detail: string }).detail;
      }
      // QEMU names the node ('#block128'), the writer the file.
      expect(`qemu-img: ${ours}\n`, what).toBe(q.stderr.replace(/'#block\d+'/, `'${file}'`));
    }
  });

  it('the last bitmap removed takes the directory and the autoclear bit with it', async () => {
    const L = 'rm.qcow2';
    await verify(
      {
        layers: [{ name: L, size: 1024 * K }],
        ops: [
          bm(L, 'x', { action: 'add' }),
          { op: 'write', layer: L, offset: 0, length: 128 * K, pattern: 0x0a },
          bm(L, 'x', { action: 'remove' }),
          { op: 'write', layer: L, offset: 256 * K, length: 64 * K, pattern: 0x0b },
        ],
      },
      'bitmaps-removed',
    );
  });
});

function readGolden(c: string, f: string): string {
  return readFileSync(join(FIXTURES, 'golden', c, f), 'utf8');
}

/** A random sandbox session: a chain of 1-3 layers and 6-30 qemu-io-like operations. */
function randomSession(seed: number): Scenario {
  const r = rng(seed).next; // mulberry32 (testing/fuzz/prng.ts): a seed names one exact scenario
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const depth = 1 + Math.floor(r() * 3);
  const rawBase = depth > 1 && r() < 0.35;
  const layers: LayerSpec[] = [];
  for (let i = 0; i < depth; i++) {
    const backing = layers.at(-1)?.name;
    if (i === 0 && rawBase) {
      layers.push({ name: 'base.raw', raw: true, size: (8 + Math.floor(r() * 64)) * 4096 });
      continue;
    }
    const clusterBits = pick([9, 12, 16, 16, 17]);
    const extendedL2 = clusterBits >= 16 && r() < 0.35;
    const version = !extendedL2 && r() < 0.25 ? 2 : 3;
    const refcountOrder = version === 3 && r() < 0.4 ? pick([0, 1, 2, 3, 5, 6]) : 4;
    const cs = 2 ** clusterBits;
    const size = (4 + Math.floor(r() * 40)) * cs + (r() < 0.25 ? 512 * Math.floor(r() * 8) : 0);
    layers.push({
      name: `l${i}.qcow2`,
      size: Math.min(size, 8 * 1024 * 1024),
      clusterBits,
      extendedL2,
      version,
      refcountOrder,
      ...(backing && { backing }),
    });
  }
  const ops: Op[] = [];
  const size = (l: LayerSpec) => l.size ?? 0;
  const n = 6 + Math.floor(r() * 25);
  let snaps = 0;
  for (let k = 0; k < n; k++) {
    const l = r() < 0.7 ? layers.at(-1)! : pick(layers);
    const cs = l.raw ? 4096 : 2 ** (l.clusterBits ?? 16);
    const unit = pick([512, l.extendedL2 ? cs / 32 : cs, cs, 4096]);
    const offset = Math.floor((r() * size(l)) / unit) * unit;
    const length = Math.min(size(l) - offset, unit * (1 + Math.floor(r() * 5)));
    if (length <= 0) continue;
    const x = r();
    if (l.raw || x < 0.4)
      ops.push({ op: 'write', layer: l.name, offset, length, pattern: 1 + Math.floor(r() * 250) });
    else if (x < 0.6) ops.push({ op: 'zero', layer: l.name, offset, length });
    else if (x < 0.72) ops.push({ op: 'zero', layer: l.name, offset, length, unmap: true });
    else if (x < 0.93) ops.push({ op: 'discard', layer: l.name, offset, length });
    else if ((l.refcountOrder ?? 4) > 0) ops.push({ op: 'snapshot', layer: l.name, name: `snap${++snaps}` });
  }
  const top = layers.at(-1)!;
  const below = layers.at(-2);
  if (below && size(below) >= size(top) && r() < 0.4) ops.push({ op: 'commit', layer: top.name });
  return { layers, ops };
}

/** 10 seeds in `npm test`; CS_WRITER_RUNS=N and CS_WRITER_START=S explore further. */
const RUNS = Number(process.env.CS_WRITER_RUNS ?? 10);
const START = Number(process.env.CS_WRITER_START ?? 5000);
const SEEDS = process.env.CS_WRITER_SEED
  ? [Number(process.env.CS_WRITER_SEED)]
  : Array.from({ length: RUNS }, (_, i) => START + i);

/**
 * A random session with persistent bitmaps: randomSession(seed)'s chain and operations, with
 * `qemu-img bitmap` actions on its v3 qcow2 layers interleaved (own stream of the seed: the
 * sessions without bitmaps stay as they were).
 */
function randomBitmapSession(seed: number): Scenario {
  const base = randomSession(seed);
  const r = rng(seed ^ 0x5eed).next;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const v3 = base.layers.filter((l) => !l.raw && (l.version ?? 3) === 3);
  if (!v3.length) return base;
  const names = new Map(v3.map((l) => [l.name, [] as string[]]));
  let next = 0;
  const ops: Op[] = [];
  const bitmapOp = (): Op | undefined => {
    const l = pick(v3);
    const have = names.get(l.name)!;
    const x = r();
    if (!have.length || x < 0.3) {
      const name = pick(['cp', 'Daily.', 'b']) + next++;
      have.push(name);
      const cs = 2 ** (l.clusterBits ?? 16);
      const granularity = r() < 0.5 ? undefined : pick([512, 4096, cs, 65536, 1024 * K]);
      return {
        op: 'bitmap',
        layer: l.name,
        name,
        action: 'add',
        ...(granularity && { granularity }),
        ...(r() < 0.2 && { disabled: true }),
      };
    }
    const name = pick(have);
    if (x < 0.45) return { op: 'bitmap', layer: l.name, name, action: 'disable' };
    if (x < 0.6) return { op: 'bitmap', layer: l.name, name, action: 'enable' };
    if (x < 0.72) return { op: 'bitmap', layer: l.name, name, action: 'clear' };
    if (x < 0.9) return { op: 'bitmap', layer: l.name, name, action: 'merge', source: pick(have) };
    have.splice(have.indexOf(name), 1);
    return { op: 'bitmap', layer: l.name, name, action: 'remove' };
  };
  for (const o of base.ops) {
    while (r() < 0.35) {
      const b = bitmapOp();
      if (b) ops.push(b);
    }
    ops.push(o);
  }
  return { layers: base.layers, ops };
}

/** 6 seeds in `npm test`; CS_WRITER_BITMAP_RUNS=N and CS_WRITER_BITMAP_START=S explore further. */
const BITMAP_RUNS = Number(process.env.CS_WRITER_BITMAP_RUNS ?? 6);
const BITMAP_START = Number(process.env.CS_WRITER_BITMAP_START ?? 7000);
const BITMAP_SEEDS = process.env.CS_WRITER_BITMAP_SEED
  ? [Number(process.env.CS_WRITER_BITMAP_SEED)]
  : Array.from({ length: BITMAP_RUNS }, (_, i) => BITMAP_START + i);

describe('writer: seeded random sessions with persistent bitmaps against qemu-img bitmap (live oracle)', () => {
  it.each(BITMAP_SEEDS)('seed %i', async (seed) => {
    await verify(
      randomBitmapSession(seed),
      `bitmap seed ${seed}`,
      ` (rerun: CS_WRITER_BITMAP_SEED=${seed} npx vitest run src/core/write/writer.oracle.test.ts)`,
    );
  });
});

describe('writer: seeded random sandbox sessions against qemu-io (live oracle)', () => {
  it.each(SEEDS)('seed %i', async (seed) => {
    await verify(
      randomSession(seed),
      `seed ${seed}`,
      ` (rerun: CS_WRITER_SEED=${seed} npx vitest run src/core/write/writer.oracle.test.ts)`,
    );
  });
});
