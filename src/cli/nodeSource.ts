/** The Node implementation of ByteSource: positional reads from a file handle. */
import { readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { IoError } from '../core/errors.ts';
import type { ByteSource } from '../core/io/byteSource.ts';

/**
 * Reading through a gap of a local file costs more than a second pread above ~64 KiB
 * (measured by bench/: 1 MiB gaps read 179 MiB for 24 MiB of tables on a fragmented chain).
 */
export const NODE_COALESCE_GAP = 0;

export class NodeFileSource implements ByteSource {
  readonly coalesceGap = NODE_COALESCE_GAP;
  /** Reads are synchronous pread(2): nothing to overlap, so no read-ahead (qcow2/tableReader.ts). */
  readonly prefetchGroups = 0;

  private constructor(
    readonly name: string,
    readonly path: string,
    readonly size: number,
    private readonly fh: FileHandle,
  ) {}

  /** Opens `path`; `name` defaults to the path as given, which is what qemu-img prints. */
  static async open(path: string, name = path): Promise<NodeFileSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      const why =
        code === 'ENOENT'
          ? 'No such file or directory'
          : code === 'EACCES'
            ? 'Permission denied'
            : String(code);
      throw new IoError(
        { file: name || basename(path), structure: 'file' },
        `Could not open '${path}': ${why}`,
      );
    }
    const st = await fh.stat();
    return new NodeFileSource(name, path, st.size, fh);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    // pread(2) on the calling thread: a CLI has nothing else to do meanwhile, and the thread-pool
    // round trip of FileHandle.read cost more than the read itself on page-cached metadata.
    const buf = Buffer.allocUnsafe(end - offset);
    let done = 0;
    while (done < buf.length) {
      const bytesRead = readSync(this.fh.fd, buf, done, buf.length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === buf.length ? buf : buf.subarray(0, done);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
