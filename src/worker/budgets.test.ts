/**
 * The page's worker on hostile images (issue 15 points 1 and 2), built at test time by
 * fixtures/hostile.py (one L2 table whose 8192 entries all name one data cluster, shared by
 * every L1 entry: 8192 extents per L1 entry, QEMU maps each as its own line):
 *  - the scan lets the worker read its messages although it never waits for a read, so a cancel
 *    ends it at once;
 *  - an open holds at most its extents budget: just under it the whole map, just over it the
 *    map up to the L2 table that passed it (equal to the start of qemu-img map's), then a
 *    LimitError naming that table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Reply } from '../protocol/calls.ts';
import { FIXTURES } from '../testing/fixtures.ts';
import { CallFailed, workerHarness } from '../testing/workerHarness.ts';
import { PAGE_MAX_EXTENTS } from './budgets.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-page-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fixtures/hostile.py shared-L2 image with `l1` L1 entries (8192 extents each), as a File. */
function sharedL2(l1: number): { file: File; path: string } {
  const path = join(dir, `shared-${l1}.qcow2`);
  execFileSync('python3', [join(FIXTURES, 'hostile.py'), 'shared-l2', path, '--l1', String(l1)]);
  return { file: new File([readFileSync(path)], `shared-${l1}.qcow2`), path };
}
const files = (f: File) => ({ kind: 'files' as const, files: [f] });
const PER_TABLE = 8192;
const L2_AT = 4 * 65536; // hostile.py: header, refcount table, refcount block, L1, then the L2 table

describe('a scan that never waits for a read', () => {
  it('lets the worker read a cancel: the open ends cancelled, long before it would be done', async () => {
    const { file } = sharedL2(64); // 524,288 extents: ~1 s to map on this machine
    const w = workerHarness();
    let cancelledAt = 0;
    const sent = new Promise<void>((resolve) =>
      setTimeout(() => {
        cancelledAt = performance.now();
        void w.handle({ v: PROTOCOL_VERSION, id: 99, method: 'cancel', params: { channel: 'open:main' } });
        resolve();
      }, 100),
    );
    const t0 = performance.now();
    await w.handle({
      v: PROTOCOL_VERSION,
      id: 1,
      method: 'open',
      params: { slot: 'main', from: files(file) },
      channel: 'open:main',
    });
    const ended = performance.now();
    await sent;
    // The timer ran while the scan went on (the scan let the event loop turn), and the open ended
    // at its next cancellation point: no map was answered.
    expect(cancelledAt).toBeGreaterThan(t0);
    expect(cancelledAt).toBeLessThan(ended);
    expect(w.final(1)?.type).toBe('cancelled');
    expect(w.out.some((m) => m.id === 1 && m.type === 'result')).toBe(false);
    // It ended inside the scan: the last L2 table was never reached (its progress is always posted).
    const progress = w.out.filter((m) => m.id === 1 && m.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((m) => m.type === 'progress' && m.done < m.total)).toBe(true);
  });
});

describe('the extents budget of an open (PAGE_MAX_EXTENTS)', () => {
  const { file, path } = sharedL2(8);
  const qemu = JSON.parse(
    execFileSync('qemu-img', ['map', '--output=json', '-f', 'qcow2', path], {
      maxBuffer: 2 ** 28,
      encoding: 'utf8',
    }),
  ) as object[];

  it('is large enough for a fragmented 512 GiB image and below the 12.6 M extents of a 384 KiB hostile one', () => {
    expect(PAGE_MAX_EXTENTS).toBeGreaterThanOrEqual((512 * 2 ** 30) / 65536);
    expect(PAGE_MAX_EXTENTS).toBeLessThan(1536 * PER_TABLE);
  });

  it('just under: the whole map, as qemu-img maps it', async () => {
    const w = workerHarness({ maxExtents: 8 * PER_TABLE });
    const { info } = await w.call('open', { slot: 'main', from: files(file) });
    expect(info.complete).toBe(true);
    expect(info.error).toBeUndefined();
    const map = await w.call('export', {
      source: info.id,
      view: '',
      format: 'qemu-img-map-json',
      release: 7002,
    });
    expect(JSON.parse(map.text)).toEqual(qemu);
  });

  it('just over: the map up to the table that passed it, then a LimitError naming that table', async () => {
    const w = workerHarness({ maxExtents: 8 * PER_TABLE - 1 });
    const e = await w.call('open', { slot: 'main', from: files(file) }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CallFailed);
    const r = (e as CallFailed).reply as Extract<Reply, { type: 'error' }>;
    expect(r.error).toMatchObject({ kind: 'limit', file: 'shared-8.qcow2', structure: 'L2 table (L1[7])' });
    expect(r.error.offset).toBe(L2_AT);
    expect(r.error.message).toBe(
      `shared-8.qcow2: L2 table (L1[7]) at 0x40000: ${8 * PER_TABLE} extents up to guest offset 0x100000000, more than the page keeps (${8 * PER_TABLE - 1}); the map is shown up to there, and 'clusterscope map' streams it whole (PAGE_MAX_EXTENTS)`,
    );
    // The last part posted before the error is the map so far, equal to qemu-img map's start.
    const parts = w.out.filter((m) => m.id === 1 && m.type === 'partial');
    const last =
      parts.at(-1)?.type === 'partial'
        ? (parts.at(-1) as { partial: { info: { id: number; mappedEnd: number } } }).partial
        : undefined;
    expect(last?.info.mappedEnd).toBe(8 * PER_TABLE * 65536);
    const map = await w.call('export', {
      source: last!.info.id,
      view: '',
      format: 'qemu-img-map-json',
      release: 7002,
    });
    expect(JSON.parse(map.text)).toEqual(qemu);
  });

  it('passed early: the table named is the first over it, the map stops after it', async () => {
    const w = workerHarness({ maxExtents: 4 * PER_TABLE });
    const e = (await w
      .call('open', { slot: 'main', from: files(file) })
      .catch((x: unknown) => x)) as CallFailed;
    const r = e.reply as Extract<Reply, { type: 'error' }>;
    expect(r.error.structure).toBe('L2 table (L1[4])');
    const last = w.out.filter((m) => m.id === 1 && m.type === 'partial').at(-1) as {
      partial: { info: { id: number; mappedEnd: number } };
    };
    expect(last.partial.info.mappedEnd).toBe(5 * PER_TABLE * 65536);
    const map = await w.call('export', {
      source: last.partial.info.id,
      view: '',
      format: 'qemu-img-map-json',
      release: 7002,
    });
    expect(JSON.parse(map.text)).toEqual(qemu.slice(0, 5 * PER_TABLE));
  });
});
