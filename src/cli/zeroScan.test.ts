/**
 * The one inherent difference from QEMU, tested as a difference (README, "One inherent
 * difference"). On a sparse preallocation=metadata image qemu-img says "zero": true,
 * "data": true (host holes, reference §3.5); a dense copy of the same bytes (what a git checkout
 * or a browser File is) makes QEMU say data, and so does clusterscope. --zero-scan reads the
 * data clusters and reproduces QEMU's sparse-file answer.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import { FIXTURES, golden, parseNbdinfo } from '../testing/fixtures.ts';

const dir = `${FIXTURES}/images/prealloc-metadata`;

describe('preallocation=metadata: host holes', () => {
  it('without a content scan, clusterscope equals QEMU on the dense file', async () => {
    const r = await runCli(['map', '--output=json', '--qemu=7.2', 'top.qcow2'], dir);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(golden('prealloc-metadata', 'map.json')!));
  });

  it('and differs from QEMU on the sparse file exactly in "zero"', async () => {
    const r = await runCli(['map', '--output=json', '--qemu=7.2', 'top.qcow2'], dir);
    const sparse = JSON.parse(golden('prealloc-metadata', 'map.sparse.json')!) as { zero: boolean }[];
    const ours = JSON.parse(r.stdout) as { zero: boolean }[];
    expect(ours).not.toEqual(sparse);
    expect(ours.map((e) => ({ ...e, zero: true }))).toEqual(sparse.map((e) => ({ ...e, zero: true })));
  });

  it('--zero-scan reproduces QEMU on the sparse file (map and NBD)', async () => {
    const r = await runCli(['map', '--output=json', '--qemu=7.2', '--zero-scan', 'top.qcow2'], dir);
    expect(JSON.parse(r.stdout)).toEqual(JSON.parse(golden('prealloc-metadata', 'map.sparse.json')!));
    const n = await runCli(['nbd-map', '--qemu=7.2', '--zero-scan', 'top.qcow2'], dir);
    expect(parseNbdinfo(n.stdout)).toEqual(parseNbdinfo(golden('prealloc-metadata', 'nbd-base.sparse.txt')!));
  });
});
