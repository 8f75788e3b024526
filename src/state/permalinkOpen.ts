/**
 * Opening what a link or a map file names rather than local images: the remote image a link
 * names by URL, the map a link carries, dropped or pasted map files, a downloaded clusterscope
 * map file. Dropped files are sorted here: map text goes to openMap, anything else to the image
 * loader.
 */

import { plainError } from '../core/plainError.ts';
import { readMapFileDocument } from '../core/share/mapFileDoc.ts';
import type { MapInput } from '../protocol/calls.ts';
import type { ImageIdentity } from '../protocol/source.ts';
import { type Caller, openInto, openSource } from './loader.ts';
import { looksLikeMapText, type MapFileDoc } from './permalink.ts';
import { askFirst, originOf, trust, trusted } from './remoteConsent.ts';
import type { Store } from './store.ts';
import { linkableUrl, parseHash, type UrlState } from './url.ts';
import { applyLink } from './urlSync.ts';

type Client = Caller;

/** What a link says of the image its map was made from. */
interface MapOpenMeta {
  readonly files: readonly string[];
  readonly image?: ImageIdentity;
}

/** Bytes sniffed to tell a map file from an image. */
const SNIFF_BYTES = 512;

export async function splitMapFiles(files: readonly File[]): Promise<{ maps: File[]; images: File[] }> {
  const maps: File[] = [];
  const images: File[] = [];
  for (const f of files) {
    const head = new Uint8Array(await f.slice(0, SNIFF_BYTES).arrayBuffer());
    (looksLikeMapText(head) ? maps : images).push(f);
  }
  return { maps, images };
}

/** How opening a map went; `failed` says why in words. */
export type MapOpenResult = 'opened' | 'superseded' | { readonly failed: string };

/** Opens maps as a map-only source in the page's slot. */
export async function openMapInputs(
  store: Store,
  client: Client,
  maps: readonly MapInput[],
  meta: MapOpenMeta,
  label: string,
): Promise<MapOpenResult> {
  const from = { kind: 'maps' as const, maps, files: meta.files, ...(meta.image && { image: meta.image }) };
  const id = await openInto(store, client, from, [{ name: label, size: 0 }]);
  if (id !== undefined) return 'opened';
  const st = store.getState();
  if (st.load.status !== 'error') return 'superseded';
  return { failed: st.openErrors[0]?.detail ?? 'it could not be read' };
}

/**
 * After a downloaded clusterscope map file (made when a link with its map would be too long)
 * opened: its saved view (range, selection, layers, comparison) applies, as its link's would.
 */
function landOnDoc(store: Store, doc: MapFileDoc): void {
  const chain = store.getState().chain;
  if (chain?.mapOnly) applyLink(store, parseHash(doc.hash).state, chain);
}

const docSource = (doc: MapFileDoc, name: string): MapInput => ({
  kind: 'link',
  payload: doc.map,
  fromFile: name,
});
const docMeta = (doc: MapFileDoc): MapOpenMeta => ({
  files: doc.files,
  ...(doc.image && { image: doc.image }),
});

/**
 * `text` as a clusterscope map file; undefined when it is not one. A file that says it is one
 * and is wrong in a member is refused in the page's errors (the file and the member named), as
 * an open that failed: 'refused'.
 */
function readDoc(store: Store, name: string, text: string): MapFileDoc | undefined | 'refused' {
  try {
    return readMapFileDocument(name, text);
  } catch (e) {
    const st = store.getState();
    st.failed(st.startLoad([{ name, size: text.length }]), [plainError(e, name)]);
    return 'refused';
  }
}

/** Text pasted or dropped: a clusterscope map file opens its map (and view); other text is parsed as a tool's map. */
export async function openMapText(store: Store, client: Client, name: string, text: string): Promise<void> {
  const doc = readDoc(store, name, text);
  if (doc === 'refused') return;
  if (!doc) {
    await openMapInputs(store, client, [{ kind: 'text', name, text }], { files: [] }, name);
    return;
  }
  if ((await openMapInputs(store, client, [docSource(doc, name)], docMeta(doc), name)) === 'opened')
    landOnDoc(store, doc);
}

/** Dropped map files: a clusterscope map file opens as its link would; tools' maps are parsed in the worker. */
export async function openMapFiles(store: Store, client: Client, files: readonly File[]): Promise<void> {
  const sources: MapInput[] = [];
  let doc: MapFileDoc | undefined;
  for (const f of files) {
    // mapFileText() writes the format first, so the head tells; a tool's map is not read twice.
    const head = await f.slice(0, SNIFF_BYTES).text();
    const d = head.includes('clusterscope-map') ? readDoc(store, f.name, await f.text()) : undefined;
    if (d === 'refused') return;
    if (d) doc = d;
    sources.push(d ? docSource(d, f.name) : { kind: 'file', file: f });
  }
  const label = files.map((f) => f.name).join(', ');
  const r = await openMapInputs(store, client, sources, doc ? docMeta(doc) : { files: [] }, label);
  if (r === 'opened' && doc) landOnDoc(store, doc);
}

