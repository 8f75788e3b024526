/**
 * The page's worker on hostile images (issue 15 points 1-3), built at test time:
 * fixtures/hostile.py (one L2 table whose 8192 entries all name one data cluster, shared by
 * every L1 entry: 8192 extents per L1 entry, QEMU maps each as its own line) and
 * fixtures/gen-many-snapshots.py (a qemu-img made snapshot, copied N times):
 *  - the scan lets the worker read its messages although it never waits for a read, so a cancel
 *    ends it at once;
 *  - an open holds at most its extents budget: just under it the whole map, just over it the
 *    map up to the L2 table that passed it (equal to the start of qemu-img map's), then a
 *    LimitError naming that table;
 *  - 65,535 snapshots are listed a page at a time, as qemu-img info lists them; the choices the
 *    diff's pickers get, the views kept and the findings listed have budgets of their own;
 *  - a chain of 300 files (fixtures/gen-long-chain.py) maps its top MAX_CHAIN_DEPTH layers as
 *    QEMU maps them cut there, and the L1 tables a drop opens have a budget.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CHAIN_DEPTH } from '../core/limits.ts';
import { chainStatus } from '../core/status/resolve.ts';
import { PROTOCOL_VERSION, type Reply } from '../protocol/calls.ts';
import { FIXTURES } from '../testing/fixtures.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { CallFailed, workerHarness } from '../testing/workerHarness.ts';
import { BlobSource } from './blobSource.ts';
import {
  CHAIN_TABLE_BYTES,
  MAX_FINDINGS_LISTED,
  MAX_SNAPSHOT_CHOICES,
  PAGE_MAX_EXTENTS,
  VIEWS_KEPT,
} from './budgets.ts';
import { openDropped } from './chainFiles.ts';
import { ImageSource } from './imageSource.ts';

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

describe('a newer open and the work still reading the map it replaces', () => {
  it('ends the lanes and bins rastering the old map at their next cancellation point', async () => {
    const { file } = sharedL2(128); // 1 M extents: lanes and bins walk them all
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: files(file) });
    const px = { source: info.id, view: '', start: 0, end: info.length };
    // Sent without waiting, as the page sends them; then the person drops another image.
    const lanes = w.handle({ v: PROTOCOL_VERSION, id: 50, method: 'lanes', params: { ...px, px: 800 } });
    const bins = w.handle({ v: PROTOCOL_VERSION, id: 51, method: 'bins', params: { ...px, n: 4096 } });
    let openedAt = 0;
    const newer = new Promise<void>((resolve) =>
      setTimeout(() => {
        const good = fixtureFile('compressed-zlib', 'top.qcow2');
        void w
          .handle({
            v: PROTOCOL_VERSION,
            id: 52,
            method: 'open',
            params: { slot: 'main', from: files(good) },
          })
          .then(() => {
            openedAt = performance.now();
            resolve();
          });
      }, 20),
    );
    await Promise.all([lanes, bins, newer]);
    expect(w.final(52)?.type).toBe('result');
    // The old map's raster never finished: both ended cancelled, not with a result.
    expect(w.final(50)?.type).toBe('cancelled');
    expect(w.final(51)?.type).toBe('cancelled');
    expect(openedAt).toBeGreaterThan(0);
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

  it('is large enough for a fragmented 384 GiB image and below the 12.6 M extents of a 384 KiB hostile one', () => {
    expect(PAGE_MAX_EXTENTS).toBeGreaterThanOrEqual((384 * 2 ** 30) / 65536);
    // Below a power of two with room for one more L2 table: the arrays stop at 8 Mi extents.
    expect(PAGE_MAX_EXTENTS + PER_TABLE).toBeLessThanOrEqual(8 * 2 ** 20);
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
      `shared-8.qcow2: L2 table (L1[7]) at 0x40000: ${8 * PER_TABLE} extents up to guest offset 0x100000000, more than the page keeps (PAGE_MAX_EXTENTS ${8 * PER_TABLE - 1}); the map is shown up to there, and 'clusterscope map' streams it whole`,
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

/** An image with `n` internal snapshots s00001.. (qemu-img made one, gen-many-snapshots.py the rest). */
function manySnapshots(n: number): { file: File; path: string } {
  const src = join(dir, `snap-src-${n}.qcow2`);
  const path = join(dir, `snap-${n}.qcow2`);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', src, '1M']);
  execFileSync('qemu-io', ['-c', 'write -q -P 0x11 0 64k', src]);
  execFileSync('qemu-img', ['snapshot', '-c', 's0', src]);
  execFileSync('python3', [join(FIXTURES, 'gen-many-snapshots.py'), src, path, String(n)]);
  return { file: new File([readFileSync(path)], `snap-${n}.qcow2`), path };
}

