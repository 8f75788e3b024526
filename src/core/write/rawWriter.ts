/**
 * A raw image in memory: the base of a chain in the lessons and the sandbox. Every byte of the
 * file is data (a browser cannot see host holes, reference §3.8), so zero writes and discards
 * write zeros instead of punching holes; the guest content is what QEMU's would be.
 */

import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_OFFSET_VALID,
  BDRV_BLOCK_ZERO,
} from '../status/flags.ts';
import { OutOfRangeError } from './errors.ts';
import type { NodeStatus, WritableImage } from './image.ts';
import { MemoryFile } from './memoryFile.ts';

export class RawWriter implements WritableImage {
  readonly format = 'raw' as const;
  readonly backing = undefined;
  readonly file: MemoryFile;

  /** `qemu-img create -f raw NAME SIZE` (the file is dense: every byte written). */
  constructor(name: string, size: number) {
    this.file = new MemoryFile(name);
    this.file.extendTo(size);
  }

  get length(): number {
    return Math.ceil(this.file.size / 512) * 512;
  }

  readGuest(offset: number, length: number): Uint8Array {
    return this.file.readPadded(offset, length);
  }

  nodeStatus(offset: number, bytes: number): NodeStatus {
    const n = Math.min(bytes, this.length - offset);
    // file-posix on a dense file: DATA up to EOF, then the tail up to 512 reads as zero.
    if (offset < this.file.size) {
      return {
        flags: BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED,
        n: Math.min(n, this.file.size - offset),
      };
    }
    return { flags: BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_ALLOCATED, n };
  }

  private check(offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > this.length) {
      throw new OutOfRangeError(this.file.name, offset, length, this.length);
    }
  }

  write(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    this.file.write(offset, data);
  }

  writeZeroes(offset: number, length: number): void {
    this.check(offset, length);
    this.file.fill(offset, length, 0);
  }

  discard(offset: number, length: number): void {
    this.writeZeroes(offset, length);
  }
}