/** What a drop or the file picker gives: map files open as a map, the rest as images. */
export async function openAnyFiles(
  store: Store,
  client: Client,
  files: readonly File[],
  openImages: (files: readonly File[]) => void,
): Promise<void> {
  const { maps, images } = await splitMapFiles(files);
  if (images.length) openImages(images);
  else if (maps.length) await openMapFiles(store, client, maps);
}

/** The host a remote URL is read from, as the page names it to the person. */
const hostOf = (url: string): string => {
  const u = new URL(url);
  return `${u.host} (${u.protocol.replace(':', '')})`;
};

/**
 * Opens a remote image by URL the person typed or allowed. A backing file the worker did not
 * request because it lies on another origin than the image's (MissingBacking.blockedUrl) is
 * asked about, naming it and its origin; allowed, the image opens again with that origin too.
 */
export async function openRemote(
  store: Store,
  client: Client,
  url: string,
  origins: readonly string[] = [],
): Promise<number | undefined> {
  const id = await openSource(store, client, { kind: 'url', url, ...(origins.length > 0 && { origins }) });
  const chain = store.getState().chain;
  const mb = id !== undefined && chain?.id === id ? chain.missingBacking : undefined;
  if (!mb?.blockedUrl) return id;
  const a = await askFirst(store, {
    kind: 'backing',
    url: mb.blockedUrl,
    name: mb.name,
    from: mb.from,
    imageUrl: url,
  });
  if (a !== 'yes') return id;
  trust(store, mb.blockedUrl);
  return openRemote(store, client, url, [...origins, originOf(mb.blockedUrl)]);
}

/** "Open by URL": the person typed the address, so its host needs no second question. */
export function openTypedUrl(store: Store, client: Client, url: string): Promise<number | undefined> {
  if (linkableUrl(url) !== undefined) trust(store, url);
  return openRemote(store, client, url);
}

/**
 * Opens what a link names instead of a local file: the remote image at its URL (read with range
 * requests, saying from which host; the map the link may also carry is the fallback when the
 * server cannot be read), else the map it carries. 'none' when the link names neither.
 *
 * A link's URL was chosen by whoever made the link: unless the person typed or allowed its origin
 * in this page, the page shows the whole URL and asks before the first request ('declined' when
 * the answer is no and the link carries no map to show instead).
 */
export async function openLinkSource(
  store: Store,
  client: Client,
  link: UrlState,
): Promise<'opened' | 'none' | 'failed' | 'superseded' | 'declined'> {
  const files = link.files ?? [];
  const meta: MapOpenMeta = { files, ...(link.image && { image: link.image }) };
  const url = link.url;
  const answer =
    url === undefined || trusted(store, url) ? 'yes' : await askFirst(store, { kind: 'link', url });
  if (answer === 'gone') return 'superseded';
  if (url !== undefined && answer === 'yes') {
    trust(store, url);
    store
      .getState()
      .notify(
        'info',
        `This link opens a remote image: reading ${files[0] ?? 'it'} from ${hostOf(url)} with HTTP range requests (metadata only, nothing is uploaded). Address: ${url}`,
      );
    if ((await openRemote(store, client, url)) !== undefined) return 'opened';
    const st = store.getState();
    if (!link.map || st.load.status !== 'error') return 'failed';
    const why = st.openErrors[0]?.message ?? 'it could not be opened';
    st.notify(
      'warn',
      `The remote image could not be read (${why}), so the map carried in the link is shown instead.`,
    );
  } else if (url !== undefined) {
    const what = `The image at ${url} was not read`;
    if (!link.map) {
      store.getState().notify('info', `${what}.`);
      return 'declined';
    }
    store.getState().notify('info', `${what}; the map carried in the link is shown instead.`);
  } else if (link.map) {
    store
      .getState()
      .notify(
        'info',
        `Showing the map carried in the link${files.length ? `, made from ${files.join(', ')}` : ''}. Drop the image${files.length > 1 ? 's' : ''} to inspect clusters.`,
      );
  } else return 'none';
  const r = await openMapInputs(
    store,
    client,
    [{ kind: 'link', payload: link.map! }],
    meta,
    files[0] ?? 'link map',
  );
  if (typeof r === 'string') return r;
  // A damaged map in a link: say why (issue 6); the caller decides what to show instead.
  store.getState().notify('warn', `The map carried in the link is damaged: ${r.failed}.`);
  return 'failed';
}

/**
 * What the page opens first for a link: the remote image it names or the map it carries;
 * nothing when it names files that only the recipient has (with a notice saying which to drop);
 * else the linked or first sample. A damaged map falls back to the default view.
 */
export function startFromLink(store: Store, client: Client, link: UrlState, openSample: () => void): void {
  const files = link.files ?? [];
  if (link.url || link.map) {
    void openLinkSource(store, client, link).then((r) => {
      // A remote image that failed stays named in the errors; one the person declined, or a
      // damaged map, leaves the default view.
      if (r !== 'declined' && (r !== 'failed' || link.url)) return;
      store.getState().notify(r === 'declined' ? 'info' : 'warn', 'The default view is shown instead.');
      openSample();
    });
    return;
  }
  if (link.sample === undefined && files.length) {
    store
      .getState()
      .notify(
        'info',
        `This link shows a view of ${files.join(', ')}. Drop ${files.length > 1 ? 'them' : 'it'} here to open it.`,
      );
    return;
  }
  openSample();
}