describe('65,535 internal snapshots (a legal count: QEMU allows 65,536)', () => {
  const { file, path } = manySnapshots(65535);
  const info = JSON.parse(
    execFileSync('qemu-img', ['info', '--output=json', '-f', 'qcow2', path], {
      maxBuffer: 2 ** 28,
      encoding: 'utf8',
    }),
  ) as { snapshots: { id: string; name: string; 'date-sec': number }[] };

  it('are listed a page at a time, as qemu-img info lists them; a tag finds its row', async () => {
    const w = workerHarness();
    const { info: chain } = await w.call('open', { slot: 'main', from: files(file) });
    expect(chain.layers[0]!.snapshots).toBe(65535);
    const report = await w.call('report', { source: chain.id });
    expect(report.snapshotCount).toBe(info.snapshots.length);
    // qemu-img check walks every snapshot's tables (37 s here): left for a click.
    expect(report.check).toBeUndefined();
    expect(report.checkDeferred?.bytes).toBeGreaterThan(65535 * 65536);
    const page = await w.call('snapshotRows', { source: chain.id, from: 65500, count: 100 });
    expect([page.total, page.from, page.cells.length]).toEqual([65535, 65500, 35]);
    expect(page.cells.map((c) => [c[0], c[1]])).toEqual(
      info.snapshots.slice(65500).map((x) => [x.id, x.name]),
    );
    const date = new Date(info.snapshots[65500]!['date-sec'] * 1000).toISOString().replace('T', ' ');
    expect(page.cells[0]![2]).toBe(date.slice(0, 19));
    const found = await w.call('snapshotRows', { source: chain.id, at: 's40000', count: 1 });
    expect([found.from, found.cells[0]![1]]).toEqual([39999, 's40000']);
    const byId = await w.call('snapshotRows', { source: chain.id, at: '123', count: 1 });
    expect(byId.cells[0]![1]).toBe('s00123');
    const none = await w.call('snapshotRows', { source: chain.id, at: 'nope', count: 1 });
    expect(none.cells).toEqual([]);
    // The diff's pickers get the first MAX_SNAPSHOT_CHOICES.
    const names = await w.call('snapshots', { source: chain.id });
    expect(names.map((x) => x.name)).toEqual(
      info.snapshots.slice(0, MAX_SNAPSHOT_CHOICES).map((x) => x.name),
    );
  });

  it('choices: just under MAX_SNAPSHOT_CHOICES all of them, just over the first ones', async () => {
    for (const n of [MAX_SNAPSHOT_CHOICES, MAX_SNAPSHOT_CHOICES + 1]) {
      const w = workerHarness();
      const { info: chain } = await w.call('open', { slot: 'main', from: files(manySnapshots(n).file) });
      const names = await w.call('snapshots', { source: chain.id });
      expect(names).toHaveLength(MAX_SNAPSHOT_CHOICES);
      expect(names.at(-1)?.name).toBe(`s${String(MAX_SNAPSHOT_CHOICES).padStart(5, '0')}`);
      expect((await w.call('snapshotRows', { source: chain.id, count: 1000 })).total).toBe(n);
    }
  });

  it('views kept: at most VIEWS_KEPT besides the chain as opened, the least recently used dropped', async () => {
    const { file: f } = manySnapshots(VIEWS_KEPT + 2);
    const dropped = await openDropped([{ name: f.name, source: new BlobSource(f.name, f) }]);
    const src = new ImageSource(1, dropped, await chainStatus(dropped.chain));
    src.update(src.status, true);
    const signal = new AbortController().signal;
    const view = (k: number) => src.view(`snapshot:s${String(k).padStart(5, '0')}`, signal);
    for (let k = 1; k <= VIEWS_KEPT; k++) await view(k);
    expect(src.viewsKept).toBe(VIEWS_KEPT + 1);
    await view(1); // used again: now the most recent
    await view(VIEWS_KEPT + 1);
    expect(src.viewsKept).toBe(VIEWS_KEPT + 1);
    const kept = (src as unknown as { views: Map<string, unknown> }).views;
    expect([...kept.keys()]).toEqual([
      '',
      'snapshot:s00003',
      'snapshot:s00004',
      'snapshot:s00001',
      'snapshot:s00005',
    ]);
  });
});

describe('findings listed to the page (MAX_FINDINGS_LISTED)', () => {
  /** Every L1 entry names an L2 table past the end of the file: QEMU reads zeros, one finding each. */
  const pastEof = async (l1: number) => {
    const path = join(dir, `eof-${l1}.qcow2`);
    execFileSync('python3', [
      join(FIXTURES, 'hostile.py'),
      'shared-l2',
      path,
      '--l1',
      String(l1),
      '--cluster-bits',
      '9',
      '--l2-offset',
      '0x10000000',
    ]);
    const w = workerHarness();
    return (await w.call('open', { slot: 'main', from: files(new File([readFileSync(path)], 'eof.qcow2')) }))
      .info;
  };

  it('just under: every finding', async () => {
    const info = await pastEof(MAX_FINDINGS_LISTED);
    expect(info.findings).toHaveLength(MAX_FINDINGS_LISTED);
    expect(info.findings[0]!.message).toMatch(/lies past end of file/);
  });

  it('just over: the first ones, and one counting the rest', async () => {
    const info = await pastEof(MAX_FINDINGS_LISTED + 1);
    expect(info.findings).toHaveLength(MAX_FINDINGS_LISTED + 1);
    expect(info.findings.at(-1)).toEqual({
      file: 'eof.qcow2',
      structure: 'findings',
      message: `1 more findings not listed (MAX_FINDINGS_LISTED ${MAX_FINDINGS_LISTED})`,
    });
  });
});

