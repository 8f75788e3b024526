/**
 * Header offsets past 2^53, against live QEMU 7.2: qemu-img checks l1_table_offset,
 * refcount_table_offset and snapshots_offset for alignment, not size, and reads zeros past the
 * end of the file, so it maps such images; clusterscope refused them ("exceeds 2^53"). An
 * unaligned one is refused by both, in QEMU's words.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-bigoff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', 'base.qcow2', '1M'], { cwd: dir });
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 64K', 'base.qcow2'], { cwd: dir });
});

/** A copy of base.qcow2 with the u64 at `at` set to `v`. */
function patched(name: string, at: number, v: bigint): string {
  copyFileSync(join(dir, 'base.qcow2'), join(dir, name));
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  const fd = openSync(join(dir, name), 'r+');
  writeSync(fd, b, 0, 8, at);
  closeSync(fd);
  return name;
}

const qemu = (args: string[]) => {
  try {
    return {
      code: 0,
      out: execFileSync('qemu-img', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
      err: '',
    };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, out: x.stdout, err: x.stderr };
  }
};

describe('header offsets past 2^53', () => {
  it.each([
    ['l1_table_offset', 40],
    ['refcount_table_offset', 48],
    ['snapshots_offset', 64],
  ] as const)('%s = 2^60 maps as qemu-img maps it', async (field, at) => {
    const f = patched(`${field}.qcow2`, at, 1n << 60n);
    const q = qemu(['map', '--output=json', f]);
    expect(q.code).toBe(0);
    const o = await runCli(['map', '--output=json', '--qemu=7.2', f], dir);
    expect(o.code).toBe(0);
    expect(o.stdout).toBe(q.out);
  });
  it('an unaligned l1_table_offset past 2^53 is refused as qemu-img refuses it', async () => {
    const f = patched('l1-unaligned.qcow2', 40, (1n << 60n) + 512n);
    const q = qemu(['map', f]);
    expect(q.code).toBe(1);
    expect(q.err).toMatch(/Active L1 table offset invalid/);
    const o = await runCli(['map', f], dir);
    expect(o.code).toBe(1);
    expect(o.stderr).toMatch(/Active L1 table offset invalid/);
  });
});
