/**
 * A raw layer: a file with no format, typically the base of a chain. QEMU sees its length
 * rounded up to 512 bytes (reference §3.8). Host holes are invisible from file contents, so
 * every byte of the file is data (the one divergence from QEMU documented in the README).
 */
import type { ByteSource } from '../io/byteSource.ts';

export interface RawImage {
  readonly format: 'raw';
  readonly name: string;
  readonly source: ByteSource;
  /** Length as QEMU sees it: the file size rounded up to a multiple of 512. */
  readonly length: number;
  readonly fileSize: number;
}

export const openRaw = (source: ByteSource): RawImage => ({
  format: 'raw',
  name: source.name,
  source,
  length: Math.ceil(source.size / 512) * 512,
  fileSize: source.size,
});
