/**
 * Permalinks beyond the view: the image's identity (name, virtual size, fingerprint of header
 * + L1 table) and the map a link may carry. Pure functions over ChainInfo and strings, so tests
 * drive them without a page.
 */

import { binarySize } from '../core/format.ts';
import { MAP_FILE_DOC_VERSION, MAP_FILE_FORMAT, type MapFileDocument } from '../core/share/mapFileDoc.ts';
import type { ChainInfo, ImageIdentity } from '../protocol/source.ts';

/**
 * Longest link "Copy link with map" makes. Links pass through chat tools, issue trackers and
 * mail clients; several cut or refuse URLs past 32 KiB (and some browsers' address bars show
 * far less), so a longer map is offered as a file instead.
 */
export const MAX_LINK_CHARS = 32 * 1024;

/** The identity of the image a chain shows (its top), or of the image a link's map came from. */
export function identityOf(c: ChainInfo): ImageIdentity | undefined {
  if (c.mapOnly) return c.mapOnly.image;
  const top = c.layers[0];
  if (!top) return undefined;
  return {
    name: top.name,
    size: c.length,
    ...(c.fingerprint !== undefined && { fingerprint: c.fingerprint }),
  };
}

const describeImage = (i: ImageIdentity) =>
  `${i.name} (${binarySize(i.size, true)}${i.fingerprint ? `, fingerprint ${i.fingerprint}` : ''})`;

/**
 * Same image: equal fingerprints and sizes (the name may differ: a renamed copy is the same
 * image); without a fingerprint on one side, equal names and sizes.
 */
export function compareIdentity(linked: ImageIdentity, c: ChainInfo): { same: boolean; message: string } {
  return compareImages(linked, identityOf(c));
}

/** compareIdentity() for any image's identity (the diff view's image B has no ChainInfo). */
export function compareImages(
  linked: ImageIdentity,
  got: ImageIdentity | undefined,
): { same: boolean; message: string } {
  if (!got) return { same: false, message: `The link was made for ${describeImage(linked)}.` };
  const same =
    linked.fingerprint && got.fingerprint
      ? linked.fingerprint === got.fingerprint && linked.size === got.size
      : linked.name === got.name && linked.size === got.size;
  if (same) {
    const renamed = linked.name !== got.name ? ` (renamed from ${linked.name})` : '';
    return {
      same,
      message: `Same image as the link: ${describeImage(got)}${renamed}. Opened where it was shared.`,
    };
  }
  return {
    same,
    message: `Different image: the link was made for ${describeImage(linked)}, but this is ${describeImage(got)}. The shared view is shown on this image anyway.`,
  };
}

/** The page's address with a new hash (no query, no path beyond the page's). */
export const linkWithHash = (pageUrl: string, hash: string): string => pageUrl.replace(/#.*$/, '') + hash;

/** A downloaded clusterscope map file (core/share/mapFileDoc.ts reads it back, checking every member). */
export type MapFileDoc = MapFileDocument;

export const mapFileText = (doc: Omit<MapFileDoc, 'format' | 'version'>): string =>
  `${JSON.stringify({ format: MAP_FILE_FORMAT, version: MAP_FILE_DOC_VERSION, ...doc }, null, 1)}\n`;

/**
 * Whether dropped bytes look like a map file rather than an image: text that starts like
 * qemu-img map JSON, nbdinfo --json, a clusterscope map file, an nbdinfo --map line, or qemu-img
 * map's human table (its header line). A raw
 * image could start so by chance; such a drop can still be opened through "Open images…".
 */
/** qemu-img map's human output starts with this header (core/import/mapFile.ts reads the rest). */
const HUMAN_MAP_HEADER = /^Offset +Length +Mapped to +File\r?\n/;

export function looksLikeMapText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  for (const b of head) if (b === 0 || (b < 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09)) return false;
  const t = new TextDecoder().decode(head).trimStart();
  return /^(\[\s*\{|\{)/.test(t) || /^\d+\s+\d+\s+\d+(\s|$)/.test(t) || HUMAN_MAP_HEADER.test(t);
}
