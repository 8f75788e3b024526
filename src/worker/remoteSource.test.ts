/**
 * The remote reader against servers that lie (issue 15), through a fake fetch: bodies longer
 * than asked, drips, silence, impossible sizes, web pages, redirects, backing files elsewhere.
 * The honest server's chain must map as qemu-img map did (fixtures/golden/chain-3/map.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FormatError, IoError, LimitError } from '../core/errors.ts';
import { CancelledError } from '../core/status/layerStatus.ts';
import { fixtureBytes } from '../testing/fixtureChain.ts';
import { FIXTURES, golden } from '../testing/fixtures.ts';
import { A, B, chain3, crossOrigin, partial, server } from '../testing/rangeFetch.ts';
import { workerHarness } from '../testing/workerHarness.ts';
import {
  type Budgets,
  type Fetch,
  openRemoteChain,
  type RemoteContext,
  RemoteSource,
  textAnswer,
} from './remoteSource.ts';

const K = 1024;

const ctxOf = (fetch: Fetch, extra: Partial<RemoteContext> = {}): RemoteContext => ({
  fetch,
  stats: { requests: 0, bytes: 0, asked: 0 },
  ...extra,
});

/** Small budgets, so deadlines pass in milliseconds (nothing here asserts a duration). */
const quick: Partial<Budgets> = { requestTimeoutMs: 50, bodyGraceMs: 50, minBodyBytesPerS: 1e9 };

/** The qemu-img map --output=json the worker exports for source `id`, parsed. */
async function qemuImgMap(w: ReturnType<typeof workerHarness>, id: number): Promise<unknown> {
  const json = await w.call('export', { source: id, view: '', format: 'qemu-img-map-json', release: 7002 });
  return JSON.parse(json.text);
}

const rangeLength = (range: string): number => {
  const [a, b] = range.slice('bytes='.length).split('-').map(Number) as [number, number];
  return b - a + 1;
};

/** What `p` settles with: its value, or the error it rejects with. */
const rejection = async (p: Promise<unknown>): Promise<unknown> => p.catch((e: unknown) => e);

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('remote reading: an honest server', () => {
  it('a remote chain-3 maps as qemu-img map did, fetching only metadata with no redirects or credentials', async () => {
    const s = server(chain3());
    vi.stubGlobal('fetch', s.fetch);
    const w = workerHarness();
    const { info } = await w.call('open', {
      slot: 'main',
      from: { kind: 'url', url: `${A}/chain-3/top.qcow2` },
    });
    expect(info.layers.map((l) => l.name)).toEqual(['top.qcow2', 'mid.qcow2', 'base.qcow2']);
    expect(await qemuImgMap(w, info.id)).toEqual(JSON.parse(golden('chain-3', 'map.json')!));
    expect(s.asked.every((a) => a.init.redirect === 'manual' && a.init.credentials === 'omit')).toBe(true);
    const sizes = Object.values(chain3()).reduce((n, f) => n + f.length, 0);
    expect(s.asked.reduce((n, a) => n + rangeLength(a.range), 0)).toBeLessThan(sizes);
  });

  it('a read longer than MAX_RESPONSE_BYTES is asked for in answers of at most that size', async () => {
    const file = fixtureBytes('chain-3', 'base.qcow2');
    const s = server({ [`${A}/b`]: file });
    const src = await RemoteSource.open(`${A}/b`, 'b', ctxOf(s.fetch, { budgets: { responseBytes: 4 * K } }));
    const got = await src.read(100 * K, 10 * K);
    expect(got).toEqual(file.subarray(100 * K, 110 * K));
    expect(s.asked.slice(1).map((a) => a.range)).toEqual([
      `bytes=${100 * K}-${104 * K - 1}`,
      `bytes=${104 * K}-${108 * K - 1}`,
      `bytes=${108 * K}-${110 * K - 1}`,
    ]);
    // Served again from memory.
    expect(await src.read(101 * K, K)).toEqual(file.subarray(101 * K, 102 * K));
    expect(s.asked).toHaveLength(4);
  });
});

