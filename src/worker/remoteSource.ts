/**
 * A ByteSource over an http(s) URL, read with Range requests: only the bytes the engine asks
 * for (header, L1, refcount and L2 tables) cross the network, never the image's data. Core
 * already batches its reads (whole L2 tables, coalesced neighbours), which is what keeps the
 * request count small; ranges already fetched are served again from memory.
 *
 * Servers that cannot be read this way get an IoError that says why: no 206 (Range ignored),
 * no readable Content-Range (CORS exposes only safelisted headers), or a network/CORS refusal.
 */

import { openLayer } from '../core/chain/layer.ts';
import { IoError } from '../core/errors.ts';
import type { ByteSource } from '../core/io/byteSource.ts';
import { MAX_CHAIN_DEPTH } from '../core/limits.ts';
import type { NamedSource } from './chainFiles.ts';

/** The first request: enough for the header, its extensions and the backing file name. */
const PROBE_BYTES = 64 * 1024;

export interface FetchStats {
  requests: number;
  bytes: number;
}

export type Fetch = (
  url: string,
  init: { headers: Record<string, string>; signal?: AbortSignal },
) => Promise<Response>;

const fileOf = (url: string): string => {
  const path = new URL(url).pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || url;
};

export function checkRemoteUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new IoError({ file: url, structure: 'URL' }, 'not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new IoError(
      { file: url, structure: 'URL' },
      `only http and https URLs can be opened, not ${u.protocol}`,
    );
  }
  if (u.username || u.password) {
    throw new IoError(
      { file: url, structure: 'URL' },
      'URLs with credentials are refused (they would end up in links)',
    );
  }
  return u;
}

export class RemoteSource implements ByteSource {
  /** Fetched ranges, in fetch order: [offset, bytes]. */
  private readonly cache: { offset: number; bytes: Uint8Array }[] = [];

  private constructor(
    readonly name: string,
    readonly url: string,
    readonly size: number,
    private readonly fetchFn: Fetch,
    readonly stats: FetchStats,
    first: Uint8Array,
  ) {
    this.cache.push({ offset: 0, bytes: first });
  }

  /** Probes `url` with a first Range request; `name` is what the chain calls the file. */
  static async open(url: string, name: string, fetchFn: Fetch, stats: FetchStats): Promise<RemoteSource> {
    checkRemoteUrl(url);
    const { bytes, total } = await rangeGet(url, 0, PROBE_BYTES, fetchFn, stats, name);
    return new RemoteSource(name, url, total, fetchFn, stats, bytes);
  }

  static nameOf(url: string): string {
    return fileOf(url);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    const end = Math.min(offset + length, this.size);
    if (end <= start) return new Uint8Array(0);
    for (const c of this.cache) {
      if (c.offset <= start && end <= c.offset + c.bytes.length) {
        return c.bytes.subarray(start - c.offset, end - c.offset);
      }
    }
    const { bytes } = await rangeGet(this.url, start, end - start, this.fetchFn, this.stats, this.name);
    if (this.cache.length < 4096) this.cache.push({ offset: start, bytes });
    return bytes;
  }
}

/** One `Range: bytes=a-b` GET, checked: 206 with a Content-Range naming the total size. */
async function rangeGet(
  url: string,
  offset: number,
  length: number,
  fetchFn: Fetch,
  stats: FetchStats,
  name: string,
): Promise<{ bytes: Uint8Array; total: number }> {
  const where = { file: name, structure: 'HTTP range request', offset };
  const ctl = new AbortController();
  let r: Response;
  stats.requests++;
  try {
    r = await fetchFn(url, {
      headers: { Range: `bytes=${offset}-${offset + length - 1}` },
      signal: ctl.signal,
    });
  } catch (e) {
    const origin = new URL(url).origin;
    throw new IoError(
      where,
      `could not fetch ${url} (${e instanceof Error ? e.message : String(e)}): the server at ${origin} is unreachable, ` +
        `or it does not allow this page to read it (CORS: it must answer with Access-Control-Allow-Origin, allow the ` +
        `Range request header in preflight and expose Content-Range), or this page's Content-Security-Policy ` +
        `(connect-src) does not allow ${origin}`,
    );
  }
  if (r.status === 200) {
    ctl.abort(); // do not download the whole image
    throw new IoError(
      where,
      `the server does not support range requests: it answered 200 with the whole file instead of 206 Partial Content` +
        `${r.headers.get('Accept-Ranges') === 'none' ? ' (Accept-Ranges: none)' : ''}; clusterscope reads only metadata and needs ranges`,
    );
  }
  if (r.status === 416 && offset === 0) {
    throw new IoError(where, 'the file is empty (416 Range Not Satisfiable)');
  }
  if (r.status !== 206) {
    ctl.abort();
    throw new IoError(where, `HTTP ${r.status} ${r.statusText} for ${url}`);
  }
  const cr = r.headers.get('Content-Range');
  const m = cr ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(cr.trim()) : null;
  if (!m) {
    ctl.abort();
    throw new IoError(
      where,
      cr
        ? `unexpected Content-Range '${cr}' (a known total size is needed)`
        : 'the answer is 206 but its Content-Range header cannot be read: a cross-origin server must send Access-Control-Expose-Headers: Content-Range',
    );
  }
  const total = Number(m[3]);
  if (Number(m[1]) !== offset) throw new IoError(where, `server answered range ${cr}, asked for ${offset}-`);
  const bytes = new Uint8Array(await r.arrayBuffer());
  stats.bytes += bytes.length;
  const want = Math.min(length, total - offset);
  if (bytes.length < want) throw new IoError(where, `short answer: ${bytes.length} of ${want} bytes`);
  return { bytes: bytes.length > want ? bytes.subarray(0, want) : bytes, total };
}

/**
 * The sources of a remote chain: the top at `url`, then each backing file resolved relative to
 * the URL of the image that names it (as QEMU's path_combine() does for files). A backing file
 * the server does not have (404) ends the list; the chain then shows the gap, as for a drop.
 */
export async function openRemoteChain(
  url: string,
  fetchFn: Fetch,
  stats: FetchStats,
  onLayer: (name: string, depth: number) => void,
): Promise<NamedSource[]> {
  const out: NamedSource[] = [];
  let cur = url;
  let name = RemoteSource.nameOf(url);
  let format: string | undefined;
  const seen = new Set<string>();
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    onLayer(name, depth);
    if (seen.has(cur)) break; // a loop: openChain reports it
    seen.add(cur);
    let source: RemoteSource;
    try {
      source = await RemoteSource.open(cur, name, fetchFn, stats);
    } catch (e) {
      if (depth > 0 && e instanceof IoError && /HTTP 404/.test(e.message)) break;
      throw e;
    }
    out.push({ name, source });
    const layer = await openLayer(source, format);
    if (layer.format !== 'qcow2' || layer.backingName === undefined) break;
    cur = new URL(layer.backingName, cur).href;
    checkRemoteUrl(cur);
    name = layer.backingName;
    format = layer.backingFormat;
  }
  return out;
}
