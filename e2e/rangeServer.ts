/**
 * A tiny loopback file server for the remote-source e2e: serves public/samples on 127.0.0.1 with
 * CORS, optionally with Range support, and counts requests and bytes sent per file.
 */
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface Served {
  readonly origin: string;
  readonly log: { path: string; range: string | undefined; status: number; bytes: number }[];
  close(): Promise<void>;
}

export async function serveFiles(root: string, opts: { ranges: boolean }): Promise<Served> {
  const log: Served['log'] = [];
  const server: Server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Accept-Ranges, Content-Length');
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end();
      return;
    }
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(root, path);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      log.push({ path, range: req.headers.range, status: 404, bytes: 0 });
      res.writeHead(404).end();
      return;
    }
    const m = opts.ranges ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') : null;
    const data = readFileSync(file);
    if (m) {
      const a = Number(m[1]);
      const b = Math.min(m[2] ? Number(m[2]) : size - 1, size - 1);
      const body = data.subarray(a, b + 1);
      log.push({ path, range: req.headers.range, status: 206, bytes: body.length });
      res.writeHead(206, {
        'Content-Range': `bytes ${a}-${b}/${size}`,
        'Accept-Ranges': 'bytes',
        'Content-Length': body.length,
      });
      res.end(body);
      return;
    }
    log.push({ path, range: req.headers.range, status: 200, bytes: data.length });
    res.writeHead(200, { 'Content-Length': size, ...(opts.ranges ? {} : { 'Accept-Ranges': 'none' }) });
    res.end(data);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
