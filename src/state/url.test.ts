import { describe, expect, it } from 'vitest';
import type { ChainInfo } from '../protocol/source.ts';
import { chainInfo } from '../testing/chainInfo.ts';
import { createAppStore } from './store.ts';
import { MAX_LINK_URL_CHARS, parseHash, parseLocus, toHash } from './url.ts';
import { parseOffset } from './urlParts.ts';
import { bindUrl, HISTORY_SETTLE_MS, URL_WRITE_INTERVAL_MS } from './urlSync.ts';

const K = 65536;
const chain = (length: number, name = 'top.qcow2', fingerprint?: string): ChainInfo =>
  chainInfo(length, { names: [name], ...(fingerprint !== undefined && { fingerprint }) });
/** The map of source `id` lands for the store's newest load. */
const land = (s: ReturnType<typeof createAppStore>, c: ChainInfo, id: number) =>
  s.getState().opened(s.getState().token, { info: { ...c, id } });

describe('URL format v2', () => {
  it('reads loci in hex, decimal and binary units, START-END or START+LENGTH', () => {
    expect(parseLocus('0x20000-0x40000')).toEqual({ start: 0x20000, end: 0x40000 });
    expect(parseLocus('128K-256KiB')).toEqual({ start: 0x20000, end: 0x40000 });
    expect(parseLocus('1M+64K')).toEqual({ start: 1 << 20, end: (1 << 20) + K });
    expect(parseLocus('1M 64K')).toEqual({ start: 1 << 20, end: (1 << 20) + K }); // '+' decoded as a space
    expect(parseOffset('1.5M')).toBe(1.5 * 2 ** 20);
    expect(parseLocus('0x40000-0x20000')).toBeUndefined();
    expect(parseOffset('9P')).toBeUndefined(); // beyond 2^53
    expect(parseOffset('0x1.8')).toBeUndefined();
  });

  it('round-trips every shareable field', () => {
    const st = createAppStore().getState();
    const s = {
      files: ['top.qcow2', 'mid.qcow2', 'base.qcow2'],
      image: { name: 'top.qcow2', size: 8 * K, fingerprint: '0123456789abcdef' },
      view: { start: K, end: 5 * K },
      layers: st.layers,
      selection: 2 * K,
      snapshot: 'before upgrade',
      bitmap: 'Daily.Backup:1',
      map: 'abc_-DEF',
    };
    const h = toHash(s);
    expect(h).toContain('v=2');
    expect(h).toContain('range=0x10000-0x50000');
    expect(h).toContain('file=top.qcow2&file=mid.qcow2');
    expect(h).toContain('bm=Daily.Backup%3A1');
    expect(parseHash(h)).toEqual({ state: s, problems: [] });
  });

  it('refuses a malformed bitmap name with a problem in words, and reads the dirty and backup layers', () => {
    const r = parseHash('#v=2&bm=&layers=data,dirty,backup');
    expect(r.state.bitmap).toBeUndefined();
    expect(r.problems).toEqual(['The bitmap name in the link is malformed.']);
    expect(r.state.layers).toMatchObject({ data: true, dirty: true, backup: true, zero: false });
  });

  it('upgrades a v1 hash step by step (bare hex view and selection)', () => {
    const { state, problems } = parseHash('#v=1&sample=chain-3&view=10000-50000&layers=data,depth&sel=20000');
    expect(problems).toEqual([]);
    expect(state.sample).toBe('chain-3');
    expect(state.view).toEqual({ start: 0x10000, end: 0x50000 });
    expect(state.selection).toBe(0x20000);
    expect(state.layers?.depth).toBe(true);
    expect(state.layers?.zero).toBe(false);
  });

  it('reads a hand-typed hash without a version as the current one', () => {
    expect(parseHash('#range=1M-2M').state.view).toEqual({ start: 2 ** 20, end: 2 ** 21 });
  });

  it('hostile and truncated hashes give problems in words and the sound parts, never a throw', () => {
    expect(parseHash('#v=99&sel=10').state).toEqual({});
    expect(parseHash('#v=99&sel=10').problems[0]).toMatch(/newer clusterscope/);
    expect(parseHash('#v=abc').problems[0]).toMatch(/not one this page knows/);
    expect(parseHash(`#v=2&range=${'9'.repeat(50000)}`).problems[0]).toMatch(/more than/);
    const cut = parseHash(
      '#v=2&range=0x10000-0x5&sel=zz&file=../etc&fp=xyz&size=0x10&map=a%20b&layers=data,evil',
    );
    expect(cut.state.view).toBeUndefined();
    expect(cut.state.selection).toBeUndefined();
    expect(cut.state.files).toBeUndefined();
    expect(cut.state.map).toBeUndefined();
    expect(cut.state.layers?.data).toBe(true);
    expect(cut.problems.join(' ')).toMatch(/file names.*fingerprint.*range.*evil.*selected cluster.*map/s);
    for (const h of ['#%', '#v=2&range=%E0%A4%A', '#&&&==', `#${'%'.repeat(1000)}`, '#v=2&file=a%00b']) {
      expect(() => parseHash(h)).not.toThrow();
    }
  });

  it('carries a remote image URL: http(s) only, bounded, never with credentials', () => {
    const url = 'https://images.example.org/vm/top.qcow2?sig=abc';
    const h = toHash({ url, files: ['top.qcow2'] });
    expect(h).toContain(`url=${encodeURIComponent(url)}`);
    expect(parseHash(h)).toEqual({ state: { url, files: ['top.qcow2'] }, problems: [] });
    expect(parseHash('#url=http%3A%2F%2F127.0.0.1%3A8080%2Fa.qcow2%23frag').state.url).toBe(
      'http://127.0.0.1:8080/a.qcow2',
    );
    // Credentials are neither written into a link nor taken from one.
    expect(toHash({ url: 'https://alice:secret@example.org/top.qcow2' })).toBe('#v=2');
    const creds = parseHash(`#url=${encodeURIComponent('https://alice:secret@example.org/top.qcow2')}`);
    expect(creds.state.url).toBeUndefined();
    expect(creds.problems[0]).toMatch(/user name or password/);
    expect(creds.problems.join(' ')).not.toContain('secret');
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:,x',
      'ftp://example.org/a',
      'top.qcow2',
    ]) {
      expect(parseHash(`#url=${encodeURIComponent(bad)}`).state.url).toBeUndefined();
      expect(toHash({ url: bad })).toBe('#v=2');
    }
    const long = `https://example.org/${'a'.repeat(MAX_LINK_URL_CHARS)}`;
    expect(parseHash(`#url=${long}`).problems[0]).toMatch(`longer than ${MAX_LINK_URL_CHARS}`);
    expect(toHash({ url: long })).toBe('#v=2');
  });

  it('never puts a path into the URL', () => {
    expect(toHash({ files: ['/home/me/top.qcow2', 'C:\\x\\y.qcow2', 'ok.qcow2'] })).toBe(
      '#v=2&file=ok.qcow2',
    );
  });
});

