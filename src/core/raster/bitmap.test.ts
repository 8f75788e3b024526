/**
 * A bitmap on the one raster: heatmap bins carry, per bin, the share of dirty bytes and of
 * what an incremental backup reads (data / zero / absent), equal to the shares nbdinfo's maps
 * of the same qemu-nbd -B export give (fixtures/golden); a bitmap's lane is its dirty ranges.
 */
import { describe, expect, it } from 'vitest';
import { goldenBackupRuns } from '../../testing/backupGolden.ts';
import { openFixtureChain } from '../../testing/fixtureChain.ts';
import { golden, parseNbdinfo } from '../../testing/fixtures.ts';
import {
  BACKUP_ABSENT,
  BACKUP_DATA,
  BACKUP_ZERO,
  dirtyBitmap,
  incrementalBackupRead,
  loadDirtyBitmap,
} from '../interpret/bitmap.ts';
import { chainStatus } from '../status/resolve.ts';
import { binChain, chainLanes } from './chain.ts';
import { C_BACKUP_ABSENT, C_BACKUP_DATA, C_BACKUP_ZERO, C_CLEAN, C_DIRTY } from './classes.ts';
import { rasterLanes } from './lanes.ts';

/** Share of [lo, hi) covered by runs of value v. */
const share = (runs: [number, number, number, ...unknown[]][], v: number, lo: number, hi: number) =>
  runs.reduce((a, [o, l, x]) => (x === v ? a + Math.max(0, Math.min(hi, o + l) - Math.max(lo, o)) : a), 0) /
  (hi - lo);

describe('bitmap raster', () => {
  it.each([
    ['bitmaps-checkpoints', 'cp1', 'nbd-bitmap-cp1.txt', 97],
    ['bitmaps-checkpoints', 'cp4', 'nbd-bitmap-cp4.txt', 512],
    ['bitmaps-chain', 'top-only', 'nbd-bitmap-top-only.txt', 40],
  ] as const)(
    '%s %s: dirty and backup shares per bin as the goldens give them (%i bins)',
    async (c, name, file, n) => {
      const chain = await openFixtureChain(c);
      const st = await chainStatus(chain);
      const b = (await loadDirtyBitmap(chain, name))!;
      const raster = { dirty: dirtyBitmap(b).compute(st), backup: incrementalBackupRead(st, b).runs };
      const f = await binChain(st, 0, st.length, n, raster);
      const classes = f.length / n;
      const dirty = parseNbdinfo(golden(c, file)!);
      const backup = goldenBackupRuns(c, file, st.length);
      for (let k = 0; k < n; k++) {
        const lo = (st.length * k) / n;
        const hi = (st.length * (k + 1)) / n;
        const at = (cls: number) => f[k * classes + cls]!;
        expect(at(C_DIRTY), `bin ${k}`).toBeCloseTo(share(dirty, 1, lo, hi), 5);
        expect(at(C_CLEAN), `bin ${k}`).toBeCloseTo(share(dirty, 0, lo, hi), 5);
        expect(at(C_BACKUP_DATA), `bin ${k}`).toBeCloseTo(share(backup, BACKUP_DATA, lo, hi), 5);
        expect(at(C_BACKUP_ZERO), `bin ${k}`).toBeCloseTo(share(backup, BACKUP_ZERO, lo, hi), 5);
        expect(at(C_BACKUP_ABSENT), `bin ${k}`).toBeCloseTo(share(backup, BACKUP_ABSENT, lo, hi), 5);
      }
      // Without a bitmap asked for, the bins carry none of its classes.
      const plain = await binChain(st, 0, st.length, n);
      for (let k = 0; k < n; k++) expect(plain[k * classes + C_DIRTY]).toBe(0);
    },
  );

  it("a bitmap's lane is dirty where nbdinfo says dirty, clean elsewhere", async () => {
    const chain = await openFixtureChain('bitmaps-checkpoints');
    const st = await chainStatus(chain);
    const d = dirtyBitmap((await loadDirtyBitmap(chain, 'cp2'))!).compute(st);
    const maps = { map: d, nbd: d, depth: d };
    const lanes = chainLanes(st, maps, [d, undefined]);
    expect(lanes).toHaveLength(st.chain.layers.length + 3 + 2);
    expect(lanes.at(-1)).toBeUndefined();
    const px = 64;
    const classes = C_DIRTY + 64;
    const r = await rasterLanes([lanes.at(-2)], classes, 0, st.length, px);
    const dirty = parseNbdinfo(golden('bitmaps-checkpoints', 'nbd-bitmap-cp2.txt')!);
    for (let p = 0; p < px; p++) {
      const lo = (st.length * p) / px;
      const hi = (st.length * (p + 1)) / px;
      expect(r[p * classes + C_DIRTY]).toBeCloseTo(share(dirty, 1, lo, hi), 5);
      expect(r[p * classes + C_CLEAN]).toBeCloseTo(share(dirty, 0, lo, hi), 5);
    }
  });
});
