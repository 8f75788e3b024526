/**
 * The downloadable clusterscope map file ("clusterscope-map", offered when a map is too long
 * for a link): a JSON object holding a link map (mapCodec.ts) and what the page needs to open
 * it where it was shared. Read from a dropped or pasted file, so untrusted: every member is
 * checked for its type and size, and a refusal names the file and the member. (A map file
 * whose "image" was an object of the wrong shape once reached the page and failed there with a
 * bare TypeError.) The page's own reader (state/permalink.ts) should call this one.
 */
import { FormatError } from '../errors.ts';
import { MAX_CHAIN_DEPTH } from '../limits.ts';
import { MAX_MAP_FILE_MAP_CHARS } from './mapCodec.ts';

export const MAP_FILE_FORMAT = 'clusterscope-map';
/** The map file's version; state/permalink.ts MAP_FILE_VERSION writes the same. */
export const MAP_FILE_DOC_VERSION = 1;
/** Longest file name, view hash or fingerprint kept (a path, a URL hash): 4 KiB. */
export const MAX_MAP_FILE_DOC_STRING = 4096;

export interface MapFileImage {
  readonly name: string;
  /** Virtual size in bytes. */
  readonly size: number;
  /** fnv1a64 of the top image's header and L1 table, 16 hex digits. */
  readonly fingerprint?: string;
}

export interface MapFileDocument {
  readonly format: typeof MAP_FILE_FORMAT;
  readonly version: number;
  /** The image files the map was made from (a chain: top first). */
  readonly files: readonly string[];
  readonly image?: MapFileImage;
  /** The link map (mapCodec.ts text). */
  readonly map: string;
  /** The view's hash, so the file opens where the link would have. */
  readonly hash: string;
}

const typeWords = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/**
 * `text` as a clusterscope map file, or undefined when it is not one at all (not a JSON object
 * naming the format: the caller tries the other map formats). A file that says it is one and is
 * wrong in any member is refused with a FormatError naming `file` and the member.
 */
export function readMapFileDocument(file: string, text: string): MapFileDocument | undefined {
  if (!text.trimStart().startsWith('{') || !text.includes(MAP_FILE_FORMAT)) return undefined;
  if (text.length > MAX_MAP_FILE_MAP_CHARS + 64 * 1024) {
    throw new FormatError(
      { file, structure: 'clusterscope map file' },
      `longer than any map file (${text.length} characters)`,
    );
  }
  let d: unknown;
  try {
    d = JSON.parse(text);
  } catch (e) {
    throw new FormatError(
      { file, structure: 'clusterscope map file' },
      `not valid JSON (${(e as Error).message})`,
    );
  }
  if (
    typeof d !== 'object' ||
    d === null ||
    Array.isArray(d) ||
    (d as { format?: unknown }).format !== MAP_FILE_FORMAT
  ) {
    return undefined;
  }
  const o = d as Record<string, unknown>;
  const bad = (member: string, why: string): never => {
    throw new FormatError({ file, structure: `clusterscope map file "${member}"` }, why);
  };
  const str = (member: string, v: unknown, max = MAX_MAP_FILE_DOC_STRING): string => {
    if (typeof v !== 'string') bad(member, `must be a string, not ${typeWords(v)}`);
    if ((v as string).length > max) bad(member, `is longer than ${max} characters`);
    return v as string;
  };
  if (o.version !== MAP_FILE_DOC_VERSION) {
    bad(
      'version',
      `is ${JSON.stringify(o.version)}; this clusterscope reads version ${MAP_FILE_DOC_VERSION}`,
    );
  }
  const map = str('map', o.map, MAX_MAP_FILE_MAP_CHARS);
  if (!/^[\w-]*$/.test(map)) bad('map', 'is not base64url text (was it re-encoded?)');
  let files: string[] = [];
  if (o.files !== undefined) {
    if (!Array.isArray(o.files)) bad('files', `must be a list of file names, not ${typeWords(o.files)}`);
    if ((o.files as unknown[]).length > MAX_CHAIN_DEPTH)
      bad('files', `names more than ${MAX_CHAIN_DEPTH} files`);
    files = (o.files as unknown[]).map((f, i) => str(`files[${i}]`, f));
  }
  let image: MapFileImage | undefined;
  if (o.image !== undefined) {
    const im = o.image;
    if (typeof im !== 'object' || im === null || Array.isArray(im)) {
      bad('image', `must be an object {name, size, fingerprint}, not ${typeWords(im)}`);
    }
    const m = im as Record<string, unknown>;
    const name = str('image.name', m.name);
    const size = m.size;
    if (
      typeof size !== 'number' ||
      !Number.isInteger(size) ||
      size < 0 ||
      (size > Number.MAX_SAFE_INTEGER && size % 512 !== 0)
    ) {
      bad('image.size', `must be a size in bytes, not ${typeof size === 'number' ? size : typeWords(size)}`);
    }
    let fingerprint: string | undefined;
    if (m.fingerprint !== undefined) {
      fingerprint = str('image.fingerprint', m.fingerprint);
      if (!/^[0-9a-f]{16}$/.test(fingerprint)) bad('image.fingerprint', 'must be 16 hex digits');
    }
    image = { name, size: size as number, ...(fingerprint !== undefined && { fingerprint }) };
  }
  const hash = o.hash === undefined ? '' : str('hash', o.hash);
  return {
    format: MAP_FILE_FORMAT,
    version: MAP_FILE_DOC_VERSION,
    files,
    ...(image && { image }),
    map,
    hash,
  };
}
