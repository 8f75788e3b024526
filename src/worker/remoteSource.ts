/**
 * A ByteSource over an http(s) URL, read with Range requests: only the bytes the engine asks
 * for (header, L1, refcount and L2 tables) cross the network, never the image's data. Core
 * already batches its reads (whole L2 tables, coalesced neighbours), which is what keeps the
 * request count small; ranges already fetched are served again from memory.
 *
 * The server is not trusted (issue 15): every answer is read as a stream into a buffer of the
 * length asked for and the rest is never read; each request has a deadline for its headers and
 * one for its body; an open reads at most MAX_OPEN_BYTES; a size QEMU could not open is refused
 * in QEMU's words; a text or HTML answer is refused, not opened as a raw disk; redirects are not
 * followed; the open's AbortSignal (a newer open supersedes) aborts every request in flight.
 * Backing files are read from the image's own origin only, unless the person allowed another.
 */

import { openLayer } from '../core/chain/layer.ts';
import { FormatError, IoError, LimitError } from '../core/errors.ts';
import { binarySize } from '../core/format.ts';
import type { ByteSource } from '../core/io/byteSource.ts';
import { MAX_CHAIN_DEPTH, MAX_READ_BYTES } from '../core/limits.ts';
import { isQcow2Magic } from '../core/qcow2/header.ts';
import { CancelledError } from '../core/status/layerStatus.ts';
import type { NamedSource } from './chainFiles.ts';

/** The first request: enough for the header, its extensions and the backing file name. */
const PROBE_BYTES = 64 * 1024;

/**
 * Bytes one answer may bring. The engine's largest read is MAX_READ_BYTES (a coalesced group of
 * L2 tables); a larger read (an L1 or snapshot table) is split into answers of this size. Each
 * body is read as a stream into a buffer of the length asked for: a server that sends more
 * (a 206 with 1.5 GiB of extra body once took the renderer to 5.6 GiB) is cut off there.
 */
export const MAX_RESPONSE_BYTES = MAX_READ_BYTES;

/**
 * Bytes one open (the image and its backing files, for as long as they are shown) may fetch.
 * Everything fetched stays cached in the worker, so this is also the memory a remote open may
 * hold. 256 MiB is twice the L2 tables of a fully allocated 1 TiB image at 64 KiB clusters.
 */
export const MAX_OPEN_BYTES = 256 * 1024 * 1024;

/**
 * Time from a request to its answer's headers. QEMU's curl driver gives a whole request 5 s by
 * default (block/curl.c CURL_BLOCK_OPT_TIMEOUT_DEFAULT); a cross-origin read here may wait for a
 * CORS preflight first, so twice that. A server that never answers ends in an error, not in
 * "fetching..." for ever.
 */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Once the headers are in, the body must arrive within BODY_GRACE_MS plus one second per
 * MIN_BODY_BYTES_PER_S of it: a 64 KiB probe gets 11 s, an 8 MiB group of L2 tables 138 s.
 * Slower than 64 KiB/s (a 512 kbit/s link) the map would take minutes anyway, and a server that
 * drips its answer (1 byte/s) would otherwise hold the open for ever.
 */
export const BODY_GRACE_MS = 10_000;
export const MIN_BODY_BYTES_PER_S = 64 * 1024;

/**
 * The largest length QEMU opens: BDRV_MAX_LENGTH (include/block/block_int-common.h), INT64_MAX
 * aligned down to BDRV_MAX_ALIGNMENT (2^30). QEMU 7.2's curl driver refuses a longer file with
 * "Could not refresh total sector count: File too large" (checked: a HEAD answer with
 * Content-Length 2^63 - 2^30 + 1 is refused, 2^63 - 2^30 opens as an 8 EiB raw image).
 */
export const BDRV_MAX_LENGTH = 2n ** 63n - 2n ** 30n;

/** Fetched ranges kept at most: each read scans them (the bytes are bounded by MAX_OPEN_BYTES). */
const MAX_CACHED_RANGES = 4096;

/** The budgets above, as one object (tests pass small ones). */
export interface Budgets {
  readonly responseBytes: number;
  readonly openBytes: number;
  readonly requestTimeoutMs: number;
  readonly bodyGraceMs: number;
  readonly minBodyBytesPerS: number;
}

