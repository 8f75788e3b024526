/** The Node implementation of ByteSource: positional reads from a file handle. */
import { constants, readFileSync, readSync, statfsSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { IoError } from '../core/errors.ts';
import type { ByteSource } from '../core/io/byteSource.ts';

/**
 * Reading through a gap of a local file costs more than a second pread above ~64 KiB
 * (measured by bench/: 1 MiB gaps read 179 MiB for 24 MiB of tables on a fragmented chain).
 */
export const NODE_COALESCE_GAP = 0;

/** statfs(2) f_type of procfs (PROC_SUPER_MAGIC, linux/magic.h). */
const PROC_SUPER_MAGIC = 0x9fa0;

/** strerror() words for an errno, as QEMU prints them ("No such file or directory"). */
function strerror(e: NodeJS.ErrnoException): string {
  const words = e.errno === undefined ? undefined : getSystemErrorMap().get(e.errno)?.[1];
  if (!words) return String(e.code ?? e.message);
  return words[0]!.toUpperCase() + words.slice(1);
}

/**
 * Why a path cannot be opened as an image, in QEMU's words (block/file-posix.c), or undefined
 * when it can. QEMU's 'file' driver takes regular files and its 'host_device' driver block and
 * character devices; anything else is refused, which is also what keeps a FIFO (open(2) waits
 * for a writer for ever: qemu-img hangs) and a directory (EISDIR on the first read) out. Files
 * in /proc report size 0 and refuse lseek(SEEK_END) (QEMU: "Could not refresh total sector
 * count: Invalid argument"), so /proc/self/mem is refused as QEMU refuses it.
 */
function refusal(
  path: string,
  st: { isFile(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean },
): string | undefined {
  if (st.isBlockDevice() || st.isCharacterDevice()) return undefined;
  if (!st.isFile()) return `'file' driver requires '${path}' to be a regular file`;
  try {
    if (statfsSync(path).type === PROC_SUPER_MAGIC)
      return 'Could not refresh total sector count: Invalid argument';
  } catch {
    // statfs(2) unavailable: nothing more to learn.
  }
  return undefined;
}

/**
 * Size of a block device, which fstat(2) reports as 0: the sector count the kernel publishes in
 * /sys/dev/block/MAJOR:MINOR/size (QEMU asks with ioctl(BLKGETSIZE64), which Node cannot).
 */
function blockDeviceSize(rdev: number): number | undefined {
  const major = Math.floor(rdev / 256) % 4096;
  const minor = (rdev % 256) + Math.floor(rdev / 1048576) * 256;
  try {
    return Number(readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim()) * 512;
  } catch {
    return undefined;
  }
}

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

  /**
   * Opens `path`; `name` defaults to the path as given, which is what qemu-img prints. Refuses,
   * with an IoError whose detail is QEMU's sentence, what QEMU refuses to open (see refusal()).
   * The open never blocks (O_NONBLOCK): a FIFO is refused instead of waited on.
   */
  static async open(path: string, name = path): Promise<NodeFileSource> {
    const where = { file: name || basename(path), structure: 'file' };
    let fh: FileHandle;
    try {
      fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw new OpenError(
        where,
        `Could not open '${path}': ${strerror(e as NodeJS.ErrnoException)}`,
        (e as NodeJS.ErrnoException).code,
      );
    }
    try {
      const st = await fh.stat();
      const why = refusal(path, st);
      if (why !== undefined) throw new OpenError(where, why, 'EINVAL');
      // lseek(SEEK_END) of a character device is 0 (/dev/null, /dev/zero, a tty): QEMU sees an
      // empty image and never reads it, so neither does this.
      const size = st.isBlockDevice() ? blockDeviceSize(st.rdev) : st.isCharacterDevice() ? 0 : st.size;
      if (size === undefined)
        throw new OpenError(where, 'Could not refresh total sector count: Invalid argument', 'EINVAL');
      return new NodeFileSource(name, path, size, fh);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(offset + length, this.size);
    if (end <= offset) return new Uint8Array(0);
    // pread(2) on the calling thread: a CLI has nothing else to do meanwhile, and the thread-pool
    // round trip of FileHandle.read cost more than the read itself on page-cached metadata.
    const buf = Buffer.allocUnsafe(end - offset);
    let done = 0;
    while (done < buf.length) {
      let bytesRead: number;
      try {
        bytesRead = readSync(this.fh.fd, buf, done, buf.length - done, offset + done);
      } catch (e) {
        throw new IoError(
          { file: this.name, structure: 'file', offset: offset + done },
          `Could not read '${this.path}': ${strerror(e as NodeJS.ErrnoException)}`,
        );
      }
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === buf.length ? buf : buf.subarray(0, done);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A file that could not be opened; `code` is the errno name (ENOENT: it is not there). */
export class OpenError extends IoError {
  constructor(
    where: { file: string; structure: string },
    detail: string,
    readonly code: string | undefined,
  ) {
    super(where, detail);
  }
}
