/**
 * Dirty-bitmap ids, and what an incremental backup reads, checked against QEMU: the expected
 * classes come from nbdinfo's own maps of the same qemu-nbd -B export (qemu:dirty-bitmap:NAME,
 * base:allocation and qemu:allocation-depth goldens), intersected byte range by byte range.
 */
import { describe, expect, it } from 'vitest';
import { goldenBackupRuns } from '../../testing/backupGolden.ts';
import { openFixtureChain } from '../../testing/fixtureChain.ts';
import { chainStatus } from '../status/resolve.ts';
import {
  BACKUP_ABSENT,
  BACKUP_DATA,
  BACKUP_ZERO,
  dirtyBitmap,
  incrementalBackupRead,
  loadDirtyBitmap,
} from './bitmap.ts';
import { DIRTY_BITMAP_ID_PREFIX, dirtyBitmapId, dirtyBitmapName } from './ids.ts';

describe('dirty-bitmap ids (ids.ts)', () => {
  const names = ['b1', 'cp-2', 'Daily.Backup:1', '.', 'a b', 'ünïcode', '日本', '@,%', 'x'.repeat(1023)];
  it.each(names)('%s round-trips through an id of unreserved characters without @ or ,', (n) => {
    const id = dirtyBitmapId(n);
    expect(id).toMatch(/^[a-z0-9.-]+$/);
    expect(dirtyBitmapName(id)).toBe(n);
  });
  it('keeps lower-case letters, digits and - and escapes the rest as .XX', () => {
    expect(dirtyBitmapId('cp-2')).toBe('nbd-dirty-bitmap-cp-2');
    expect(dirtyBitmapId('Daily.Backup:1')).toBe('nbd-dirty-bitmap-.44aily.2e.42ackup.3a1');
  });
  it.each([
    ['a character escaped that is kept', `${DIRTY_BITMAP_ID_PREFIX}.62`],
    ['upper-case hex', `${DIRTY_BITMAP_ID_PREFIX}.2E`],
    ['a bare dot', `${DIRTY_BITMAP_ID_PREFIX}a.`],
    ['an empty name', DIRTY_BITMAP_ID_PREFIX],
    ['bytes that are not UTF-8', `${DIRTY_BITMAP_ID_PREFIX}.ff`],
    ['another interpretation', 'nbd-allocation-depth'],
  ])('refuses %s (one spelling per name)', (_, id) => {
    expect(dirtyBitmapName(id)).toBeUndefined();
  });
});

describe('incrementalBackupRead: dirty ∩ data / zero / absent, as nbdinfo sees the export', () => {
  const cases: [string, string, string][] = [
    ['bitmaps-checkpoints', 'cp1', 'nbd-bitmap-cp1.txt'],
    ['bitmaps-checkpoints', 'cp2', 'nbd-bitmap-cp2.txt'],
    ['bitmaps-checkpoints', 'cp4', 'nbd-bitmap-cp4.txt'],
    ['bitmaps-checkpoints', 'Daily.Backup:1', 'nbd-bitmap-.44aily.2e.42ackup.3a1.txt'],
    ['bitmaps-chain', 'base-only', 'nbd-bitmap-base-only.txt'],
    ['bitmaps-chain', 'both', 'nbd-bitmap-both.txt'],
    ['bitmaps-chain', 'top-only', 'nbd-bitmap-top-only.txt'],
  ];
  it.each(cases)('%s %s', async (caseName, name, file) => {
    const chain = await openFixtureChain(caseName);
    const st = await chainStatus(chain);
    const b = (await loadDirtyBitmap(chain, name))!;
    const r = incrementalBackupRead(st, b);
    const got: [number, number, number][] = [];
    for (let i = 0; i < r.runs.count; i++) {
      const p = got.at(-1);
      if (p && p[2] === r.runs.value[i]) p[1] += r.runs.length[i]!;
      else got.push([r.runs.start[i]!, r.runs.length[i]!, r.runs.value[i]!]);
    }
    const want = goldenBackupRuns(caseName, file, st.length);
    expect(got).toEqual(want);
    const sum = (v: number) => want.filter((w) => w[2] === v).reduce((a, w) => a + w[1], 0);
    expect(r.bytes).toEqual({
      dirty: sum(BACKUP_DATA) + sum(BACKUP_ZERO) + sum(BACKUP_ABSENT),
      data: sum(BACKUP_DATA),
      zero: sum(BACKUP_ZERO),
      absent: sum(BACKUP_ABSENT),
    });
    expect(r.bytes.dirty).toBeGreaterThan(0);
  });

  it('explains a dirty byte with the bit, the layer and why -B found it there', async () => {
    const chain = await openFixtureChain('bitmaps-chain');
    const st = await chainStatus(chain);
    const i = dirtyBitmap((await loadDirtyBitmap(chain, 'base-only'))!);
    expect(i.id).toBe('nbd-dirty-bitmap-base-only');
    expect(i.explain(st, 458752)).toMatch(
      /^qemu:dirty-bitmap:base-only 1 \(dirty\): bit 7 of bitmap 'base-only' of base.qcow2 \(layer 1;.*no layer above/,
    );
    expect(i.explain(st, 600000)).toMatch(/0 \(clean\): the offset lies past the end of/);
  });
});