export const BUDGETS: Budgets = {
  responseBytes: MAX_RESPONSE_BYTES,
  openBytes: MAX_OPEN_BYTES,
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  bodyGraceMs: BODY_GRACE_MS,
  minBodyBytesPerS: MIN_BODY_BYTES_PER_S,
};

export interface FetchStats {
  requests: number;
  /** Body bytes received. */
  bytes: number;
  /** Body bytes asked for: what MAX_OPEN_BYTES is checked against before a request is made. */
  asked: number;
}

/** What every request is made with (a subset of RequestInit). */
export interface FetchInit {
  readonly headers: Record<string, string>;
  readonly signal: AbortSignal;
  /** A redirect is an answer to refuse, never followed: it could lead to a host nobody chose. */
  readonly redirect: 'manual';
  /** No cookies or HTTP auth go with a read the page makes for a link. */
  readonly credentials: 'omit';
}

export type Fetch = (url: string, init: FetchInit) => Promise<Response>;

/** What the sources of one open share: how they fetch, what they fetched, when to stop. */
export interface RemoteContext {
  readonly fetch: Fetch;
  readonly stats: FetchStats;
  /** The open's signal: aborting it aborts every request in flight. */
  readonly signal?: AbortSignal;
  readonly budgets?: Partial<Budgets>;
}

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
  /**
   * Fetched ranges, in fetch order, the probe first; a range still in flight is here too, so a
   * read inside it (a cursor's L2 table while the scan fetches it) waits for it instead of
   * asking the server again.
   */
  private readonly cache: { offset: number; end: number; bytes: Promise<Uint8Array> }[] = [];

  private constructor(
    readonly name: string,
    readonly url: string,
    readonly size: number,
    private readonly ctx: RemoteContext,
    /** The file's first bytes (the probe's answer). */
    readonly head: Uint8Array,
    /** The probe's Content-Type, as the server sent it. */
    readonly contentType: string | null,
  ) {
    this.cache.push({ offset: 0, end: head.length, bytes: Promise.resolve(head) });
  }

  /** Probes `url` with a first Range request; `name` is what the chain calls the file. */
  static async open(url: string, name: string, ctx: RemoteContext): Promise<RemoteSource> {
    checkRemoteUrl(url);
    const a = await rangeGet(ctx, url, name, 0, PROBE_BYTES);
    return new RemoteSource(name, url, a.total, ctx, a.bytes, a.contentType);
  }

  static nameOf(url: string): string {
    return fileOf(url);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const start = Math.min(Math.max(0, offset), this.size);
    const end = Math.min(offset + length, this.size);
    if (end <= start) return new Uint8Array(0);
    const held = this.cache.find((c) => c.offset <= start && end <= c.end);
    if (held) return (await held.bytes).subarray(start - held.offset, end - held.offset);
    const entry = { offset: start, end, bytes: this.fetch(start, end) };
    if (this.cache.length < MAX_CACHED_RANGES) this.cache.push(entry);
    // A failed read is not kept: the next one asks again (and meets the same checks).
    entry.bytes.catch(() => {
      const i = this.cache.indexOf(entry);
      if (i >= 0) this.cache.splice(i, 1);
    });
    return entry.bytes;
  }

  /** Bytes [start, end): a read longer than one answer may be is asked for in parts, all at once. */
  private async fetch(start: number, end: number): Promise<Uint8Array> {
    const max = { ...BUDGETS, ...this.ctx.budgets }.responseBytes;
    const parts: Promise<Uint8Array>[] = [];
    for (let at = start; at < end; at += max) parts.push(this.get(at, Math.min(max, end - at)));
    const got = await Promise.all(parts);
    if (got.length === 1) return got[0]!;
    const bytes = new Uint8Array(end - start);
    for (let i = 0; i < got.length; i++) bytes.set(got[i]!, i * max);
    return bytes;
  }

  private async get(offset: number, length: number): Promise<Uint8Array> {
    const a = await rangeGet(this.ctx, this.url, this.name, offset, length);
    if (a.total !== this.size) {
      throw new IoError(
        { file: this.name, structure: 'HTTP Content-Range', offset },
        `the file changed on the server while it was read: its size was ${this.size} bytes, now ${a.total}`,
      );
    }
    return a.bytes;
  }
}

interface RangeAnswer {
  readonly bytes: Uint8Array;
  readonly total: number;
  readonly contentType: string | null;
}

