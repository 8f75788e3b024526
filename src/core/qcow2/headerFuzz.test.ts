/** Header refusals the fuzz oracle (src/cli/fuzzOracle.test.ts) found out of QEMU's order. */
import { describe, expect, it } from 'vitest';
import { buildImage } from '../../testing/fuzz/generate.ts';
import { parseHeader } from './header.ts';

const base = () =>
  buildImage({
    version: 3,
    clusterBits: 16,
    extendedL2: false,
    refcountOrder: 4,
    sectors: 128,
    l1: [],
    l1Slack: 0,
    refcounts: 'exact',
    snapshots: [],
    bitmaps: [],
    unknownExtensions: [],
    backing: 'none',
    dirty: false,
    seed: 1,
  });

describe('validate_compression_type() order', () => {
  it('an unknown compression type without incompatible bit 3 is unsupported, as QEMU says (oracle seed 10135)', () => {
    const b = base();
    b[104] = 0x40;
    expect(() => parseHeader('t.qcow2', b)).toThrow(
      expect.objectContaining({ kind: 'unsupported', detail: 'qcow2: unknown compression type: 64' }),
    );
  });
  it('zstd (1) without the bit is still corrupt ("must be set")', () => {
    const b = base();
    b[104] = 1;
    expect(() => parseHeader('t.qcow2', b)).toThrow(expect.objectContaining({ kind: 'corrupt' }));
  });
});
