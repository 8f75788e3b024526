/**
 * View state <-> URL hash, versioned (STYLE.md: everything that leaves the app carries a
 * version, and old versions are upgraded step by step, as Firefox Profiler's URL upgraders).
 * Only what a person would share: the sample, the http(s) URL of a remote image, the chain's
 * file names (base names, never paths), the top image's identity (virtual size and a
 * fingerprint of header + L1 table), the guest range as a readable locus, layers, the selected
 * cluster, the snapshot, and optionally a compressed map (core/share/mapCodec.ts). Never file
 * bytes, never local paths, never credentials.
 *
 * v2 (current): #v=2&url=https%3A%2F%2Fhost%2Ftop.qcow2&file=top.qcow2&file=base.qcow2&size=0x100000
 *               &fp=<16 hex>&range=0x20000-0x40000&layers=data,zero&sel=0x30000&snap=name&bm=name&map=<base64url>
 *               (`url` and `bm` were added within v2: optional fields older v2 pages ignore, so no upgrader.)
 * v1:           #v=1&sample=chain-3&view=10000-50000&layers=data&sel=20000 (bare hex)
 * A hash without `v` is read as the current version, so a hand-typed `#range=1M-2M` works.
 *
 * Decoding never throws: a hostile or truncated hash yields the parts that are sound and a
 * list of problems in words; the app shows them and opens the default view for the rest.
 */
import { hex } from '../core/format.ts';
import { isFingerprint } from '../core/share/fingerprint.ts';
import type { ImageIdentity } from '../protocol/source.ts';
import { type DiffSpec, readDiffParams, writeDiffParams } from './diff.ts';
import { DEFAULT_LAYERS, LAYER_IDS, type LayerId, type LayerToggles } from './layers.ts';
import { isSafeFileName, MAX_LINK_FILES, parseOffset } from './urlParts.ts';
import type { ViewRange } from './view.ts';

export const URL_VERSION = 2;
/** Longest hash decoded at all: a link with a map is kept below MAX_LINK_CHARS (permalink.ts). */
export const MAX_HASH_CHARS = 40 * 1024;
export const MAX_SNAPSHOT_CHARS = 255;
/** A persistent bitmap's name is at most 1023 bytes (qcow2 BME_MAX_NAME_SIZE). */
export const MAX_BITMAP_NAME_CHARS = 1023;
/**
 * Longest remote image URL a link may carry. 2 KiB is the lowest limit still common on the way
 * (legacy Edge/IE cut URLs at 2083 characters, several proxies and CDNs at 2-4 KiB), and the
 * link repeats the URL percent-encoded inside its own, so a longer one would not survive.
 */
export const MAX_LINK_URL_CHARS = 2048;

export interface UrlState {
  readonly sample?: string;
  /** An http(s) image read with range requests (worker/remoteSource.ts); see linkableUrl(). */
  readonly url?: string;
  readonly view?: ViewRange;
  readonly layers?: LayerToggles;
  readonly selection?: number;
  /** The diff view's A and B (diff.ts: `a=INTERP@VIEW&b=...`). */
  readonly diff?: DiffSpec;
  readonly snapshot?: string;
  /** The persistent bitmap the dirty and backup layers show. */
  readonly bitmap?: string;
  /** Chain file names, top first. */
  readonly files?: readonly string[];
  /** The top image the link was made from (its name is files[0]). */
  readonly image?: ImageIdentity;
  /** A map carried in the link, still encoded (core/share/mapCodec.ts). */
  readonly map?: string;
}