/** Why a request was stopped from here: the open was cancelled, or a deadline passed. */
type Stop = 'cancel' | 'headers' | 'body';

/**
 * One `Range: bytes=a-b` GET, checked: a 206 whose Content-Range starts where asked and names a
 * total size QEMU could open; its body read up to the length asked for within the deadlines.
 */
async function rangeGet(
  ctx: RemoteContext,
  url: string,
  name: string,
  offset: number,
  length: number,
): Promise<RangeAnswer> {
  const b = { ...BUDGETS, ...ctx.budgets };
  const where = { file: name, structure: 'HTTP range request', offset };
  if (ctx.signal?.aborted) throw new CancelledError('cancelled');
  if (ctx.stats.asked + length > b.openBytes) {
    throw new LimitError(
      where,
      `reading ${length} more bytes would pass ${binarySize(b.openBytes)} of metadata for one open ` +
        `(MAX_OPEN_BYTES; ${ctx.stats.asked} bytes were asked for so far)`,
    );
  }
  ctx.stats.asked += length;
  ctx.stats.requests++;
  const origin = new URL(url).origin;
  const ctl = new AbortController();
  let stop: Stop | undefined;
  const stopBy = (why: Stop) => () => {
    stop ??= why;
    ctl.abort();
  };
  const onCancel = stopBy('cancel');
  ctx.signal?.addEventListener('abort', onCancel, { once: true });
  // Rejects once the request is stopped: every await below races it, so a fetch or a body that
  // ignores its signal cannot hold the open.
  const stopped = new Promise<never>((_, reject) =>
    ctl.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }),
  );
  stopped.catch(() => {});
  const progress = { got: 0, want: length, since: 0 };
  const stoppedError = (why: Stop): Error => {
    if (why === 'cancel') return new CancelledError('cancelled');
    if (why === 'headers') {
      return new IoError(
        where,
        `no answer from ${origin} within ${b.requestTimeoutMs / 1000} s (REQUEST_TIMEOUT_MS): ` +
          'the server is down, overloaded or holds the request open',
      );
    }
    const secs = ((Date.now() - progress.since) / 1000).toFixed(1);
    return new IoError(
      where,
      `the answer from ${origin} is too slow: ${progress.got} of ${progress.want} bytes in ${secs} s ` +
        `(an answer gets ${b.bodyGraceMs / 1000} s plus 1 s per ${binarySize(b.minBodyBytesPerS)}: ` +
        'BODY_GRACE_MS, MIN_BODY_BYTES_PER_S)',
    );
  };
  let timer = setTimeout(stopBy('headers'), b.requestTimeoutMs);
  try {
    let r: Response;
    try {
      r = await Promise.race([
        ctx.fetch(url, {
          headers: { Range: `bytes=${offset}-${offset + length - 1}` },
          signal: ctl.signal,
          redirect: 'manual',
          credentials: 'omit',
        }),
        stopped,
      ]);
    } catch (e) {
      if (stop) throw stoppedError(stop);
      throw new IoError(
        where,
        `could not fetch ${url} (${e instanceof Error ? e.message : String(e)}): the server at ${origin} is unreachable, ` +
          `or it does not allow this page to read it (CORS: it must answer with Access-Control-Allow-Origin, allow the ` +
          `Range request header in preflight and expose Content-Range), or this page's Content-Security-Policy ` +
          `(connect-src) does not allow ${origin}`,
      );
    }
    clearTimeout(timer);
    checkStatus(r, url, where);
    const cr = r.headers.get('Content-Range');
    const m = cr ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(cr.trim()) : null;
    if (!m) {
      throw new IoError(
        where,
        cr
          ? `unexpected Content-Range '${cr.slice(0, 100)}' (a known total size is needed)`
          : 'the answer is 206 but its Content-Range header cannot be read: a cross-origin server must send Access-Control-Expose-Headers: Content-Range',
      );
    }
    const total = checkTotal(m[3]!, { ...where, structure: 'HTTP Content-Range' });
    const first = Number(m[1]);
    const last = Number(m[2]);
    if (first !== offset || last < first) {
      throw new IoError(where, `server answered range ${cr}, asked for ${offset}-${offset + length - 1}`);
    }
    const want = Math.min(length, total - offset);
    if (last - first + 1 < want) {
      throw new IoError(where, `short answer: the server sent range ${cr}, ${want} bytes were asked for`);
    }
    progress.want = want;
    progress.since = Date.now();
    timer = setTimeout(stopBy('body'), b.bodyGraceMs + (want / b.minBodyBytesPerS) * 1000);
    let bytes: Uint8Array;
    try {
      bytes = await readBody(r, want, stopped, progress, ctx.stats);
    } catch (e) {
      if (stop) throw stoppedError(stop);
      throw new IoError(
        where,
        `reading the answer from ${origin} failed: ${e instanceof Error ? e.message : e}`,
      );
    }
    if (bytes.length < want) throw new IoError(where, `short answer: ${bytes.length} of ${want} bytes`);
    return { bytes, total, contentType: r.headers.get('Content-Type') };
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onCancel);
    // Ends whatever is left of the answer: a body longer than asked for, or one refused unread.
    ctl.abort();
  }
}

