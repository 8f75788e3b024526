/**
 * Opening maps without the image: dropped or pasted map files, a downloaded clusterscope map
 * file, or the map a link carries. Dropped files are sorted here: map text goes to openMap,
 * anything else to the image loader.
 */
import { OpenFailed } from '../worker/client.ts';
import { openMap } from '../worker/mapFileClient.ts';
import type { MapOpenMeta, MapSource } from '../worker/mapFileProtocol.ts';
import { looksLikeMapText, readMapFileDoc } from './permalink.ts';
import type { Store } from './store.ts';

type Client = Parameters<typeof openMap>[0];

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

export async function openMapSources(
  store: Store,
  client: Client,
  sources: readonly MapSource[],
  meta: MapOpenMeta,
  label: string,
): Promise<boolean> {
  store.getState().startLoad([{ name: label, size: 0 }]);
  try {
    const { openId, chain } = await openMap(client, sources, meta);
    store.getState().opened(openId, chain);
    return true;
  } catch (e) {
    const errs =
      e instanceof OpenFailed
        ? e.files
        : [
            {
              kind: 'internal' as const,
              name: 'Error',
              file: label,
              structure: 'map',
              detail: String(e),
              message: String(e),
            },
          ];
    store.getState().failed(errs);
    return false;
  }
}

/** Text pasted or dropped: a clusterscope map file opens its map (and view); other text is parsed as a tool's map. */
export async function openMapText(
  store: Store,
  client: Client,
  name: string,
  text: string,
): Promise<string | undefined> {
  const doc = readMapFileDoc(text);
  if (doc) {
    await openMapSources(
      store,
      client,
      [{ kind: 'link', payload: doc.map }],
      { files: doc.files, ...(doc.image && { image: doc.image }) },
      name,
    );
    return doc.hash;
  }
  await openMapSources(store, client, [{ kind: 'text', name, text }], { files: [] }, name);
  return undefined;
}

/** Dropped map files: a clusterscope map file opens as its link would; tools' maps are parsed in the worker. */
export async function openMapFiles(store: Store, client: Client, files: readonly File[]): Promise<void> {
  const label = files.map((f) => f.name).join(', ');
  const sources: MapSource[] = [];
  let meta: MapOpenMeta = { files: [] };
  for (const f of files) {
    const doc = f.size < 64 * 1024 * 1024 ? readMapFileDoc(await f.text()) : undefined;
    if (doc) {
      sources.push({ kind: 'link', payload: doc.map });
      meta = { files: doc.files, ...(doc.image && { image: doc.image }) };
    } else sources.push({ kind: 'file', file: f });
  }
  await openMapSources(store, client, sources, meta, label);
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

/**
 * What the page opens first for a link: the map it carries; nothing when it names files that
 * only the recipient has (with a notice saying which to drop); else the linked or first sample.
 */
export function startFromLink(
  store: Store,
  client: Client,
  link: import('./url.ts').UrlState,
  openSample: () => void,
): void {
  const files = link.files ?? [];
  const meta: MapOpenMeta = { files, ...(link.image && { image: link.image }) };
  if (link.map) {
    store
      .getState()
      .notify(
        'info',
        `Showing the map carried in the link${files.length ? `, made from ${files.join(', ')}` : ''}. Drop the image${files.length > 1 ? 's' : ''} to inspect clusters.`,
      );
    void openMapSources(
      store,
      client,
      [{ kind: 'link', payload: link.map }],
      meta,
      files[0] ?? 'link map',
    ).then((ok) => {
      if (ok) return;
      // A damaged map in a link: say so and fall back to the default view (issue 6).
      store
        .getState()
        .notify('warn', 'The map carried in the link is damaged, so the default view is shown instead.');
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