export interface ParsedHash {
  readonly state: UrlState;
  /** What was wrong with the hash, in words; empty for a sound one. */
  readonly problems: readonly string[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Step-by-step upgraders: UPGRADERS[n] turns version n's params into version n + 1's. */
const UPGRADERS: Readonly<Record<number, (p: URLSearchParams) => void>> = {
  1: (p) => {
    const view = /^([0-9a-f]{1,14})-([0-9a-f]{1,14})$/i.exec(p.get('view') ?? '');
    p.delete('view');
    if (view) p.set('range', `0x${view[1]}-0x${view[2]}`);
    const sel = p.get('sel');
    if (sel !== null) p.set('sel', /^[0-9a-f]{1,14}$/i.test(sel) ? `0x${sel}` : sel);
  },
};

/** A guest range in locus form: START-END, or START+LENGTH ('+' may arrive as a space). */
export function parseLocus(s: string): ViewRange | undefined {
  const m = /^([^-+ ]+)\s*([-+ ])\s*([^-+ ]+)$/.exec(s.trim());
  if (!m) return undefined;
  const a = parseOffset(m[1]!);
  const b = parseOffset(m[3]!);
  if (a === undefined || b === undefined) return undefined;
  const end = m[2] === '-' ? b : a + b;
  return end > a && Number.isSafeInteger(end) ? { start: a, end } : undefined;
}

export const formatLocus = (v: ViewRange): string => `${hex(v.start)}-${hex(v.end)}`;

/**
 * The form of a remote image URL a link may carry, or why it may not: http or https only, at most
 * MAX_LINK_URL_CHARS, never with credentials (`user:pass@` would hand them to everyone the link
 * reaches). The fragment is dropped: it never reaches the server.
 */
export function checkLinkUrl(text: string): { url: string } | { problem: string } {
  if (text.length > MAX_LINK_URL_CHARS)
    return { problem: `it is longer than ${MAX_LINK_URL_CHARS} characters` };
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { problem: 'it is not a URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return { problem: `only http and https images can be opened, not ${u.protocol.slice(0, 16)}` };
  if (u.username || u.password) return { problem: 'it carries a user name or password' };
  u.hash = '';
  return u.href.length > MAX_LINK_URL_CHARS
    ? { problem: `it is longer than ${MAX_LINK_URL_CHARS} characters` }
    : { url: u.href };
}

/** The URL as a link carries it, or undefined when checkLinkUrl() refuses it. */
export const linkableUrl = (text: string): string | undefined => {
  const r = checkLinkUrl(text);
  return 'url' in r ? r.url : undefined;
};

export function toHash(s: UrlState): string {
  const p = new URLSearchParams();
  p.set('v', String(URL_VERSION));
  if (s.sample) p.set('sample', s.sample);
  const url = s.url === undefined ? undefined : linkableUrl(s.url);
  if (url) p.set('url', url);
  const files = (s.files ?? []).filter(isSafeFileName).slice(0, MAX_LINK_FILES);
  for (const f of files) p.append('file', f);
  if (s.image) {
    p.set('size', hex(s.image.size));
    if (s.image.fingerprint) p.set('fp', s.image.fingerprint);
  }
  if (s.view) p.set('range', formatLocus(s.view));
  if (s.layers) p.set('layers', LAYER_IDS.filter((id) => s.layers?.[id]).join(','));
  if (s.selection !== undefined) p.set('sel', hex(s.selection));
  if (s.snapshot) p.set('snap', s.snapshot.slice(0, MAX_SNAPSHOT_CHARS));
  if (s.bitmap !== undefined && s.bitmap.length <= MAX_BITMAP_NAME_CHARS) p.set('bm', s.bitmap);
  if (s.diff) writeDiffParams(p, s.diff);
  if (s.map) p.set('map', s.map);
  return `#${p.toString()}`;
}

export function parseHash(hash: string): ParsedHash {
  const problems: string[] = [];
  const out: Mutable<UrlState> = {};
  const body = hash.replace(/^#/, '');
  if (body === '') return { state: out, problems };
  if (body.length > MAX_HASH_CHARS) {
    return {
      state: out,
      problems: [
        `The link is ${body.length} characters long, more than the ${MAX_HASH_CHARS} this page reads.`,
      ],
    };
  }
  let p: URLSearchParams;
  try {
    p = new URLSearchParams(body);
  } catch {
    return { state: out, problems: ['The link could not be read.'] };
  }
  const vText = p.get('v') ?? String(URL_VERSION);
  let version = /^\d{1,3}$/.test(vText) ? Number(vText) : Number.NaN;
  if (!(version >= 1 && version <= URL_VERSION)) {
    return {
      state: out,
      problems: [
        version > URL_VERSION
          ? `The link was made by a newer clusterscope (link format ${version}; this page reads up to ${URL_VERSION}).`
          : `The link's format version '${vText.slice(0, 16)}' is not one this page knows.`,
      ],
    };
  }
  for (; version < URL_VERSION; version++) UPGRADERS[version]!(p);

  const sample = p.get('sample');
  if (sample !== null) {
    if (/^[\w.-]{1,64}$/.test(sample)) out.sample = sample;
    else problems.push('The sample name in the link is malformed.');
  }
  const url = p.get('url');
  if (url !== null) {
    const r = checkLinkUrl(url);
    if ('url' in r) out.url = r.url;
    else problems.push(`The image URL in the link was refused: ${r.problem}.`);
  }
  const names = p.getAll('file');
  if (names.length) {
    if (names.length <= MAX_LINK_FILES && names.every(isSafeFileName)) out.files = names;
    else problems.push('The file names in the link are malformed.');
  }
  const size = p.get('size');
  if (size !== null) {
    const n = parseOffset(size);
    const fp = p.get('fp');
    if (n === undefined) problems.push('The image size in the link is malformed.');
    else if (fp !== null && !isFingerprint(fp))
      problems.push('The image fingerprint in the link is malformed.');
    else if (out.files?.[0])
      out.image = { name: out.files[0], size: n, ...(fp !== null && { fingerprint: fp }) };
  }
  const range = p.get('range');
  if (range !== null) {
    const v = parseLocus(range);
    if (v) out.view = v;
    else
      problems.push(
        `The range '${range.slice(0, 40)}' is not START-END (e.g. 0x20000-0x40000 or 128K-256K).`,
      );
  }
  const layers = p.get('layers');
  if (layers !== null) {
    const on = new Set(layers.split(','));
    const unknown = [...on].filter((x) => x !== '' && !(LAYER_IDS as readonly string[]).includes(x));
    if (unknown.length)
      problems.push(`Unknown layers in the link were left out: ${unknown.slice(0, 4).join(', ')}.`);
    out.layers = Object.fromEntries(LAYER_IDS.map((id) => [id, on.has(id)])) as Record<LayerId, boolean>;
  }
  const sel = p.get('sel');
  if (sel !== null) {
    const n = parseOffset(sel);
    if (n !== undefined) out.selection = n;
    else problems.push('The selected cluster in the link is malformed.');
  }
  const snap = p.get('snap');
  if (snap !== null) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (snap.length <= MAX_SNAPSHOT_CHARS && !/[\u0000-\u001f]/.test(snap)) out.snapshot = snap;
    else problems.push('The snapshot name in the link is malformed.');
  }
  const bm = p.get('bm');
  if (bm !== null) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (bm.length > 0 && bm.length <= MAX_BITMAP_NAME_CHARS && !/[\u0000-\u001f]/.test(bm)) out.bitmap = bm;
    else problems.push('The bitmap name in the link is malformed.');
  }
  const diff = readDiffParams(p, problems);
  if (diff) out.diff = diff;
  const map = p.get('map');
  if (map !== null) {
    if (/^[\w-]+$/.test(map)) out.map = map;
    else problems.push('The map in the link is not base64url text (was it cut or re-encoded?).');
  }
  return { state: out, problems };
}

/** The sound parts of a hash (problems dropped). */
export const fromHash = (hash: string): UrlState => parseHash(hash).state;

export { DEFAULT_LAYERS };