/** A 206, or an IoError that says what the server did instead. */
function checkStatus(r: Response, url: string, where: { file: string; structure: string; offset: number }) {
  if (r.type === 'opaqueredirect' || [301, 302, 303, 307, 308].includes(r.status)) {
    throw new IoError(
      where,
      `the server redirects ${url} elsewhere (HTTP ${r.status || '3xx'}): redirects are not followed, so that a ` +
        'server cannot send this page to a host nobody chose (the browser does not show the page where it ' +
        'points). Open the address it redirects to instead',
    );
  }
  if (r.status === 200) {
    const t = textAnswer(r.headers.get('Content-Type'), new Uint8Array(0));
    throw new IoError(
      where,
      t
        ? `the server answered 200 with ${t} instead of the image's bytes: taken for a login, error or directory page`
        : `the server does not support range requests: it answered 200 with the whole file instead of 206 Partial Content` +
            `${r.headers.get('Accept-Ranges') === 'none' ? ' (Accept-Ranges: none)' : ''}; clusterscope reads only metadata and needs ranges`,
    );
  }
  if (r.status === 416 && where.offset === 0) {
    throw new IoError(where, 'the file is empty (416 Range Not Satisfiable)');
  }
  if (r.status !== 206) throw new IoError(where, `HTTP ${r.status} ${r.statusText.slice(0, 100)} for ${url}`);
}

/**
 * The total size a Content-Range names, if QEMU could open a file that long and the engine can
 * hold it exactly (the digits are read as a BigInt: 10^20 is not rounded into something else).
 */
function checkTotal(digits: string, where: { file: string; structure: string; offset: number }): number {
  const total = BigInt(digits);
  // QEMU counts a file in 512-byte sectors (bdrv_refresh_total_sectors()): its length rounds up.
  const sectors = (total + 511n) / 512n;
  if (sectors * 512n > BDRV_MAX_LENGTH) {
    throw new LimitError(
      where,
      `Could not refresh total sector count: File too large (the server gives the file's size as ${digits} ` +
        `bytes; QEMU opens at most 2^63 - 2^30 = ${BDRV_MAX_LENGTH} bytes, BDRV_MAX_LENGTH)`,
    );
  }
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LimitError(where, `the file's size ${digits} exceeds 2^53 (MAX_SAFE_OFFSET)`);
  }
  if (total === 0n) throw new IoError(where, 'the file is empty (Content-Range total 0)');
  return Number(total);
}

/**
 * Reads `want` bytes of the body into one buffer and stops: the rest of a longer body is never
 * read (the caller aborts the request). Received bytes are counted into `stats` as they come.
 */
