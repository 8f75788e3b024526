/**
 * Output whose reader went away (`clusterscope map … | head`): write(2) fails with EPIPE on a
 * real pipe, the command stops at once and the CLI ends quietly with status 141, as qemu-img
 * does when SIGPIPE ends it. Before, an unhandled EPIPE error printed a stack trace.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from '../testing/fixtures.ts';
import { EXIT_OUTPUT_CLOSED, OutputClosed, writeAll } from './io.ts';
import { main } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A pipe whose read end is already closed: the next write fails with EPIPE. */
function brokenPipe(): number {
  const fifo = join(dir, `p${Math.random().toString(36).slice(2)}`);
  execFileSync('mkfifo', [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  return writer;
}

describe('a closed standard output', () => {
  it('write(2) with EPIPE becomes OutputClosed', () => {
    const fd = brokenPipe();
    try {
      expect(() => writeAll(fd, 'x')).toThrow(OutputClosed);
    } finally {
      closeSync(fd);
    }
  });

  it('map ends quietly with status 141 at the first write, without computing the rest', async () => {
    const fd = brokenPipe();
    let writes = 0;
    let stderr = '';
    try {
      // 524288 extents, ~50 MB of JSON: the first 64 KiB chunk fails and nothing more is computed.
      const img = join(dir, 'shared.qcow2');
      execFileSync('python3', [join(FIXTURES, 'hostile.py'), 'shared-l2', img, '--l1', '64']);
      const code = await main(['map', '--output=json', img], {
        out: (t) => {
          writes++;
          writeAll(fd, t);
        },
        err: (t) => {
          stderr += t;
        },
      });
      expect(code).toBe(EXIT_OUTPUT_CLOSED);
      expect(writes).toBe(1);
      expect(stderr).toBe('');
    } finally {
      closeSync(fd);
    }
  });

  it('so does --help', async () => {
    const fd = brokenPipe();
    try {
      const code = await main(['--help'], { out: (t) => writeAll(fd, t), err: () => {} });
      expect(code).toBe(EXIT_OUTPUT_CLOSED);
    } finally {
      closeSync(fd);
    }
  });
});
