/**
 * Corrupt and hostile fixtures (fixtures/make-fixtures.sh patches QEMU-made images): where
 * QEMU refuses the image, clusterscope refuses it too, with an error of the expected class
 * that names the file, the structure and the byte offset, printed by the CLI as one line with
 * exit status 1 and no stack trace.
 */
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeChain } from '../core/chain/chain.ts';
import { ClusterscopeError } from '../core/errors.ts';
import { chainStatus } from '../core/status/resolve.ts';
import { runCli } from '../testing/cli.ts';
import {
  allCases,
  type FixtureCase,
  golden,
  INTENDED_REFUSALS,
  imageDir,
  imagePath,
} from '../testing/fixtures.ts';
import { openChainFromPath } from './openChain.ts';

/**
 * The cases QEMU refuses to map (fixtures/golden/<case>/map.json.exit), plus the ones
 * clusterscope refuses on purpose. Cases QEMU maps despite damage (an L2 table past EOF, leaked
 * refcounts) are in parity.test.ts: there clusterscope must give QEMU's map, with warnings.
 */
const refused = (c: FixtureCase) => golden(c, 'map.json.exit') !== undefined || c.name in INTENDED_REFUSALS;
const broken = allCases().filter(refused);
const expectedClass = (c: FixtureCase) => INTENDED_REFUSALS[c.name] ?? c.error?.class;

async function engineError(path: string): Promise<ClusterscopeError | undefined> {
  try {
    const chain = await openChainFromPath(path, { format: 'qcow2' });
    try {
      const st = await chainStatus(chain);
      return st.error;
    } finally {
      await closeChain(chain);
    }
  } catch (e) {
    if (e instanceof ClusterscopeError) return e;
    throw e;
  }
}

describe.each(broken)('$name', (c) => {
  const qemuSaid = golden(c, 'map.json.err')?.trim().split('\n').at(-1) ?? 'QEMU maps it; refused on purpose';
  it(`is refused as ${expectedClass(c)} (qemu-img: ${qemuSaid})`, async () => {
    const err = await engineError(imagePath(c));
    expect(err, 'QEMU refused this image, clusterscope must too').toBeInstanceOf(ClusterscopeError);
    expect(err!.kind).toBe(expectedClass(c));
    expect(readdirSync(imageDir(c))).toContain(basename(err!.file));
    expect(err!.structure.length).toBeGreaterThan(0);
    expect(err!.offset, 'the error names a byte offset').toBeTypeOf('number');
  });

  it('CLI map prints one line naming file, structure and offset, exit 1', async () => {
    const r = await runCli(['map', '--output=json', '--format=qcow2', c.top], imageDir(c));
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l && !l.startsWith('clusterscope: warning:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^clusterscope: \S+: .+ at 0x[0-9a-f]+: .+/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/**
 * What qemu-img printed before it failed (fixtures/golden/<case>/map.json, map.txt with a
 * .exit): the streamed map prints the same bytes, then the error and exit status 1. qemu-img
 * leaves its JSON array open, and never prints the entry it was still merging (§4.6);
 * nbdinfo prints nothing at all when a block-status request fails.
 */
const partial = allCases().filter(
  (c) => golden(c, 'map.json.exit')?.trim() === '1' && golden(c, 'map.json') !== undefined,
);

describe.each(partial)('$name: output before the failure', (c) => {
  it('map --output=json prints what qemu-img map --output=json printed, byte for byte', async () => {
    const r = await runCli(['map', '--output=json', '--qemu=7.2', '--format=qcow2', c.top], imageDir(c));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(golden(c, 'map.json'));
  });
  it('map (human) prints what qemu-img map printed', async () => {
    const r = await runCli(['map', '--qemu=7.2', '--format=qcow2', c.top], imageDir(c));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(golden(c, 'map.txt'));
  });
  it('nbd-map prints nothing, as nbdinfo', async () => {
    expect(golden(c, 'nbd-base.txt')).toBeUndefined();
    const r = await runCli(['nbd-map', '--qemu=7.2', '--format=qcow2', c.top], imageDir(c));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });
});

it('error-after-data has entries before its failure (the case the partial output is about)', () => {
  expect(partial.map((c) => c.name)).toContain('error-after-data');
  expect(golden('error-after-data', 'map.json')!.split('\n').length).toBe(4);
});

/**
 * A file without the qcow2 magic, named top.qcow2 (bad-magic): qemu-img without -f probes it
 * and maps it as raw (recorded: map-probed.json, map-probed.txt, info-probed.json), with -f
 * qcow2 it refuses it. clusterscope does both, and without -f says on stderr what it took the
 * file for and why (core/info/probe.ts, the words the page shows too).
 */
describe('bad-magic opened without -f: probed and read as raw, as qemu-img does, and said so', () => {
  const c = allCases().find((x) => x.name === 'bad-magic')!;
  const note =
    /^clusterscope: note: top\.qcow2 is read as a raw disk image: it starts with 51 46 49 00, not the qcow2 magic 51 46 49 fb \("QFI\\xfb"\), so probing takes it for raw, as qemu-img does without -f; with -f qcow2 \(as qemu-img -f qcow2\) it is refused: Image is not in qcow2 format\n$/;
  it('map --output=json prints what qemu-img map --output=json printed, and the note', async () => {
    const r = await runCli(['map', '--output=json', '--qemu=7.2', c.top], imageDir(c));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(golden(c, 'map-probed.json'));
    expect(r.stderr).toMatch(note);
  });
  it('map (human) prints what qemu-img map printed', async () => {
    const r = await runCli(['map', c.top], imageDir(c));
    expect(r.stdout).toBe(golden(c, 'map-probed.txt'));
  });
  it('info --output=json equals qemu-img info --output=json (host-dependent actual-size aside)', async () => {
    const r = await runCli(['info', '--output=json', c.top], imageDir(c));
    const strip = (t: string) => {
      const j = JSON.parse(t) as Record<string, unknown>;
      delete j['actual-size'];
      return j;
    };
    expect(strip(r.stdout)).toEqual(strip(golden(c, 'info-probed.json')!));
    expect(r.stderr).toMatch(note);
  });
  it('with -f qcow2 it is refused in qemu-img -f qcow2 words, without the note', async () => {
    const r = await runCli(['map', '-f', 'qcow2', c.top], imageDir(c));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Image is not in qcow2 format\n$/);
    expect(r.stderr).not.toMatch(/note:/);
  });
});