async function readBody(
  r: Response,
  want: number,
  stopped: Promise<never>,
  progress: { got: number },
  stats: FetchStats,
): Promise<Uint8Array> {
  const out = new Uint8Array(want);
  if (!r.body) return out.subarray(0, 0);
  const reader = r.body.getReader();
  try {
    while (progress.got < want) {
      const { done, value } = await Promise.race([reader.read(), stopped]);
      if (done) break;
      const n = Math.min(value.length, want - progress.got);
      out.set(value.subarray(0, n), progress.got);
      progress.got += n;
      stats.bytes += n;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return progress.got < want ? out.subarray(0, progress.got) : out;
}

/**
 * The HTML patterns of the WHATWG MIME Sniffing standard (§7.1, "rules for identifying an
 * unknown MIME type"): after leading whitespace, one of these (any case) followed by a space or
 * '>' marks an HTML page; "<?xml" marks XML.
 */
const HTML_TAGS = [
  '<!DOCTYPE HTML',
  '<HTML',
  '<HEAD',
  '<SCRIPT',
  '<IFRAME',
  '<H1',
  '<DIV',
  '<FONT',
  '<TABLE',
  '<A',
  '<STYLE',
  '<TITLE',
  '<B',
  '<BODY',
  '<BR',
  '<P',
  '<!--',
];

function sniffMarkup(head: Uint8Array): 'HTML' | 'XML' | undefined {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3; // a UTF-8 byte order mark
  while (i < head.length && [0x09, 0x0a, 0x0c, 0x0d, 0x20].includes(head[i]!)) i++;
  const at = (s: string) => [...s].every((c, k) => String.fromCharCode(head[i + k] ?? 0).toUpperCase() === c);
  if (at('<?XML')) return 'XML';
  for (const tag of HTML_TAGS) {
    const next = head[i + tag.length];
    if (at(tag) && (next === 0x20 || next === 0x3e)) return 'HTML';
  }
  return undefined;
}

/**
 * What an answer that is no disk image was taken for, from its Content-Type or, without a
 * telling one, its first bytes: an HTML page (a login, error or directory page) or other text.
 * Undefined for anything else.
 */
export function textAnswer(contentType: string | null, head: Uint8Array): string | undefined {
  const type = (contentType ?? '').slice(0, 100);
  const essence = type.split(';')[0]!.trim().toLowerCase();
  if (essence === 'text/html' || essence === 'application/xhtml+xml') {
    return `an HTML page (Content-Type: ${type})`;
  }
  if (essence.startsWith('text/') || /^application\/([\w.-]+\+)?(json|xml)$/.test(essence)) {
    return `text (Content-Type: ${type})`;
  }
  const markup = sniffMarkup(head);
  if (markup === 'HTML') return 'an HTML page (its first bytes are HTML markup)';
  if (markup === 'XML') return 'an XML document (its first bytes are an XML declaration)';
  return undefined;
}

/** A backing file not read: it lies on an origin the image's own is not, and nobody allowed it. */
export interface BlockedBacking {
  readonly name: string;
  readonly from: string;
  readonly url: string;
}

export interface RemoteChain {
  readonly sources: NamedSource[];
  readonly blocked?: BlockedBacking;
}

/**
 * The sources of a remote chain: the top at `url`, then each backing file resolved relative to
 * the URL of the image that names it (as QEMU's path_combine() does for files). A backing file
 * the server does not have (404) ends the list; the chain then shows the gap, as for a drop. So
 * does one on another origin than the top's that is not in `allowed`: it is not requested, and
 * `blocked` names it so the page can ask.
 */
export async function openRemoteChain(
  url: string,
  ctx: RemoteContext,
  allowed: readonly string[],
  onLayer: (name: string, depth: number) => void,
): Promise<RemoteChain> {
  const sources: NamedSource[] = [];
  const origins = new Set([checkRemoteUrl(url).origin, ...allowed]);
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
      source = await RemoteSource.open(cur, name, ctx);
    } catch (e) {
      if (depth > 0 && e instanceof IoError && /HTTP 404/.test(e.message)) break;
      throw e;
    }
    refuseText(source);
    sources.push({ name, source });
    const layer = await openLayer(source, format);
    if (layer.format !== 'qcow2' || layer.backingName === undefined) break;
    const next = new URL(layer.backingName, cur);
    checkRemoteUrl(next.href);
    if (!origins.has(next.origin)) {
      return { sources, blocked: { name: layer.backingName, from: name, url: next.href } };
    }
    cur = next.href;
    name = layer.backingName;
    format = layer.backingFormat;
  }
  return { sources };
}

/**
 * A file without the qcow2 magic would open as a raw disk; an answer that is a web page or text
 * is refused instead, saying what it was taken for.
 */
function refuseText(source: RemoteSource): void {
  if (isQcow2Magic(source.head)) return;
  const t = textAnswer(source.contentType, source.head);
  if (t) {
    throw new FormatError(
      { file: source.name, structure: 'HTTP answer', offset: 0 },
      `the server answered with ${t}, not a disk image: taken for a login, error or directory page, ` +
        'it is refused rather than opened as a raw image',
    );
  }
}
