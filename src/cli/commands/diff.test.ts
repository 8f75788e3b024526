/**
 * `clusterscope diff`: the thread example's 5.2-vs-6.0 diff (reference §5.2) in text, JSON and
 * CSV; chain vs backing: null; two files; native text export equal to recorded QEMU 7.2 output.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../testing/cli.ts';
import { FIXTURES, golden } from '../../testing/fixtures.ts';

const dir = (name: string) => `${FIXTURES}/images/${name}`;
const THREAD = dir('nbd-hole-2021-thread');
const A52 = '--a=nbd-base-allocation-5.2@backing-null';
const B60 = '--b=nbd-base-allocation-6.0@backing-null';

describe('clusterscope diff', () => {
  it('text: 5.2 vs 6.0 with backing: null differ in cluster 2 only, with the reason', async () => {
    const r = await runCli(['diff', A52, B60, 'top.qcow2'], THREAD);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(
      'A: NBD base:allocation (qemu-nbd 5.2 and older) [nbd-base-allocation-5.2@backing-null]; top.qcow2, backing: null, active L1; 262144 bytes',
    );
    expect(lines).toContain('65536 bytes differ in 1 extent; 196608 bytes agree.');
    expect(r.stdout).toMatch(/ {9}65536 {2}25\.0% {8}1 ext {2}A zero \/ B hole,zero {2}\[a2-b3\]\n/);
    expect(r.stdout).toMatch(
      / {8}131072 {10}65536 {2}A zero \/ B hole,zero {2}\(hole: A no, B yes\)\n {4}cluster 2 \[0x20000, 0x30000\): ZERO_PLAIN in top\.qcow2/,
    );
    // By meaning (the default): what was compared, what one side alone tells, what 6.0 cannot tell apart.
    expect(lines[2]).toBe('Compared by meaning: zero, hole (stated by both over 262144 bytes).');
    expect(lines).toContain(
      'A also tells present (present in the chain) over 262144 bytes; B never states it.',
    );
    expect(r.stdout).toContain(
      'B prints "hole,zero" the same for A\'s "hole,zero" (present no: 131072 bytes in 2 extents, e.g. cluster 0 [0x0, 0x10000); cluster 3 [0x30000, 0x40000)) and "zero" (present yes: 65536 bytes in 1 extent, e.g. cluster 2 [0x20000, 0x30000)); A\'s present tells them apart.',
    );
  });

  it('qemu-img map 7.2 vs NBD base:allocation 6.0: agree by meaning, differ everywhere by value (issue 11.1)', async () => {
    const args = ['diff', '--a=qemu-img-map-7.2', '--b=nbd-base-allocation-6.0', '--no-reasons', 'top.qcow2'];
    const m = await runCli(args, THREAD);
    expect(m.stdout).toContain('A and B agree on all 262144 bytes.');
    expect(m.stdout).toContain('Compared by meaning: zero, data (stated by both over 262144 bytes).');
    const v = await runCli([...args, '--compare=values'], THREAD);
    expect(v.stdout).toContain('262144 bytes differ in 4 extents; 0 bytes agree.');
    expect(v.stdout).toContain('Compared by value (--compare=values)');
    const j = JSON.parse((await runCli([...args, '--compare=values', '--output=json'], THREAD)).stdout);
    expect(j).toMatchObject({ version: 2, compare: 'values', bytesAgreeing: 0 });
    const bad = await runCli([...args, '--compare=bytes'], THREAD);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--compare must be meaning or values, not 'bytes'");
  });

  it('json and csv exports of the same diff', async () => {
    const j = await runCli(['diff', A52, B60, '--output=json', 'top.qcow2'], THREAD);
    const json = JSON.parse(j.stdout);
    expect(json.a).toEqual({
      interpretation: 'nbd-base-allocation-5.2',
      title: 'NBD base:allocation (qemu-nbd 5.2 and older)',
      view: 'backing-null',
      file: 'top.qcow2',
    });
    expect(
      json.extents.map((e: { start: number; length: number; kind: string }) => [e.start, e.length, e.kind]),
    ).toEqual([[131072, 65536, 'a2-b3']]);
    const c = await runCli(['diff', A52, B60, '--output=csv', '--no-reasons', 'top.qcow2'], THREAD);
    expect(json).toMatchObject({ version: 2, compare: 'meaning' });
    expect(c.stdout).toBe(
      'start,end,length,kind,a,b,compare,facts\r\n131072,196608,65536,a2-b3,zero,"hole,zero",meaning,"hole: A no, B yes"\r\n',
    );
    const v = await runCli(
      ['diff', A52, B60, '--output=csv', '--no-reasons', '--compare=values', 'top.qcow2'],
      THREAD,
    );
    expect(v.stdout).toBe(
      'start,end,length,kind,a,b,compare,facts\r\n131072,196608,65536,a2-b3,zero,"hole,zero",values,\r\n',
    );
  });

  it("--b=@VIEW keeps A's interpretation: qemu-img map 7.2 with chain vs backing: null", async () => {
    const r = await runCli(
      ['diff', '--a=qemu-img-map-7.2', '--b=@backing-null', '--output=csv', '--no-reasons', 'top.qcow2'],
      THREAD,
    );
    expect(r.stdout.split('\r\n').slice(1, -1)).toEqual([
      '0,65536,65536,a261o-b2,"depth 1, present, data","depth 0, absent, zero",meaning,"present: A yes, B no; depth: A layer 1, B layer 0; zero: A no, B yes; data: A yes, B no; offset: A yes, B no"',
      '196608,262144,65536,a261o-b2,"depth 1, present, data","depth 0, absent, zero",meaning,"present: A yes, B no; depth: A layer 1, B layer 0; zero: A no, B yes; data: A yes, B no; offset: A yes, B no"',
    ]);
  });

  it('active L1 vs snapshot s1 (qemu-nbd vs qemu-nbd -l s1, both recorded)', async () => {
    // fixtures/golden/snapshots: nbd-base.txt (active) and nbd-snapshot-s1.txt (recorded with -l s1).
    expect(golden('snapshots', 'nbd-base.txt')).toBe(
      '         0      131072    3  hole,zero\n    131072       65536    0  data\n    196608       65536    3  hole,zero\n',
    );
    expect(golden('snapshots', 'nbd-snapshot-s1.txt')).toBe(
      '         0      131072    0  data\n    131072      131072    3  hole,zero\n',
    );
    const r = await runCli(
      [
        'diff',
        '--a=nbd-base-allocation-6.0',
        '--b=@snapshot:s1',
        '--output=csv',
        '--no-reasons',
        'top.qcow2',
      ],
      dir('snapshots'),
    );
    expect(r.stdout.split('\r\n').slice(1, -1)).toEqual([
      '0,131072,131072,a3-b0,"hole,zero",data,meaning,"zero: A yes, B no; data: A no, B yes; hole: A yes, B no"',
      '131072,196608,65536,a0-b3,data,"hole,zero",meaning,"zero: A no, B yes; data: A yes, B no; hole: A no, B yes"',
    ]);
  });

  it('two files: the same interpretation, compared where both sizes reach', async () => {
    const r = await runCli(
      [
        'diff',
        '--a=qemu-img-map-7.2',
        '--output=csv',
        '--no-reasons',
        'nbd-hole-2021-thread/top.qcow2',
        'nbd-hole-2021-qcow2base/top.qcow2',
      ],
      `${FIXTURES}/images`,
    );
    expect(r.code).toBe(0);
    expect(r.stdout.split('\r\n').slice(1, -1)).toEqual([
      '196608,262144,65536,a261o-b258,"depth 1, present, data","depth 1, absent, zero",meaning,"present: A yes, B no; zero: A no, B yes; data: A yes, B no; offset: A yes, B no"',
    ]);
  });

  it('two files of different virtual sizes: the overlap is compared and the text says so', async () => {
    const r = await runCli(
      [
        'diff',
        '--a=nbd-base-allocation-6.0',
        '--no-reasons',
        'copy-early/vm.qcow2',
        'copy-later/vm-later.qcow2',
      ],
      `${FIXTURES}/images`,
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[2]).toBe(
      'Virtual sizes differ (A 524288 bytes, B 786432 bytes): compared where both reach, the first 524288 bytes; the remaining 262144 bytes are only in B.',
    );
    expect(lines).toContain('393216 bytes differ in 2 extents; 393216 bytes agree.');
    expect(r.stdout).toContain('only in B (A ends at 524288)  [b-only]');
  });

  it("--format prints one interpretation in its tool's text, equal to the recorded QEMU 7.2 output", async () => {
    const cases: [string, string, string][] = [
      ['--a=nbd-base-allocation-6.0@backing-null', 'nbdinfo', 'nbd-base-nobacking.txt'],
      ['--a=nbd-allocation-depth', 'nbdinfo', 'nbd-depth.txt'],
      ['--a=qemu-img-map-7.2', 'qemu-img-map-json', 'map.json'],
      ['--a=qemu-img-map-7.2@backing-null', 'native', 'map-nobacking.json'],
      ['--a=qemu-img-map-7.2', 'qemu-img-map-human', 'map.txt'],
    ];
    for (const [a, format, file] of cases) {
      const r = await runCli(['diff', a, `--format=${format}`, 'top.qcow2'], THREAD);
      expect(r.stdout, `${a} ${format}`).toBe(golden('nbd-hole-2021-thread', file));
      expect(r.code).toBe(0);
    }
    const j = await runCli(
      [
        'diff',
        '--a=nbd-joint-allocation-proposed-2021-06@backing-null',
        '--format=nbdinfo-json',
        'top.qcow2',
      ],
      THREAD,
    );
    expect(JSON.parse(j.stdout).map((e: { type: number }) => e.type)).toEqual([3, 4, 7, 3]);
  });

  it('--list names every interpretation id and the view syntax', async () => {
    const r = await runCli(['diff', '--list']);
    expect(r.stdout).toContain('nbd-joint-allocation-proposed-2021-06');
    expect(r.stdout).toContain('proposed, never merged');
    expect(r.stdout).toContain('backing-null, snapshot:NAME, zero-scan');
  });

  it('usage errors are one line, exit 1', async () => {
    const bad = [
      [['diff', 'top.qcow2'], /^clusterscope: diff needs --a=INTERP\[@VIEW\]/],
      [['diff', '--a=nope', 'top.qcow2'], /^clusterscope: --a: unknown interpretation 'nope'/],
      [
        ['diff', '--a=qemu-img-map-7.2@nobacking', 'top.qcow2'],
        /^clusterscope: --a: unknown view 'nobacking'/,
      ],
      [
        ['diff', '--a=reads-as-zero', '--format=nbdinfo', 'top.qcow2'],
        /^clusterscope: --format for reads-as-zero must be absent/,
      ],
      [
        ['diff', '--a=qemu-img-map-7.2', '--output=xml', 'top.qcow2'],
        /^clusterscope: --output must be text, json or csv/,
      ],
    ] as const;
    for (const [args, msg] of bad) {
      const r = await runCli([...args], THREAD);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
  });
});

describe('clusterscope diff: persistent bitmaps', () => {
  const CHAIN = dir('bitmaps-chain');
  const CP = dir('bitmaps-checkpoints');

  it('--format=nbdinfo of a bitmap equals nbdinfo --map=qemu:dirty-bitmap:NAME (with -B NAME)', async () => {
    const cases: [string, string][] = [
      ['cp1', 'nbd-bitmap-cp1.txt'],
      ['.44aily.2e.42ackup.3a1', 'nbd-bitmap-.44aily.2e.42ackup.3a1.txt'],
    ];
    for (const [name, file] of cases) {
      const r = await runCli(['diff', `--a=nbd-dirty-bitmap-${name}`, '--format=nbdinfo', 'top.qcow2'], CP);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(golden('bitmaps-checkpoints', file));
    }
  });

  it('a bitmap against written-in-top: where nbdinfo says dirty but allocation-depth not local, with reasons', async () => {
    const r = await runCli(
      ['diff', '--a=nbd-dirty-bitmap-top-only', '--b=written-in-top', '--output=json', 'top.qcow2'],
      CHAIN,
    );
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as { extents: { start: number; length: number; reason: string }[] };
    // top-only (128 KiB granules) is dirty over [0,256K), [384K,512K), [896K,1M); local: [0,64K), [128K,192K), [384K,512K), [960K,1M).
    expect(d.extents.map((e) => [e.start, e.length])).toEqual([
      [65536, 65536],
      [196608, 65536],
      [917504, 65536],
    ]);
    expect(d.extents[0]!.reason).toContain("bit 0 of bitmap 'top-only' of top.qcow2");
  });

  it('a bitmap the chain lacks is not found, as qemu-nbd -B says', async () => {
    const r = await runCli(['diff', '--a=nbd-dirty-bitmap-nope', 'top.qcow2'], CP);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Bitmap 'nope' is not found");
    // backing: null leaves the base's bitmaps out (qemu-nbd on the top alone: not found).
    const n = await runCli(['diff', '--a=nbd-dirty-bitmap-base-only@backing-null', 'top.qcow2'], CHAIN);
    expect(n.stderr).toContain(
      golden('bitmaps-chain', 'nbd-bitmap-base-only-nobacking.txt.err')!.replace('qemu-nbd: ', '').trim(),
    );
  });
});