describe('URL binding', () => {
  const loc = (hash: string) => {
    const calls: { hash: string; mode: string | undefined }[] = [];
    let pop: (() => void) | undefined;
    let t = 0;
    // Timers of the binding (URL_WRITE_INTERVAL_MS), fired by tick() when due.
    let timers: { at: number; cb: () => void }[] = [];
    return {
      calls,
      tick: (ms: number) => {
        t += ms;
        const due = timers.filter((x) => x.at <= t);
        timers = timers.filter((x) => x.at > t);
        for (const x of due) x.cb();
      },
      pop: (h: string) => {
        hash = h;
        pop?.();
      },
      get hash() {
        return hash;
      },
      l: {
        get: () => hash,
        set: (h: string, mode?: 'push' | 'replace') => {
          hash = h;
          calls.push({ hash: h, mode });
        },
        onPop: (cb: () => void) => {
          pop = cb;
          return () => {};
        },
        now: () => t,
        later: (cb: () => void, ms: number) => {
          const x = { at: t + ms, cb };
          timers.push(x);
          return () => {
            timers = timers.filter((y) => y !== x);
          };
        },
      },
    };
  };

  it('pushes deliberate changes, replaces during a drag, and Back restores the view', () => {
    const L = loc('#v=2&range=0x10000-0x50000&sel=0x20000');
    const s = createAppStore();
    bindUrl(s, L.l);
    s.getState().startLoad([{ name: 'top.qcow2', size: 1 }]);
    land(s, chain(8 * K), 1);
    expect(s.getState().view).toEqual({ start: K, end: 5 * K });
    expect(L.calls.at(-1)?.mode).toBe('replace');
    const shared = L.hash;
    L.tick(HISTORY_SETTLE_MS + 1);
    s.getState().pan(K);
    L.tick(16);
    s.getState().pan(K);
    // The drag's next change waits for URL_WRITE_INTERVAL_MS, then the newest state is written once.
    expect(L.calls.at(-1)?.mode).toBe('push');
    const pushed = L.hash;
    L.tick(16);
    s.getState().pan(-K);
    s.getState().pan(K);
    L.tick(URL_WRITE_INTERVAL_MS);
    expect(L.calls.slice(-2).map((c) => c.mode)).toEqual(['push', 'replace']);
    expect(L.hash).not.toBe(pushed);
    expect(L.hash).toContain('range=0x30000-0x70000');
    expect(s.getState().view).toEqual({ start: 3 * K, end: 7 * K });
    L.pop(shared);
    expect(s.getState().view).toEqual({ start: K, end: 5 * K });
    expect(s.getState().selection).toBe(2 * K);
  });

  it('names a different image as different and still opens the view; the same image is confirmed', () => {
    const h = '#v=2&file=top.qcow2&size=0x80000&fp=00000000000000aa&range=0x10000-0x20000';
    const s = createAppStore();
    bindUrl(s, loc(h).l);
    s.getState().startLoad([{ name: 'other.qcow2', size: 1 }]);
    land(s, chain(16 * K, 'other.qcow2', '00000000000000bb'), 1);
    expect(s.getState().notices.at(-1)?.level).toBe('warn');
    expect(s.getState().notices.at(-1)?.text).toMatch(/Different image.*top\.qcow2.*other\.qcow2/);
    expect(s.getState().view).toEqual({ start: K, end: 5 * K }); // clamped to 4 clusters, still opened

    const s2 = createAppStore();
    bindUrl(s2, loc(h).l);
    s2.getState().startLoad([{ name: 'renamed.qcow2', size: 1 }]);
    land(s2, chain(8 * K, 'renamed.qcow2', '00000000000000aa'), 1);
    expect(s2.getState().notices.at(-1)?.text).toMatch(/Same image.*renamed from top\.qcow2/);
  });

  it("applies a link's snapshot with its range to the first chain; a later open starts on the active L1", () => {
    const L = loc('#v=2&range=0x10000-0x20000&snap=s1');
    const s = createAppStore();
    bindUrl(s, L.l);
    s.getState().startLoad([{ name: 'top.qcow2', size: 1 }]);
    expect(s.getState().snapshot).toBeUndefined();
    land(s, chain(8 * K), 1);
    expect(s.getState().snapshot).toBe('s1');
    expect(L.hash).toContain('snap=s1');
    s.getState().startLoad([{ name: 'other.qcow2', size: 1 }]);
    land(s, chain(8 * K, 'other.qcow2'), 2);
    L.tick(URL_WRITE_INTERVAL_MS);
    expect(s.getState().snapshot).toBeUndefined();
    expect(L.hash).not.toContain('snap=');
  });

  const mapOnly = (length: number): ChainInfo => ({
    ...chain(length),
    kind: 'map',
    mapOnly: { fromLink: true, files: ['top.qcow2'], sources: [] },
  });

  it('a hash change to another map opens it, writes nothing meanwhile, then lands on its view', () => {
    const L = loc('#v=2&file=top.qcow2&map=AAAA');
    const s = createAppStore();
    const opened: (string | undefined)[] = [];
    bindUrl(s, L.l, (u) => {
      opened.push(u.map);
      s.getState().startLoad([{ name: 'top.qcow2', size: 0 }]);
    });
    s.getState().startLoad([{ name: 'top.qcow2', size: 0 }]);
    land(s, mapOnly(8 * K), 1);
    expect(L.hash).toContain('map=AAAA');
    // The same map with another range only moves the view.
    L.pop('#v=2&file=top.qcow2&map=AAAA&range=0x0-0x40000');
    expect(opened).toEqual([]);
    expect(s.getState().view).toEqual({ start: 0, end: 4 * K });
    L.tick(HISTORY_SETTLE_MS + 1);
    const writes = L.calls.length;
    L.pop('#v=2&file=top.qcow2&map=BBBB&range=0x20000-0x30000&sel=0x20000');
    expect(opened).toEqual(['BBBB']);
    expect(L.calls.length).toBe(writes);
    land(s, mapOnly(16 * K), 2);
    expect(s.getState().view).toEqual({ start: 2 * K, end: 6 * K }); // clamped to four clusters
    expect(s.getState().selection).toBe(2 * K);
    expect(L.hash).toContain('map=BBBB');
    expect(L.calls.at(-1)?.mode).toBe('replace');
  });

  it('a hash change naming another remote URL opens it; the open URL is kept in the hash', () => {
    const L = loc('');
    const s = createAppStore();
    const urls: (string | undefined)[] = [];
    bindUrl(s, L.l, (u) => urls.push(u.url));
    s.getState().startLoad([{ name: 'http://h/top.qcow2', size: 0 }], { url: 'http://h/top.qcow2' });
    land(s, chain(8 * K), 1);
    expect(L.hash).toContain(`url=${encodeURIComponent('http://h/top.qcow2')}`);
    L.pop(`#v=2&url=${encodeURIComponent('http://h/top.qcow2')}&range=0x0-0x40000`);
    expect(urls).toEqual([]);
    L.pop(`#v=2&url=${encodeURIComponent('https://other.example/b.qcow2')}`);
    expect(urls).toEqual(['https://other.example/b.qcow2']);
  });

  it('a mangled hash gives an error notice and the default view', () => {
    const s = createAppStore();
    bindUrl(s, loc('#v=2&range=banana').l);
    land(s, chain(8 * K), 1);
    expect(s.getState().notices[0]?.level).toBe('error');
    expect(s.getState().view).toEqual({ start: 0, end: 8 * K });
  });
});
