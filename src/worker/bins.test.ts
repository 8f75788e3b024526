import fc from 'fast-check';
import { describe, it } from 'vitest';
import { nbdDepth, nbdFlags } from '../core/interpret/nbd.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_COMPRESSED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_ZERO,
} from '../core/status/flags.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import { fixtureStatus } from '../testing/openFixture.ts';
import { binStatus, mappedEnd } from './bins.ts';
import {
  BIN_ABSENT,
  BIN_COMPRESSED,
  BIN_DATA,
  BIN_DEPTH,
  BIN_ERROR,
  BIN_HOLE,
  BIN_HOLE_52,
  BIN_TOP,
  BIN_ZERO,
  binClassCount,
} from './protocol.ts';

/** The definition, slowly: each bin's share of bytes in each class, extent by extent. */
function naive(st: ChainStatus, start: number, end: number, n: number): number[] {
  const classes = binClassCount(st.chain.layers.length);
  const out = new Array<number>(n * classes).fill(0);
  const e = st.extents;
  for (let b = 0; b < n; b++) {
    const lo = start + ((end - start) * b) / n;
    const hi = start + ((end - start) * (b + 1)) / n;
    const put = (from: number, to: number, c: number) => {
      const len = Math.min(hi, to) - Math.max(lo, from);
      if (len > 0) out[b * classes + c]! += len / (hi - lo);
    };
    for (let i = 0; i < e.count; i++) {
      const f = e.flags[i]!;
      const nf = nbdFlags(st, i);
      const s = e.start[i]!;
      const t = s + e.length[i]!;
      if (f & BDRV_BLOCK_DATA) put(s, t, BIN_DATA);
      if (f & BDRV_BLOCK_ZERO) put(s, t, BIN_ZERO);
      if (!(f & BDRV_BLOCK_ALLOCATED)) put(s, t, BIN_ABSENT);
      if (!(nf & BDRV_BLOCK_DATA)) put(s, t, BIN_HOLE);
      if (!(nf & BDRV_BLOCK_ALLOCATED)) put(s, t, BIN_HOLE_52);
      if (f & BDRV_BLOCK_ALLOCATED && e.layer[i] === 0) put(s, t, BIN_TOP);
      if (f & BDRV_BLOCK_COMPRESSED) put(s, t, BIN_COMPRESSED);
      put(s, t, BIN_DEPTH + nbdDepth(st, i));
    }
    if (st.error) put(mappedEnd(st), st.length, BIN_ERROR);
  }
  return out;
}

describe('binStatus', () => {
  for (const name of ['chain-3', 'extl2', 'compressed-zlib', 'short-base', 'l2-unaligned']) {
    it(`equals the per-bin definition on ${name} for any range and bin count`, async () => {
      const st = await fixtureStatus(name);
      fc.assert(
        fc.property(
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.integer({ min: 1, max: 300 }),
          (a, b, n) => {
            const start = Math.floor(Math.min(a, b) * st.length);
            const end = Math.max(start + 1, Math.ceil(Math.max(a, b) * st.length));
            const got = binStatus(st, start, end, n);
            const want = naive(st, start, end, n);
            for (let k = 0; k < want.length; k++) {
              if (Math.abs(got[k]! - want[k]!) > 1e-5) return false;
            }
            return true;
          },
        ),
        { numRuns: 60 },
      );
    });
  }
});
