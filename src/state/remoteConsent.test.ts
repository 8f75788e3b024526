/**
 * No request the person did not ask for (issue 15 point 5), through the store, the client and
 * the real worker handler over a fake range server: a link's URL waits for an answer, a typed URL
 * does not, a backing file on another origin is asked about by name and origin.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loopbackWorker } from '../testing/loopback.ts';
import { A, B, chain3, crossOrigin, server } from '../testing/rangeFetch.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { Client } from './client.ts';
import { openFiles } from './loader.ts';
import { openLinkSource, openTypedUrl, startFromLink } from './permalinkOpen.ts';
import { answer } from './remoteConsent.ts';
import { createAppStore } from './store.ts';

const setup = (files: Record<string, Uint8Array>) => {
  const s = server(files);
  vi.stubGlobal('fetch', s.fetch);
  return { srv: s, store: createAppStore(), client: new Client(loopbackWorker()) };
};

/** Lets the page's awaits run (the worker's replies arrive as tasks). */
const settle = () => new Promise((r) => setTimeout(r, 20));

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('asking before a request the person did not make', () => {
  it("a link's URL is shown whole and nothing is requested until the person allows it", async () => {
    const { srv, store, client } = setup(chain3());
    const url = `${A}/chain-3/top.qcow2`;
    const r = openLinkSource(store, client, { url, files: ['top.qcow2'] });
    await settle();
    expect(store.getState().remote.ask).toEqual({ kind: 'link', url });
    expect(srv.asked).toEqual([]);
    answer(store, true);
    expect(await r).toBe('opened');
    expect(store.getState().remote.ask).toBeUndefined();
    expect(store.getState().chain?.layers).toHaveLength(3);
    expect(srv.asked.length).toBeGreaterThan(0);
    // Allowed once, the origin's links open without asking again in this page.
    expect(store.getState().remote.origins).toEqual([A]);
    expect(await openLinkSource(store, client, { url })).toBe('opened');
  });

  it('declined, nothing is requested and the default view opens (or the map the link carries)', async () => {
    const { srv, store, client } = setup(chain3());
    let samples = 0;
    startFromLink(store, client, { url: `${A}/chain-3/top.qcow2` }, () => samples++);
    await settle();
    answer(store, false);
    await settle();
    expect(samples).toBe(1);
    expect(srv.asked).toEqual([]);
    expect(store.getState().notices.map((n) => n.text)).toContain(
      `The image at ${A}/chain-3/top.qcow2 was not read.`,
    );
  });

  it('declined, a link that also carries its map shows that map instead, and nothing is requested', async () => {
    const { srv, store, client } = setup(chain3());
    const id = await openFiles(store, client, [fixtureFile('nbd-hole-example', 'top.qcow2')]);
    const { payload } = await client.call('share', { source: id! });
    const r = openLinkSource(store, client, {
      url: `${A}/chain-3/top.qcow2`,
      map: payload,
      files: ['top.qcow2'],
    });
    await vi.waitFor(() => expect(store.getState().remote.ask).toBeDefined());
    answer(store, false);
    expect(await r).toBe('opened');
    expect(store.getState().chain?.mapOnly?.fromLink).toBe(true);
    expect(store.getState().notices.map((n) => n.text)).toContain(
      `The image at ${A}/chain-3/top.qcow2 was not read; the map carried in the link is shown instead.`,
    );
    expect(srv.asked).toEqual([]);
  });

  it('a newer open makes the question go away unanswered, and the link then does nothing', async () => {
    const { srv, store, client } = setup(chain3());
    let samples = 0;
    startFromLink(store, client, { url: `${A}/chain-3/top.qcow2` }, () => samples++);
    await settle();
    expect(store.getState().remote.ask?.kind).toBe('link');
    await openFiles(store, client, [fixtureFile('nbd-hole-example', 'top.qcow2')]);
    await settle();
    expect(store.getState().remote.ask).toBeUndefined();
    answer(store, true); // too late: nothing is waiting
    await settle();
    expect(samples).toBe(0);
    expect(srv.asked).toEqual([]);
    expect(store.getState().chain?.layers.map((l) => l.name)).toEqual(['top.qcow2']);
  });

  it('a typed URL needs no second question, and links to its origin open at once', async () => {
    const { srv, store, client } = setup(chain3());
    await openTypedUrl(store, client, `${A}/chain-3/top.qcow2`);
    expect(store.getState().remote.ask).toBeUndefined();
    expect(store.getState().chain?.layers).toHaveLength(3);
    const n = srv.asked.length;
    expect(await openLinkSource(store, client, { url: `${A}/chain-3/mid.qcow2` })).toBe('opened');
    expect(srv.asked.length).toBeGreaterThan(n);
  });

  it('a backing file on another origin is asked about, naming it and its origin; allowed, the chain is whole', async () => {
    const { srv, store, client } = setup(crossOrigin());
    const opened = openTypedUrl(store, client, `${A}/top.qcow2`);
    await vi.waitFor(() => expect(store.getState().remote.ask).toBeDefined());
    expect(store.getState().remote.ask).toEqual({
      kind: 'backing',
      url: `${B}/chain-3/mid.qcow2`,
      name: `${B}/chain-3/mid.qcow2`,
      from: 'top.qcow2',
      imageUrl: `${A}/top.qcow2`,
    });
    // Meanwhile the top shows, as with backing: null, and B has not been asked for anything.
    expect(store.getState().chain?.layers.map((l) => l.name)).toEqual(['top.qcow2']);
    expect(srv.asked.every((a) => a.url.startsWith(A))).toBe(true);
    answer(store, true);
    await opened;
    expect(store.getState().chain?.layers).toHaveLength(3);
    expect(srv.asked.some((a) => a.url.startsWith(B))).toBe(true);
  });

  it('a backing file on another origin, declined: the top stays shown and the other origin is never asked', async () => {
    const { srv, store, client } = setup(crossOrigin());
    const opened = openTypedUrl(store, client, `${A}/top.qcow2`);
    await vi.waitFor(() => expect(store.getState().remote.ask).toBeDefined());
    answer(store, false);
    await opened;
    expect(store.getState().chain?.missingBacking?.blockedUrl).toBe(`${B}/chain-3/mid.qcow2`);
    expect(srv.asked.every((a) => a.url.startsWith(A))).toBe(true);
  });
});
