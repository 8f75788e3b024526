/**
 * The diff view's shareable state: which two interpretations (catalogue ids) under which views
 * (viewSource.ts text form) are compared. Both travel in the URL as `a=INTERP@VIEW&b=...`, the
 * CLI's `diff --a/--b` syntax, so a link and a command line name a comparison the same way.
 *
 * When B reads a second image (two different files), the link names it as the main permalink
 * names the page's image (url.ts `file`, `size`, `fp`): `bfile=TOP&bfile=BACKING...&bsize=0x..
 * &bfp=<16 hex>`. Base names and the identity only: never bytes, never paths.
 */

import { hex } from '../core/format.ts';
import { CATALOGUE_IDS } from '../core/interpret/catalogue.ts';
import { dirtyBitmapName } from '../core/interpret/ids.ts';
import { formatView, parseView } from '../core/interpret/viewSource.ts';
import { isFingerprint } from '../core/share/fingerprint.ts';
import type { ChainInfo, ImageIdentity } from '../protocol/source.ts';
import { compareImages } from './permalink.ts';
import { isSafeFileName, MAX_LINK_FILES, parseOffset } from './urlParts.ts';

export interface DiffSideState {
  /** Catalogue id (core/interpret/catalogue.ts). */
  readonly interp: string;
  /** View text form, '' for the chain as opened. */
  readonly view: string;
}

/** The second image side B reads, as a link names it. */
export interface DiffImage {
  /** Base names, top first (the top's is the image's name). */
  readonly files: readonly string[];
  /** Virtual size in bytes. */
  readonly size: number;
  /** fnv1a64 of the top's header and L1 table (worker/fingerprint.ts). */
  readonly fingerprint?: string;
}

export interface DiffSpec {
  readonly a: DiffSideState;
  readonly b: DiffSideState;
  /** Compare the tools' values as a text diff would; absent: by the facts both sides state. */
  readonly byValue?: true;
  /** B reads this image instead of the page's; absent, both sides read the page's image. */
  readonly bImage?: DiffImage;
}

/** The identity a link names for an opened second image. */
export const identityOfSecond = (c: ChainInfo): DiffImage => ({
  files: c.layers.map((l) => l.name),
  size: c.length,
  ...(c.fingerprint !== undefined && { fingerprint: c.fingerprint }),
});

/** A DiffImage as the permalink's ImageIdentity (its name is the top's). */
export const asIdentity = (d: DiffImage): ImageIdentity => ({
  name: d.files[0] ?? '',
  size: d.size,
  ...(d.fingerprint !== undefined && { fingerprint: d.fingerprint }),
});

/**
 * The second image B reads, if the one open is the one the spec names (permalink.ts's rule for
 * "same image"): after Back to an older comparison, or a link naming another image, it is not.
 */
export function secondFor(d: DiffSpec | undefined, s: ChainInfo | undefined): ChainInfo | undefined {
  if (!d?.bImage || !s) return undefined;
  return compareImages(asIdentity(d.bImage), asIdentity(identityOfSecond(s))).same ? s : undefined;
}

/** Guest bytes the diff view spans: the page's image, or B's second image when it is longer. */
export const diffLength = (pageLength: number, d: DiffSpec | undefined, s: ChainInfo | undefined): number =>
  Math.max(pageLength, secondFor(d, s)?.length ?? 0);

/** The June 2021 thread's question: qemu-nbd 5.2 against 6.0+, each layer alone. */
export const DEFAULT_DIFF: DiffSpec = {
  a: { interp: 'nbd-base-allocation-5.2', view: 'backing-null' },
  b: { interp: 'nbd-base-allocation-6.0', view: 'backing-null' },
};

/** `INTERP@VIEW`, or `INTERP` for the default view. */
export const formatSide = (s: DiffSideState): string => (s.view ? `${s.interp}@${s.view}` : s.interp);

/** Parses `INTERP[@VIEW]`; undefined for an unknown id or a malformed view. */
export function parseSide(text: string): DiffSideState | undefined {
  if (text.length > 300) return undefined;
  const at = text.indexOf('@');
  const interp = at < 0 ? text : text.slice(0, at);
  // A catalogue id, or a persistent bitmap's (its one spelling of the name, ids.ts).
  if (!CATALOGUE_IDS.includes(interp) && dirtyBitmapName(interp) === undefined) return undefined;
  try {
    return { interp, view: formatView(parseView(at < 0 ? '' : text.slice(at + 1))) };
  } catch {
    return undefined;
  }
}

/** Adds the diff's params to a hash being built. */
export function writeDiffParams(p: URLSearchParams, d: DiffSpec): void {
  p.set('a', formatSide(d.a));
  p.set('b', formatSide(d.b));
  if (d.byValue) p.set('cmp', 'values');
  const files = (d.bImage?.files ?? []).filter(isSafeFileName).slice(0, MAX_LINK_FILES);
  if (!d.bImage || !files.length) return;
  for (const f of files) p.append('bfile', f);
  p.set('bsize', hex(d.bImage.size));
  if (d.bImage.fingerprint) p.set('bfp', d.bImage.fingerprint);
}

/** The second image a hash names (`bfile`, `bsize`, `bfp`), if sound; problems in words otherwise. */
function readDiffImage(p: URLSearchParams, problems: string[]): DiffImage | undefined {
  const files = p.getAll('bfile');
  const size = p.get('bsize');
  const fp = p.get('bfp');
  if (!files.length && size === null && fp === null) return undefined;
  const n = size === null ? undefined : parseOffset(size);
  if (!files.length || files.length > MAX_LINK_FILES || !files.every(isSafeFileName) || n === undefined) {
    problems.push("The link's image B (bfile, bsize) is malformed; B reads the page's image instead.");
    return undefined;
  }
  if (fp !== null && !isFingerprint(fp)) {
    problems.push("The link's fingerprint of image B is malformed; B reads the page's image instead.");
    return undefined;
  }
  return { files, size: n, ...(fp !== null && { fingerprint: fp }) };
}

/** The diff named by a hash's `a` and `b`, if both are sound; problems in words otherwise. */
export function readDiffParams(p: URLSearchParams, problems: string[]): DiffSpec | undefined {
  const at = p.get('a');
  const bt = p.get('b');
  if (at === null && bt === null) return undefined;
  const a = at === null ? undefined : parseSide(at);
  const b = bt === null ? undefined : parseSide(bt);
  if (!a || !b) {
    problems.push(
      `The comparison in the link (a=${(at ?? '').slice(0, 60)}, b=${(bt ?? '').slice(0, 60)}) names an unknown interpretation or view; it was left out.`,
    );
    return undefined;
  }
  const bImage = readDiffImage(p, problems);
  const cmp = p.get('cmp');
  if (cmp !== null && cmp !== 'values' && cmp !== 'meaning')
    problems.push(
      `The link's comparison mode '${cmp.slice(0, 20)}' is not meaning or values; A and B are compared by meaning.`,
    );
  return { a, b, ...(cmp === 'values' && { byValue: true as const }), ...(bImage && { bImage }) };
}
