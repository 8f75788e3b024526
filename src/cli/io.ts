/** What a CLI command may touch: its arguments, its output streams. Tests pass their own. */
import { writeSync } from 'node:fs';

export interface CliIo {
  /**
   * Standard output. Maps are written in chunks as they are computed (never the whole text at
   * once); large outputs come as bytes (ASCII) to spare building a string.
   */
  readonly out: (text: string | Uint8Array) => void;
  readonly err: (text: string) => void;
}

/**
 * Standard output was closed by its reader (`clusterscope map … | head`). The command stops
 * where it is and the CLI ends quietly with status 141, as qemu-img ends by SIGPIPE (128 + 13
 * in a shell); Node ignores SIGPIPE, so without this every later write raised EPIPE.
 */
export class OutputClosed extends Error {
  override readonly name = 'OutputClosed';
}

/** Exit status after OutputClosed: what a shell reports for a process ended by SIGPIPE. */
export const EXIT_OUTPUT_CLOSED = 141;

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * write(2) until everything is out. Synchronous, so a map written chunk by chunk never queues
 * in memory ahead of a slow reader (process.stdout buffers without bound when the pipe is
 * full); a non-blocking descriptor that is full (EAGAIN) is waited for.
 */
export function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      else if (code === 'EPIPE') throw new OutputClosed('standard output closed');
      else throw e;
    }
  }
}

export const processIo: CliIo = {
  out: (t) => writeAll(1, t),
  err: (t) => {
    try {
      writeAll(2, t);
    } catch (e) {
      // Nobody reads standard error any more: nothing left to tell.
      if (!(e instanceof OutputClosed)) throw e;
    }
  },
};

/** Parses `--name=value`, `--name value` and `--flag` options; the rest are positionals. */
export interface ParsedArgs {
  readonly options: Map<string, string | true>;
  readonly positionals: string[];
}

export function parseArgs(args: readonly string[], takesValue: ReadonlySet<string>): ParsedArgs {
  const options = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options.set(a.slice(2, eq), a.slice(eq + 1));
      else if (takesValue.has(a.slice(2)) && i + 1 < args.length) options.set(a.slice(2), args[++i]!);
      else options.set(a.slice(2), true);
    } else if (a.startsWith('-') && a.length > 1) {
      const k = a.slice(1);
      options.set(k, takesValue.has(k) && i + 1 < args.length ? args[++i]! : true);
    } else positionals.push(a);
  }
  return { options, positionals };
}

/** A usage error: exit status 1 with one line on stderr. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
