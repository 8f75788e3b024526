/**
 * Each memory budget of the engine (limits.ts), with an input just under it and one just over:
 * hostile images built by fixtures/hostile.py (shared L2 tables: an extent, an error or a
 * finding per entry). A budget in the gigabytes is tested at the peak a small image needs,
 * measured first: the same image must open within exactly that budget and be refused, in a
 * LimitError naming the budget, with one byte less.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeFileSource } from '../../cli/nodeSource.ts';
import { FIXTURES } from '../../testing/fixtures.ts';
import { MemoryBudget } from '../budget.ts';
import { type Chain, closeChain, openChain } from '../chain/chain.ts';
import { LimitError } from '../errors.ts';
import { MapStream } from '../interpret/mapStream.ts';
import { baseAllocation } from '../interpret/nbd.ts';
import { qemuImgMap } from '../interpret/qemuImgMap.ts';
import { ERROR_BYTES, MAX_FINDINGS, OUTPUT_CHUNK_BYTES } from '../limits.ts';
import { BDRV_BLOCK_ALLOCATED, BDRV_BLOCK_DATA, BDRV_BLOCK_OFFSET_VALID } from './flags.ts';
import { KIND_NORMAL } from './kinds.ts';
import { layerStatus } from './layerStatus.ts';
import { chainStatus } from './resolve.ts';
import { streamChainStatus } from './stream.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-budgets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function hostile(name: string, args: string[]): Promise<Chain> {
  const path = join(dir, name);
  execFileSync('python3', [join(FIXTURES, 'hostile.py'), 'shared-l2', path, ...args]);
  return openChain(await NodeFileSource.open(path, name), { resolve: async () => undefined });
}

/** Runs `f` with an unbounded budget to learn its peak, then at the peak and one byte below. */
async function underAndOver(name: string, f: (b: MemoryBudget) => Promise<unknown>) {
  const probe = new MemoryBudget(name, Number.POSITIVE_INFINITY);
  await f(probe);
  const under = new MemoryBudget(name, probe.peak);
  await f(under);
  const over = new MemoryBudget(name, probe.peak - 1);
  const err = await f(over).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { peak: probe.peak, under, err };
}

describe('MAX_STATUS_BYTES: every layer, the chain and their copies share one budget', () => {
  it('32768 extents (a shared L2 table, 4 L1 entries): open at the peak they need, refused one byte below', async () => {
    const chain = await hostile('status.qcow2', ['--l1', '4']);
    try {
      const r = await underAndOver('MAX_STATUS_BYTES', (budget) => chainStatus(chain, { budget }));
      // Layer and chain arrays together (28 bytes an extent, growth included): more than one array's worth.
      expect(r.peak).toBeGreaterThan(2 * 32768 * 28);
      expect(r.under.peak).toBeLessThanOrEqual(r.peak);
      expect(r.err).toBeInstanceOf(LimitError);
      expect((r.err as Error).message).toMatch(
        /^status\.qcow2: block status: .* more than MAX_STATUS_BYTES \(\d+ bytes\)$/,
      );
    } finally {
      await closeChain(chain);
    }
  });
});

describe('MAX_STATUS_BYTES and partial maps', () => {
  it('a partial map replaces the one before it: partials made after every table do not add up', async () => {
    const chain = await hostile('partials.qcow2', ['--l1', '16']);
    try {
      const whole = new MemoryBudget('MAX_STATUS_BYTES', Number.POSITIVE_INFINITY);
      await chainStatus(chain, { budget: whole });
      // Within what the whole map needs, with a partial resolved after each of the 16 tables
      // (their copies together would hold about 8 times the final one).
      const budget = new MemoryBudget('MAX_STATUS_BYTES', whole.peak);
      let partials = 0;
      const st = await chainStatus(chain, {
        budget,
        onPartial: (status) => {
          partials++;
          status();
        },
      });
      expect(partials).toBe(16);
      expect(st.extents.count).toBe(16 * 8192);
    } finally {
      await closeChain(chain);
    }
  });
});

