/**
 * Opening a qcow2 image: header, extensions, backing file name and the active L1 table.
 * Everything else (L2 tables, refcounts, snapshots, bitmaps) is read on demand.
 */
import { CorruptError, UnsupportedError } from '../errors.ts';
import type { Finding } from '../findings.ts';
import { hex } from '../format.ts';
import { utf8 } from '../io/bigEndian.ts';
import { type ByteSource, readPadded } from '../io/byteSource.ts';
import { MAX_READ_BYTES } from '../limits.ts';
import { type HeaderExtensions, parseExtensions } from './extensions.ts';
import {
  AUTOCLEAR_DATA_FILE_RAW,
  CRYPT_LUKS,
  CRYPT_NONE,
  HEADER_PROBE_BYTES,
  INCOMPAT_DATA_FILE,
  type OpenMode,
  parseHeader,
  type Qcow2Header,
} from './header.ts';

export interface Qcow2Image {
  readonly format: 'qcow2';
  readonly name: string;
  readonly source: ByteSource;
  readonly header: Qcow2Header;
  readonly extensions: HeaderExtensions;
  /** Virtual size in bytes as QEMU sees it. */
  readonly length: number;
  readonly backingName?: string;
  readonly backingFormat?: string;
  /** External data file name (incompatible bit 2), from the header extension. */
  readonly dataFileName?: string;
  readonly encrypted: boolean;
  /** The active L1 table as pairs of big-endian halves: entry i is (l1[2i] << 32) | l1[2i+1]. */
  readonly l1: Uint32Array;
  readonly findings: Finding[];
}

/** Reads `length` bytes at `offset` in slices of at most MAX_READ_BYTES, zero-padded past EOF. */
export async function readTable(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  if (length <= MAX_READ_BYTES) return readPadded(src, offset, length);
  const out = new Uint8Array(length);
  for (let done = 0; done < length; done += MAX_READ_BYTES) {
    out.set(await readPadded(src, offset + done, Math.min(MAX_READ_BYTES, length - done)), done);
  }
  return out;
}

/** Decodes a big-endian u64 table into (hi, lo) u32 pairs, the layout every table scan uses. */
export function toU32Pairs(bytes: Uint8Array): Uint32Array {
  const n = bytes.length >>> 2;
  const out = new Uint32Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4);
  return out;
}

/** Offset bits 9..55 of an L1/L2 entry: the codec's (l2entry.ts), re-exported for its callers here. */
export { entryOffset } from './l2entry.ts';

export async function openQcow2(source: ByteSource, mode: OpenMode = {}): Promise<Qcow2Image> {
  const file = source.name;
  const probe = await source.read(0, HEADER_PROBE_BYTES);
  const header = parseHeader(file, probe, mode);
  const findings: Finding[] = [];

  // The extension area and the backing file name both live in the first cluster.
  const areaEnd = header.backingFileOffset
    ? header.backingFileOffset + header.backingFileSize
    : Math.min(header.clusterSize, source.size);
  const first =
    areaEnd <= probe.length ? probe : await readPadded(source, 0, Math.max(areaEnd, header.headerLength));
  const extensions = parseExtensions(file, header, first);

  let backingName: string | undefined;
  if (header.backingFileOffset) {
    // QEMU reads the name into a C string: bytes past EOF read as zeros and a NUL ends it, so
    // a name cut off by a truncated file is shorter, or empty, which means no backing file.
    const raw = first.subarray(header.backingFileOffset, header.backingFileOffset + header.backingFileSize);
    const nul = raw.indexOf(0);
    const name = utf8(raw, 0, nul < 0 ? raw.length : nul);
    if (header.backingFileOffset + header.backingFileSize > source.size || nul >= 0) {
      findings.push({
        file,
        structure: 'backing file name',
        offset: header.backingFileOffset,
        message: name
          ? `reads as '${name}' (cut at a NUL byte or the end of the file)`
          : 'reads as empty (past the end of the file, or starting with a NUL byte): QEMU opens the image without a backing file',
      });
    }
    if (name) backingName = name;
  }

  const hasDataFile = (header.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n;
  if (hasDataFile && extensions.dataFile === undefined) {
    // QEMU needs the name from the extension or from runtime options; a map can still be made
    // (offsets are guest offsets), so this is a finding rather than an error.
    findings.push({
      file,
      structure: 'header',
      offset: 72,
      message: 'external data file bit set but no data file name extension',
    });
  }
  if (!hasDataFile && header.autoclearFeatures & AUTOCLEAR_DATA_FILE_RAW) {
    // qcow2_do_open(): the raw-external-data bit makes no sense without a data file.
    throw new CorruptError(
      { file, structure: 'header autoclear_features', offset: 88 },
      'data-file-raw requires a data file',
    );
  }
  if (!hasDataFile && extensions.dataFile !== undefined) {
    throw new CorruptError(
      { file, structure: 'data file header extension' },
      "data-file name extension present but 'external data file' feature bit is not set",
    );
  }
  if (header.cryptMethod === CRYPT_LUKS && !extensions.cryptoHeader) {
    throw new UnsupportedError(
      { file, structure: 'header crypt_method', offset: 32 },
      'Missing CRYPTO header for crypt method 2',
    );
  }

  // An aligned L1 offset below 2^62 is exact (header.ts); past the end of the file it reads as
  // zeros, as in QEMU, so its end is no limit of its own.
  const l1Bytes = header.l1Size * 8;
  if (l1Bytes && header.l1TableOffset + l1Bytes > source.size) {
    findings.push({
      file,
      structure: 'L1 table',
      offset: header.l1TableOffset,
      message: `runs past end of file (size ${hex(source.size)}); QEMU reads the missing entries as zero (unallocated)`,
    });
  }
  const l1 = toU32Pairs(await readTable(source, header.l1TableOffset, l1Bytes));

  return {
    format: 'qcow2',
    name: file,
    source,
    header,
    extensions,
    length: header.size,
    ...(backingName !== undefined && { backingName }),
    ...(extensions.backingFormat !== undefined && { backingFormat: extensions.backingFormat }),
    ...(extensions.dataFile !== undefined && { dataFileName: extensions.dataFile }),
    encrypted: header.cryptMethod !== CRYPT_NONE,
    l1,
    findings,
  };
}

export const l1EntryCount = (img: Qcow2Image): number => img.l1.length >>> 1;
export const l1Hi = (img: Qcow2Image, i: number): number => img.l1[2 * i] ?? 0;
export const l1Lo = (img: Qcow2Image, i: number): number => img.l1[2 * i + 1] ?? 0;