describe('remote reading: requests', () => {
  it('a read inside a range still in flight waits for it instead of asking the server again', async () => {
    const file = fixtureBytes('chain-3', 'base.qcow2');
    const s = server({ [`${A}/b`]: file });
    const src = await RemoteSource.open(`${A}/b`, 'b', ctxOf(s.fetch));
    const [table, entry] = await Promise.all([src.read(128 * K, 64 * K), src.read(130 * K, 8)]);
    expect(table).toEqual(file.subarray(128 * K, 192 * K));
    expect(entry).toEqual(file.subarray(130 * K, 130 * K + 8));
    expect(s.asked).toHaveLength(2);
  });
});

describe('remote reading: a server that lies', () => {
  it('a 206 with an endless body: the bytes asked for are read, the rest never', async () => {
    const file = fixtureBytes('chain-3', 'top.qcow2');
    let pulled = 0;
    let cancelled = 0;
    const s = server({ [`${A}/top.qcow2`]: file }, (_u, a, b, f) => {
      const body = new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(f!.slice(a, b + 1)),
        pull: (c) => {
          pulled += 64 * K;
          c.enqueue(new Uint8Array(64 * K));
        },
        cancel: () => {
          cancelled++;
        },
      });
      return Promise.resolve(partial(a, b, f!.length, body));
    });
    const src = await RemoteSource.open(`${A}/top.qcow2`, 'top.qcow2', ctxOf(s.fetch));
    expect(src.head).toEqual(file.subarray(0, 64 * K));
    expect(await src.read(64 * K, 64 * K)).toEqual(file.subarray(64 * K, 128 * K));
    expect(cancelled).toBe(2);
    expect(pulled).toBeLessThanOrEqual(2 * 64 * K);
  }, 10_000);

  it('an answer that drips (1 byte at a time) ends in an error once its deadline passes', async () => {
    const s = server({}, (_u, a, b) => {
      const body = new ReadableStream<Uint8Array>({
        pull: (c) => new Promise((r) => setTimeout(r, 5)).then(() => c.enqueue(new Uint8Array(1))),
      });
      return Promise.resolve(partial(a, b, 1 << 20, body));
    });
    const e = await rejection(RemoteSource.open(`${A}/x`, 'x', ctxOf(s.fetch, { budgets: quick })));
    expect(e).toBeInstanceOf(IoError);
    expect((e as Error).message).toMatch(/the answer from http:\/\/a\.test is too slow: \d+ of 65536 bytes/);
    expect((e as Error).message).toContain('BODY_GRACE_MS, MIN_BODY_BYTES_PER_S');
    expect(s.asked[0]!.init.signal.aborted).toBe(true);
  }, 10_000);

  it('a server that never answers ends in an error after REQUEST_TIMEOUT_MS, even if its fetch ignores the signal', async () => {
    const s = server({}, () => new Promise<Response>(() => {}));
    const e = await rejection(RemoteSource.open(`${A}/x`, 'x', ctxOf(s.fetch, { budgets: quick })));
    expect(e).toBeInstanceOf(IoError);
    expect((e as Error).message).toContain('no answer from http://a.test within 0.05 s (REQUEST_TIMEOUT_MS)');
    expect(s.asked[0]!.init.signal.aborted).toBe(true);
  }, 10_000);

  it('cancelling the open (its AbortSignal) aborts the request in flight', async () => {
    const s = server({}, () => new Promise<Response>(() => {}));
    const ctl = new AbortController();
    const p = rejection(RemoteSource.open(`${A}/x`, 'x', ctxOf(s.fetch, { signal: ctl.signal })));
    await new Promise((r) => setTimeout(r, 10));
    ctl.abort();
    expect(await p).toBeInstanceOf(CancelledError);
    expect(s.asked[0]!.init.signal.aborted).toBe(true);
    // A cancelled open asks for nothing more.
    expect(
      await rejection(RemoteSource.open(`${A}/x`, 'x', ctxOf(s.fetch, { signal: ctl.signal }))),
    ).toBeInstanceOf(CancelledError);
    expect(s.asked).toHaveLength(1);
  }, 10_000);

  it('a Content-Range total is refused where QEMU 7.2 refuses the size (fixtures/http/size-limit.txt), and past 2^53', async () => {
    const lines = readFileSync(join(FIXTURES, 'http', 'size-limit.txt'), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t') as [string, string, string]);
    expect(lines.length).toBeGreaterThan(5);
    for (const [size, refused, said] of lines) {
      const s = server({}, (_u, a, b) => Promise.resolve(partial(a, b, size, new Uint8Array(b - a + 1))));
      const r = await rejection(RemoteSource.open(`${A}/x`, 'x', ctxOf(s.fetch)));
      if (refused === '1') {
        // QEMU cannot even parse 10^20 ("Server didn't report file size"); its limit is the same.
        expect(said).toMatch(/File too large|didn't report file size/);
        expect(r).toBeInstanceOf(LimitError);
        expect((r as Error).message).toContain('Could not refresh total sector count: File too large');
        expect((r as Error).message).toContain(`the server gives the file's size as ${size} bytes`);
      } else if (BigInt(size) > BigInt(Number.MAX_SAFE_INTEGER)) {
        // QEMU opens it; the engine holds offsets as doubles and refuses past 2^53 (MAX_SAFE_OFFSET).
        expect(r).toBeInstanceOf(LimitError);
        expect((r as Error).message).toContain('MAX_SAFE_OFFSET');
      } else {
        expect(r).toBeInstanceOf(RemoteSource);
        expect((r as RemoteSource).size).toBe(Number(size));
      }
    }
  });

  it('an HTML page answered with 206 is refused, saying what it was taken for, not opened as a raw image', async () => {
    const page = new TextEncoder().encode(
      '<!DOCTYPE html>\n<html><body><form>Sign in</form></body></html>\n',
    );
    for (const type of ['text/html; charset=utf-8', 'application/octet-stream', '']) {
      const s = server({}, (_u, a) =>
        Promise.resolve(
          partial(a, page.length - 1, page.length, page.slice(), type ? { 'Content-Type': type } : {}),
        ),
      );
      const e = await rejection(openRemoteChain(`${A}/disk.img`, ctxOf(s.fetch), [], () => {}));
      expect(e).toBeInstanceOf(FormatError);
      expect((e as Error).message).toContain(
        'disk.img: HTTP answer at 0x0: the server answered with an HTML page',
      );
      expect((e as Error).message).toContain('refused rather than opened as a raw image');
    }
  });

  it('text of any kind answering a range request is refused; a qcow2 or binary raw file is not', async () => {
    expect(textAnswer('text/plain', new Uint8Array(0))).toBe('text (Content-Type: text/plain)');
    expect(textAnswer('application/problem+json', new Uint8Array(0))).toContain('text');
    expect(textAnswer(null, new TextEncoder().encode('  <?xml version="1.0"?><Error/>'))).toContain('XML');
    expect(textAnswer('application/octet-stream', new Uint8Array(512))).toBeUndefined();
    // "<a" must be a tag: a raw disk starting with "<ab" is not HTML by the sniffing rules.
    expect(textAnswer(null, new TextEncoder().encode('<abc'))).toBeUndefined();
    // The qcow2 magic wins over a server's wrong Content-Type; a binary raw file opens as raw.
    const top = fixtureBytes('chain-3', 'base.qcow2');
    const raw = new Uint8Array(4096).fill(7);
    const s = server({}, (u, a, b) => {
      const f = u.endsWith('.qcow2') ? top : raw;
      const end = Math.min(b, f.length - 1);
      return Promise.resolve(
        partial(a, end, f.length, f.slice(a, end + 1), { 'Content-Type': 'text/plain' }),
      );
    });
    const ok = await openRemoteChain(`${A}/base.qcow2`, ctxOf(s.fetch), [], () => {});
    expect(ok.sources.map((x) => x.name)).toEqual(['base.qcow2']);
    expect(await rejection(openRemoteChain(`${A}/disk.img`, ctxOf(s.fetch), [], () => {}))).toBeInstanceOf(
      FormatError,
    );
    const bin = server({ [`${A}/disk.img`]: raw });
    expect((await openRemoteChain(`${A}/disk.img`, ctxOf(bin.fetch), [], () => {})).sources).toHaveLength(1);
  });

  it('a redirect is refused and not followed, saying why', async () => {
    const s = server(chain3(), (u) =>
      u.startsWith(A) ? Promise.resolve({ type: 'opaqueredirect', status: 0 } as Response) : undefined,
    );
    const e = await rejection(RemoteSource.open(`${A}/chain-3/top.qcow2`, 'top.qcow2', ctxOf(s.fetch)));
    expect(e).toBeInstanceOf(IoError);
    expect((e as Error).message).toContain('redirects are not followed');
    expect(s.asked.map((a) => a.init.redirect)).toEqual(['manual']);
  });

  it('an open reads at most MAX_OPEN_BYTES, counted over all its files', async () => {
    const s = server(chain3());
    const ctx = ctxOf(s.fetch, { budgets: { openBytes: 160 * K } });
    const top = await RemoteSource.open(`${A}/chain-3/top.qcow2`, 'top.qcow2', ctx);
    const mid = await RemoteSource.open(`${A}/chain-3/mid.qcow2`, 'mid.qcow2', ctx);
    await top.read(64 * K, 16 * K);
    const e = await rejection(mid.read(128 * K, 64 * K));
    expect(e).toBeInstanceOf(LimitError);
    expect((e as Error).message).toContain('would pass 160 KiB of metadata for one open (MAX_OPEN_BYTES');
    expect(s.asked).toHaveLength(3);
  });

  it('an answer naming another total size than the first (the file changed) is refused', async () => {
    let n = 0;
    const file = fixtureBytes('chain-3', 'top.qcow2');
    const s = server({}, (_u, a, b) =>
      Promise.resolve(partial(a, b, n++ ? file.length + 512 : file.length, file.slice(a, b + 1))),
    );
    const src = await RemoteSource.open(`${A}/top.qcow2`, 'top.qcow2', ctxOf(s.fetch));
    expect(await rejection(src.read(64 * K, K))).toMatchObject({
      message: expect.stringContaining('the file changed on the server while it was read'),
    });
  });

  it('an answer shorter than asked for, or for another range, is refused', async () => {
    const s = server({}, (_u, a) => Promise.resolve(partial(a, a + 99, 1 << 20, new Uint8Array(100))));
    expect(await rejection(RemoteSource.open(`${A}/x`, 'x', ctxOf(s.fetch)))).toMatchObject({
      message: expect.stringContaining('short answer'),
    });
    const t = server({}, (_u, a, b) =>
      Promise.resolve(partial(a + 512, b, 1 << 20, new Uint8Array(b - a - 511))),
    );
    expect(await rejection(RemoteSource.open(`${A}/x`, 'x', ctxOf(t.fetch)))).toMatchObject({
      message: expect.stringContaining('server answered range bytes 512-65535/1048576, asked for 0-65535'),
    });
  });
});

