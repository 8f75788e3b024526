/**
 * A fake range server for the remote reader's tests: a fetch over in-memory files that answers
 * Range requests honestly, unless the test's `lie` answers instead; and the images it serves.
 */
import type { Fetch, FetchInit } from '../worker/remoteSource.ts';
import { fixtureBytes } from './fixtureChain.ts';

export const A = 'http://a.test';
export const B = 'http://b.test';

export interface Asked {
  readonly url: string;
  readonly range: string;
  readonly init: FetchInit;
}

export type Lie = (
  url: string,
  a: number,
  b: number,
  file: Uint8Array | undefined,
) => Promise<Response> | undefined;

/** An honest range server over `files` (URL -> bytes), unless `lie` answers instead. */
export function server(files: Record<string, Uint8Array>, lie?: Lie) {
  const asked: Asked[] = [];
  const fetch: Fetch = async (url, init) => {
    const range = init.headers.Range ?? '';
    asked.push({ url, range, init });
    const [a, b] = range.slice('bytes='.length).split('-').map(Number) as [number, number];
    const file = files[url];
    const l = lie?.(url, a, b, file);
    if (l) return l;
    if (!file) return new Response('not found', { status: 404, statusText: 'Not Found' });
    const end = Math.min(b, file.length - 1);
    return new Response(file.slice(a, end + 1), {
      status: 206,
      headers: {
        'Content-Range': `bytes ${a}-${end}/${file.length}`,
        'Content-Type': 'application/octet-stream',
      },
    });
  };
  return { fetch, asked };
}

export const chain3 = (dir = `${A}/chain-3`) =>
  Object.fromEntries(
    ['top', 'mid', 'base'].map((n) => [`${dir}/${n}.qcow2`, fixtureBytes('chain-3', `${n}.qcow2`)]),
  );

/** A 206 for [a, b] of `file` whose body is `body`, and whose headers say `headers`. */
export const partial = (a: number, b: number, total: number | string, body: BodyInit | null, headers = {}) =>
  new Response(body, {
    status: 206,
    headers: { 'Content-Range': `bytes ${a}-${b}/${total}`, ...headers },
  });

/** A top image whose backing file name is replaced (header: backing_file_offset at 8, size at 16). */
export function withBackingName(bytes: Uint8Array, name: string): Uint8Array {
  const out = bytes.slice();
  const v = new DataView(out.buffer);
  const off = Number(v.getBigUint64(8));
  const b = new TextEncoder().encode(name);
  out.fill(0, off, off + Math.max(v.getUint32(16), b.length));
  out.set(b, off);
  v.setUint32(16, b.length);
  return out;
}

/**
 * chain-3 on origin B, and a copy of its top on A that names its backing file by B's URL: the
 * top at `${A}/top.qcow2`, its backing `${B}/chain-3/mid.qcow2`.
 */
export function crossOrigin(): Record<string, Uint8Array> {
  const f = chain3(`${B}/chain-3`);
  return {
    ...f,
    [`${A}/top.qcow2`]: withBackingName(f[`${B}/chain-3/top.qcow2`]!, `${B}/chain-3/mid.qcow2`),
  };
}
