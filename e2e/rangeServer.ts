/**
 * A tiny loopback file server for the remote-source e2e: serves public/samples on 127.0.0.1 with
 * CORS, optionally with Range support, and counts requests and bytes sent per file. It can also
 * lie (issue 15), the way a hostile or broken server would: see `Lie`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import type { Page } from '@playwright/test';

export type Lie =
  /** The right 206 headers and bytes, then more body for as long as the client reads. */
  | 'extra-body'
  /** The right 206 headers, then the body at one byte a second. */
  | 'drip'
  /** Takes the request and never answers. */
  | 'silent'
  /** The right bytes, with a Content-Range total of 10^20 bytes. */
  | 'huge-total'
  /** A 206 whose body is a login page (text/html). */
  | 'html'
  /** 302 to the same path on another server. */
  | { readonly redirect: string };

export interface ServeOptions {
  readonly ranges: boolean;
  readonly lie?: Lie;
  /** Files served from memory instead of `root`, by path ("/chain-3/top.qcow2"). */
  readonly files?: Readonly<Record<string, Uint8Array>>;
}

export interface Logged {
  path: string;
  range: string | undefined;
  status: number;
  /** Body bytes written (for 'extra-body': until the client stopped reading). */
  bytes: number;
  /** The client closed the connection before the answer was complete (it stopped or aborted). */
  cut: boolean;
}

export interface Served {
  readonly origin: string;
  readonly log: Logged[];
  close(): Promise<void>;
}

export const LOGIN_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form>User <input name=u></form></body></html>\n';

export async function serveFiles(root: string, opts: ServeOptions): Promise<Served> {
  const log: Logged[] = [];
  const server: Server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Accept-Ranges, Content-Length');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const entry: Logged = { path, range: req.headers.range, status: 0, bytes: 0, cut: false };
    log.push(entry);
    res.on('close', () => {
      entry.cut = !res.writableFinished;
    });
    const lie = opts.lie;
    if (lie === 'silent') return;
    if (typeof lie === 'object') {
      entry.status = 302;
      res.writeHead(302, { Location: `${lie.redirect}${path}` }).end();
      return;
    }
    let data: Uint8Array;
    try {
      data = opts.files?.[path] ?? readFileSync(join(root, path));
    } catch {
      entry.status = 404;
      res.writeHead(404).end();
      return;
    }
    const size = data.length;
    const m = opts.ranges ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
    if (!m) {
      entry.status = 200;
      entry.bytes = size;
      res.writeHead(200, { 'Content-Length': size, ...(opts.ranges ? {} : { 'Accept-Ranges': 'none' }) });
      res.end(data);
      return;
    }
    const a = Number(m[1]);
    const b = Math.min(m[2] ? Number(m[2]) : size - 1, size - 1);
    let body = data.subarray(a, b + 1);
    let headers: Record<string, string | number> = {
      'Content-Range': `bytes ${a}-${b}/${size}`,
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
    };
    if (lie === 'huge-total') headers['Content-Range'] = `bytes ${a}-${b}/100000000000000000000`;
    if (lie === 'html') {
      body = Buffer.from(LOGIN_PAGE);
      headers = { 'Content-Range': `bytes 0-${body.length - 1}/${body.length}`, 'Content-Type': 'text/html' };
    }
    entry.status = 206;
    if (lie === 'extra-body') {
      // No Content-Length: the body goes on (chunked) until the client stops reading.
      res.writeHead(206, headers);
      const more = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!res.destroyed) {
          entry.bytes += more.length;
          if (!res.write(more)) return;
        }
      };
      entry.bytes += body.length;
      res.write(body);
      res.on('drain', pump);
      pump();
      return;
    }
    res.writeHead(206, { ...headers, 'Content-Length': body.length });
    if (lie === 'drip') {
      let i = 0;
      const t = setInterval(() => {
        if (res.destroyed || i >= body.length) {
          clearInterval(t);
          res.end();
          return;
        }
        entry.bytes++;
        res.write(body.subarray(i, ++i));
      }, 1000);
      res.on('close', () => clearInterval(t));
      return;
    }
    entry.bytes = body.length;
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise((r) => {
        // A silent or dripping answer holds its connection open: end them all.
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Types `url` into "Open by URL" and submits it, as a person would. */
export async function openByUrl(page: Page, url: string): Promise<void> {
  await page.getByLabel('http(s) URL of a qcow2 or raw image').fill(url);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
}