describe('ERROR_BYTES: errors kept for later are charged to the same budget', () => {
  it('8192 entries naming an unaligned cluster: 8192 errors kept, within the peak and not one byte less', async () => {
    const chain = await hostile('errors.qcow2', ['--l1', '1', '--entry-offset', '0x50200']);
    try {
      const layer = chain.layers[0]!;
      const r = await underAndOver('MAX_STATUS_BYTES', (budget) => layerStatus(layer, { budget }));
      expect(r.peak).toBeGreaterThanOrEqual(8192 * ERROR_BYTES);
      expect(r.err).toBeInstanceOf(LimitError);
      expect((r.err as Error).message).toMatch(/more than MAX_STATUS_BYTES/);
    } finally {
      await closeChain(chain);
    }
  });
});

describe('MAX_FINDINGS: findings kept per layer', () => {
  const findings = async (l1: number) => {
    const chain = await hostile(`findings-${l1}.qcow2`, ['--l1', String(l1), '--l2-offset', '0x10000000']);
    try {
      const st = await chainStatus(chain);
      const streamed: string[] = [];
      await streamChainStatus(chain, { push() {} }, { onFinding: (f) => streamed.push(f.message) });
      return { whole: st.findings.map((f) => f.message), streamed };
    } finally {
      await closeChain(chain);
    }
  };
  it(`${MAX_FINDINGS} L2 tables past the end of the file: ${MAX_FINDINGS} findings`, async () => {
    const f = await findings(MAX_FINDINGS);
    expect(f.whole).toHaveLength(MAX_FINDINGS);
    expect(f.streamed).toEqual(f.whole);
  });
  it(`${MAX_FINDINGS + 1}: ${MAX_FINDINGS} kept and one saying how many more`, async () => {
    const f = await findings(MAX_FINDINGS + 1);
    expect(f.whole).toHaveLength(MAX_FINDINGS + 1);
    expect(f.whole.at(-1)).toBe(`1 more findings not kept (MAX_FINDINGS ${MAX_FINDINGS})`);
    expect(f.streamed).toEqual(f.whole);
  });
});

/** Pushes `n` data extents that never merge (host offsets jump) into a qemu-img map stream. */
function jsonStream(n: number, opts: { chunkBytes?: number }) {
  const writes: Uint8Array[] = [];
  const s = new MapStream(qemuImgMap(), 'qemu-img-map-json', { write: (b) => writes.push(b), ...opts });
  const f = BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED;
  for (let i = 0; i < n; i++) s.push(i * 65536, 65536, KIND_NORMAL, f, 0, (2 * i + 5) * 65536);
  return { s, writes };
}

describe('OUTPUT_CHUNK_BYTES: streamed text leaves in chunks, never the whole map', () => {
  it('100 000 entries (~11 MB of JSON) are written in chunks of OUTPUT_CHUNK_BYTES and one entry more at most', () => {
    const { s, writes } = jsonStream(100_000, {});
    s.finish();
    expect(writes.length).toBeGreaterThan(100);
    for (const w of writes.slice(0, -1)) {
      expect(w.length).toBeGreaterThanOrEqual(OUTPUT_CHUNK_BYTES);
      expect(w.length).toBeLessThan(OUTPUT_CHUNK_BYTES + 200);
    }
  });
});

describe('NBDINFO_HOLD_BYTES: nbdinfo text held back so a failure prints nothing, as nbdinfo', () => {
  const nbd = (n: number, hold: number, fail: boolean) => {
    const writes: Uint8Array[] = [];
    const s = new MapStream(baseAllocation(), 'nbdinfo', {
      write: (b) => writes.push(b),
      chunkBytes: 1,
      holdBytes: hold,
    });
    for (let i = 0; i < n; i++) s.push(i * 512, 512, KIND_NORMAL, i % 2 ? 0 : BDRV_BLOCK_DATA, 0, -1);
    if (fail) s.fail();
    else s.finish();
    return writes.reduce((k, w) => k + w.length, 0);
  };
  // Each nbdinfo line of these extents is 27 to 32 bytes; 99 of them fit 4000 bytes, 150 do not.
  it('a failure within the held text prints nothing', () => {
    expect(nbd(99, 4000, true)).toBe(0);
    expect(nbd(99, 4000, false)).toBeGreaterThan(0);
  });
  it('past it the text streams, and a failure leaves what was printed', () => {
    const printed = nbd(150, 4000, true);
    expect(printed).toBeGreaterThan(4000);
  });
});
