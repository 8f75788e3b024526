/**
 * `clusterscope info` against the `qemu-img info` answers recorded from QEMU 7.2. actual-size
 * (host allocation) is the one member compared loosely: present and a whole number of 512-byte
 * blocks; everything else, and the text around it, must equal QEMU's.
 */
import { describe, expect, it } from 'vitest';
import { HOST_DEPENDENT_INFO_FIELDS } from '../../core/info/info.ts';
import { runCli } from '../../testing/cli.ts';
import { fixtureImageDir, goldenInfoCases } from '../../testing/fixtureChain.ts';

const withoutHost = (v: unknown): unknown =>
  (Array.isArray(v) ? v : [v]).map((i) => {
    const o = { ...(i as Record<string, unknown>) };
    for (const f of HOST_DEPENDENT_INFO_FIELDS) delete o[f];
    return o;
  });

/** Replaces the value of every "actual-size" member so two texts can be compared whole. */
const maskActual = (t: string) => t.replace(/"actual-size": \d+/g, '"actual-size": N');

const ok = goldenInfoCases().filter((c) => !c.failed && !c.covers.includes('limit'));

describe('clusterscope info --output=json equals qemu-img info --output=json', () => {
  for (const c of ok) {
    const chainFlag = c.text.startsWith('[') ? ['--backing-chain'] : [];
    it(`${c.name}: ${chainFlag.join(' ')} prints ${c.file} but for actual-size`, async () => {
      const r = await runCli(['info', '--output=json', ...chainFlag, c.top], fixtureImageDir(c.name));
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(withoutHost(JSON.parse(r.stdout))).toEqual(withoutHost(JSON.parse(c.text)));
      expect(maskActual(r.stdout)).toBe(maskActual(c.text));
      for (const m of r.stdout.matchAll(/"actual-size": (\d+)/g)) expect(Number(m[1]) % 512).toBe(0);
    });
  }
});

describe('clusterscope info (human) as qemu-img info prints it', () => {
  it('lists the snapshot table and the qcow2 specifics of the snapshots fixture', async () => {
    const r = await runCli(['info', 'top.qcow2'], fixtureImageDir('snapshots'));
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'image: top.qcow2',
      'file format: qcow2',
      expect.stringMatching(/^virtual size: \S+ \S+ \(\d+ bytes\)$/),
    ]);
    expect(lines).toContain('Snapshot list:');
    expect(lines).toContain(
      'ID        TAG               VM SIZE                DATE     VM CLOCK     ICOUNT',
    );
    expect(lines).toContain('Format specific information:');
    expect(lines).toContain('    compat: 1.1');
  });
  it('separates the layers of --backing-chain with one blank line, top first', async () => {
    const r = await runCli(['info', '--backing-chain', 'top.qcow2'], fixtureImageDir('chain-raw-base'));
    expect(r.code).toBe(0);
    const images = r.stdout.split('\n').filter((l) => l.startsWith('image: '));
    expect(images).toEqual(['image: top.qcow2', 'image: mid.qcow2', 'image: base.raw']);
    expect(r.stdout).toContain('\n\nimage: mid.qcow2\n');
    expect(r.stdout).toContain('backing file: mid.qcow2\nbacking file format: qcow2\n');
  });
  it('prints bitmaps as a numbered list with their flags', async () => {
    const r = await runCli(['info', 'top.qcow2'], fixtureImageDir('bitmaps'));
    expect(r.stdout).toMatch(
      / {4}bitmaps:\n {8}\[0\]:\n {12}flags:\n {16}\[0\]: auto\n {12}name: b1\n {12}granularity: 65536\n/,
    );
  });
});

describe('clusterscope info arguments', () => {
  it('without --backing-chain prints the top image alone, as one object', async () => {
    const r = await runCli(['info', '--output=json', 'top.qcow2'], fixtureImageDir('chain-raw-base'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ filename: 'top.qcow2', 'backing-filename': 'mid.qcow2' });
  });
  it('opens the top with -f qcow2 as qemu-img does, refusing a non-qcow2 file instead of probing it', async () => {
    const r = await runCli(['info', '-f', 'qcow2', 'base.raw'], fixtureImageDir('chain-raw-base'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Image is not in qcow2 format/);
    const probed = await runCli(['info', '--output=json', 'base.raw'], fixtureImageDir('chain-raw-base'));
    expect(JSON.parse(probed.stdout)).toMatchObject({ format: 'raw', filename: 'base.raw' });
  });
  it('refuses an unknown --output with exit status 1', async () => {
    const r = await runCli(['info', '--output=xml', 'top.qcow2'], fixtureImageDir('snapshots'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--output must be json or human/);
  });
  it('reports a missing file as one line on stderr with exit status 1', async () => {
    const r = await runCli(['info', 'nope.qcow2'], fixtureImageDir('snapshots'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^clusterscope: .*nope\.qcow2.*\n$/);
  });
});