/** A gen-long-chain.py chain of `n` files (l000 the base), as Files in drop order. */
function longChain(n: number, args: string[] = []): { files: File[]; at: string } {
  const at = join(dir, `chain-${n}-${args.join('')}`);
  execFileSync('python3', [join(FIXTURES, 'gen-long-chain.py'), at, String(n), ...args]);
  const names = Array.from({ length: n }, (_, i) => `l${String(i).padStart(3, '0')}.qcow2`);
  return { files: names.map((f) => new File([readFileSync(join(at, f))], f)), at };
}

describe('a chain of 300 files, dropped at once', () => {
  it('maps its top MAX_CHAIN_DEPTH layers as QEMU maps them cut there, and says where it was cut', async () => {
    const { files: list, at } = longChain(300);
    const w = workerHarness();
    const { info } = await w.call('open', { slot: 'main', from: { kind: 'files', files: list } });
    expect(info.layers).toHaveLength(MAX_CHAIN_DEPTH);
    expect(info.layers[0]!.name).toBe('l299.qcow2');
    expect(info.rejected).toEqual([
      expect.objectContaining({
        kind: 'limit',
        file: 'l044.qcow2',
        structure: 'backing file name',
        offset: 0x100,
        message:
          'l044.qcow2: backing file name at 0x100: backing chain deeper than 256 layers (MAX_CHAIN_DEPTH)',
      }),
    ]);
    expect(info.unused.map((u) => u.name)).toEqual(list.slice(0, 300 - MAX_CHAIN_DEPTH).map((f) => f.name));
    expect(info.unused[0]!.why).toBe(
      `in the chain of ${list[299]!.name}, below its cut at ${MAX_CHAIN_DEPTH} layers (MAX_CHAIN_DEPTH)`,
    );
    // QEMU, told the same cut (a json: filename nesting 256 layers, "backing": null below).
    let node: object | null = null;
    for (let i = 300 - MAX_CHAIN_DEPTH; i < 300; i++)
      node = { driver: 'qcow2', file: { driver: 'file', filename: list[i]!.name }, backing: node };
    const qemu = execFileSync('qemu-img', ['map', '--output=json', `json:${JSON.stringify(node)}`], {
      cwd: at,
      encoding: 'utf8',
    });
    const map = await w.call('export', {
      source: info.id,
      view: '',
      format: 'qemu-img-map-json',
      release: 7002,
    });
    expect(JSON.parse(map.text)).toEqual(JSON.parse(qemu));
  });

  describe('the L1 tables one drop opens (CHAIN_TABLE_BYTES)', () => {
    // Five layers, each with a 512 KiB L1 table mostly past the end of its 3 KiB file.
    const TABLE = 65536 * 8;
    const { files: list, at } = longChain(5, ['--l1-entries', '65536']);
    const sources = () => list.map((f) => ({ name: f.name, source: new BlobSource(f.name, f) }));

    it('QEMU maps such a layer (the table past the end of the file reads as zeros)', () => {
      const q = JSON.parse(
        execFileSync('qemu-img', ['map', '--output=json', '-f', 'qcow2', 'l004.qcow2'], {
          cwd: at,
          encoding: 'utf8',
        }),
      ) as { depth: number }[];
      expect(q[0]).toMatchObject({ start: 0, length: 512, depth: 4, data: true });
    });

    it('is 256 MiB: eight of the largest tables QEMU allows', () => {
      expect(CHAIN_TABLE_BYTES).toBe(8 * 4 * 1024 * 1024 * 8);
    });

    it('just under: every file opened, the chain whole', async () => {
      const d = await openDropped(sources(), 5 * TABLE);
      expect(d.chain.layers.map((l) => l.name)).toEqual([
        'l004.qcow2',
        'l003.qcow2',
        'l002.qcow2',
        'l001.qcow2',
        'l000.qcow2',
      ]);
      expect(d.rejected).toEqual([]);
    });

    it('just over: the files before it opened and chained, the first past it named, the rest not opened', async () => {
      const d = await openDropped(sources(), 5 * TABLE - 1);
      expect(d.chain.layers.map((l) => l.name)).toEqual([
        'l003.qcow2',
        'l002.qcow2',
        'l001.qcow2',
        'l000.qcow2',
      ]);
      expect(d.rejected).toEqual([
        expect.objectContaining({
          kind: 'limit',
          file: 'l004.qcow2',
          structure: 'L1 table',
          offset: 5 * 512,
          message: `l004.qcow2: L1 table at 0xa00: ${TABLE} bytes; with the 4 files opened before it (${4 * TABLE} bytes of L1 tables) more than the page opens at once (CHAIN_TABLE_BYTES ${5 * TABLE - 1}): it and the 0 files after it are not opened`,
        }),
      ]);
    });
  });
});
