/**
 * Hostile images that are small on disk and huge in extents (fixtures/hostile.py: one L2 table
 * whose entries all name one data cluster, shared by many L1 entries), against live QEMU 7.2:
 * the streamed map equals qemu-img map byte for byte and nbdinfo --map line for line, and the
 * streaming walk's memory stays within its budgets whatever the number of extents.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeChain } from '../core/chain/chain.ts';
import { STREAM_TABLE_CACHE_BYTES, STREAM_WINDOW_BYTES } from '../core/limits.ts';
import { streamChainStatus } from '../core/status/stream.ts';
import { runCli } from '../testing/cli.ts';
import { FIXTURES, parseNbdinfo } from '../testing/fixtures.ts';
import { nbdinfo, run } from '../testing/qemu.ts';
import { openChainFromPath } from './openChain.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a fixtures/hostile.py image into the test directory. */
function hostile(name: string, args: string[]): string {
  execFileSync('python3', [join(FIXTURES, 'hostile.py'), 'shared-l2', join(dir, name), ...args]);
  return name;
}

const IMAGES = [
  // 16 L1 entries x 8192 entries: 131072 extents of 64 KiB, 6 clusters on disk.
  { name: 'shared.qcow2', args: ['--l1', '16'], extents: 131072 },
  // Extended L2, alternating subclusters: 2 x 4096 entries x 32 = 262144 extents.
  { name: 'shared-extl2.qcow2', args: ['--l1', '2', '--extl2'], extents: 262144 },
  // 512-byte clusters: 64 entries per table, 4096 tables' worth of L1 entries.
  { name: 'shared-512.qcow2', args: ['--l1', '4096', '--cluster-bits', '9'], extents: 262144 },
];

beforeAll(() => {
  for (const i of IMAGES) hostile(i.name, i.args);
});

describe.each(IMAGES)('$name ($extents extents)', ({ name, extents }) => {
  it('map --output=json is byte for byte qemu-img map --output=json', async () => {
    const q = run('qemu-img', ['map', '--output=json', '-f', 'qcow2', name], dir);
    const o = await runCli(['map', '--output=json', '--qemu=7.2', name], dir);
    expect(o.code).toBe(0);
    expect(o.stdout.split('\n').length).toBe(extents + 1);
    expect(o.stdout === q).toBe(true);
  });

  it('map (human) is byte for byte qemu-img map', async () => {
    const q = run('qemu-img', ['map', '-f', 'qcow2', name], dir);
    const o = await runCli(['map', '--qemu=7.2', name], dir);
    expect(o.stdout === q).toBe(true);
  });

  it('nbd-map equals nbdinfo --map against qemu-nbd, both contexts', async () => {
    for (const context of ['base:allocation', 'qemu:allocation-depth']) {
      const q = await nbdinfo(dir, ['-f', 'qcow2', name], context);
      const o = await runCli(['nbd-map', `--context=${context}`, '--qemu=7.2', name], dir);
      expect(parseNbdinfo(o.stdout)).toEqual(parseNbdinfo(q));
    }
  });
});

describe('streaming memory', () => {
  it('2 M extents stream within STREAM_WINDOW_BYTES of extents and STREAM_TABLE_CACHE_BYTES of tables', async () => {
    const name = hostile('shared-2m.qcow2', ['--l1', '256']);
    const chain = await openChainFromPath(join(dir, name));
    let count = 0;
    let end = 0;
    let gaps = 0;
    try {
      const r = await streamChainStatus(chain, {
        push(start, length) {
          if (start !== end) gaps++;
          end = start + length;
          count++;
        },
      });
      expect(r.error).toBeUndefined();
      expect(gaps).toBe(0);
      expect(count).toBe(256 * 8192);
      expect(end).toBe(r.length);
      // Window arrays are allocated once, at their share of the budget plus one entry's slack.
      expect(r.peakBytes).toBeLessThanOrEqual(STREAM_WINDOW_BYTES + 64 * 28 + STREAM_TABLE_CACHE_BYTES);
      expect(r.windows).toBeGreaterThan(10);
    } finally {
      await closeChain(chain);
    }
  });
});
