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
      / {8}131072 {10}65536 {2}A zero \/ B hole,zero\n {4}cluster 2 \[0x20000, 0x30000\): ZERO_PLAIN in top\.qcow2/,
    );
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
    expect(c.stdout).toBe('start,end,length,kind,a,b\r\n131072,196608,65536,a2-b3,zero,"hole,zero"\r\n');
  });

  it("--b=@VIEW keeps A's interpretation: qemu-img map 7.2 with chain vs backing: null", async () => {
    const r = await runCli(
      ['diff', '--a=qemu-img-map-7.2', '--b=@backing-null', '--output=csv', '--no-reasons', 'top.qcow2'],
      THREAD,
    );
    expect(r.stdout.split('\r\n').slice(1, -1)).toEqual([
      '0,65536,65536,a261-b2,"depth 1, present, data","depth 0, absent, zero"',
      '196608,262144,65536,a261-b2,"depth 1, present, data","depth 0, absent, zero"',
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
      '0,131072,131072,a3-b0,"hole,zero",data',
      '131072,196608,65536,a0-b3,data,"hole,zero"',
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
      '196608,262144,65536,a261-b258,"depth 1, present, data","depth 1, absent, zero"',
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