describe('remote reading: backing files on another origin', () => {
  it('are not requested unless allowed: the chain stops above them and names them', async () => {
    const s = server(crossOrigin());
    const r = await openRemoteChain(`${A}/top.qcow2`, ctxOf(s.fetch), [], () => {});
    expect(r.sources.map((x) => x.name)).toEqual(['top.qcow2']);
    expect(r.blocked).toEqual({
      name: `${B}/chain-3/mid.qcow2`,
      from: 'top.qcow2',
      url: `${B}/chain-3/mid.qcow2`,
    });
    expect(s.asked.every((a) => a.url.startsWith(A))).toBe(true);
  });

  it('the page learns the blocked URL; allowed, the chain maps as qemu-img map did', async () => {
    const s = server(crossOrigin());
    vi.stubGlobal('fetch', s.fetch);
    const w = workerHarness();
    const url = `${A}/top.qcow2`;
    const first = await w.call('open', { slot: 'main', from: { kind: 'url', url } });
    expect(first.info.missingBacking).toEqual({
      name: `${B}/chain-3/mid.qcow2`,
      from: 'top.qcow2',
      blockedUrl: `${B}/chain-3/mid.qcow2`,
    });
    expect(s.asked.some((a) => a.url.startsWith(B))).toBe(false);
    const { info } = await w.call('open', { slot: 'main', from: { kind: 'url', url, origins: [B] } });
    expect(info.missingBacking).toBeUndefined();
    expect(info.layers).toHaveLength(3);
    expect(await qemuImgMap(w, info.id)).toEqual(JSON.parse(golden('chain-3', 'map.json')!));
  });
});
