import fc from 'fast-check';
import { describe, it } from 'vitest';
import { fixtureStatus } from '../../testing/openFixture.ts';
import { nbdDepth, nbdFlags } from '../interpret/nbd.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_COMPRESSED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_ZERO,
} from '../status/flags.ts';
import type { ChainStatus } from '../status/resolve.ts';
import { binChain, mappedEnd } from './chain.ts';
import {
  C_ABSENT,
  C_COMPRESSED,
  C_DATA,
  C_DEPTH,
  C_ERROR,
  C_HOLE,
  C_HOLE_52,
  C_TOP,
  C_ZERO,
  chainClassCount,
} from './classes.ts';

/** The definition, slowly: each bin's share of bytes in each class, extent by extent. */
function naive(st: ChainStatus, start: number, end: number, n: number): number[] {
  const classes = chainClassCount(st.chain.layers.length);
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
      // Content is one partition: absent (in no layer), else zero, else data.
      if (!(f & BDRV_BLOCK_ALLOCATED)) put(s, t, C_ABSENT);
      else if (f & BDRV_BLOCK_ZERO) put(s, t, C_ZERO);
      else put(s, t, C_DATA);
      if (!(nf & BDRV_BLOCK_DATA)) put(s, t, C_HOLE);
      if (!(nf & BDRV_BLOCK_ALLOCATED)) put(s, t, C_HOLE_52);
      if (f & BDRV_BLOCK_ALLOCATED && e.layer[i] === 0) put(s, t, C_TOP);
      if (f & BDRV_BLOCK_COMPRESSED) put(s, t, C_COMPRESSED);
      put(s, t, C_DEPTH + nbdDepth(st, i));
    }
    if (st.error) put(mappedEnd(st), st.length, C_ERROR);
  }
  return out;
}

describe('binChain', () => {
  for (const name of ['chain-3', 'extl2', 'compressed-zlib', 'short-base', 'l2-unaligned']) {
    it(`equals the per-bin definition on ${name} for any range and bin count`, async () => {
      const st = await fixtureStatus(name);
      await fc.assert(
        fc.asyncProperty(
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.integer({ min: 1, max: 300 }),
          async (a, b, n) => {
            const start = Math.floor(Math.min(a, b) * st.length);
            const end = Math.max(start + 1, Math.ceil(Math.max(a, b) * st.length));
            const got = await binChain(st, start, end, n);
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
