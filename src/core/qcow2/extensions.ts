/**
 * Header extensions (spec "Header extensions"; QEMU qcow2_read_extensions()). They follow the
 * header and end at the end marker; the area ends at the backing file name, or at the end of
 * the first cluster when there is none.
 */
import { CorruptError, LimitError } from '../errors.ts';
import { latin1, u8, u32, u64Big, u64Safe, utf8 } from '../io/bigEndian.ts';
import {
  MAX_BACKING_FORMAT_BYTES,
  MAX_BITMAP_DIRECTORY_BYTES,
  MAX_BITMAPS,
  MAX_HEADER_EXTENSIONS,
} from '../limits.ts';
import { FEATURE_TYPES, type FeatureType } from './features.ts';
import { AUTOCLEAR_BITMAPS, CRYPT_LUKS, type Qcow2Header } from './header.ts';

export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_CRYPTO_HEADER = 0x0537be77;
export const EXT_DATA_FILE = 0x44415441;

export interface FeatureName {
  readonly type: FeatureType | number;
  readonly bit: number;
  readonly name: string;
}

export interface BitmapsExtension {
  readonly nbBitmaps: number;
  readonly directorySize: number;
  readonly directoryOffset: number;
}

export interface CryptoHeaderExtension {
  readonly offset: number;
  readonly length: number;
}

export interface RawExtension {
  readonly type: number;
  /** File offset of the extension's 8-byte head. */
  readonly offset: number;
  readonly length: number;
}

export interface HeaderExtensions {
  readonly all: readonly RawExtension[];
  readonly backingFormat?: string;
  readonly featureNames: readonly FeatureName[];
  readonly bitmaps?: BitmapsExtension;
  readonly cryptoHeader?: CryptoHeaderExtension;
  readonly dataFile?: string;
}

/** Parses the extension area. `b` holds the file from offset 0 through at least the area's end. */
export function parseExtensions(file: string, h: Qcow2Header, b: Uint8Array): HeaderExtensions {
  const end = h.backingFileOffset || h.clusterSize;
  const all: RawExtension[] = [];
  const featureNames: FeatureName[] = [];
  let backingFormat: string | undefined;
  let bitmaps: BitmapsExtension | undefined;
  let cryptoHeader: CryptoHeaderExtension | undefined;
  let dataFile: string | undefined;

  let pos = h.headerLength;
  while (pos < end) {
    const where = (structure: string, offset = pos) => ({ file, structure, offset });
    if (all.length >= MAX_HEADER_EXTENSIONS) {
      throw new LimitError(where('header extension'), 'more than MAX_HEADER_EXTENSIONS extensions');
    }
    const type = u32(b, pos);
    const len = u32(b, pos + 4);
    const data = pos + 8;
    // qcow2_read_extensions(): "Header extension too large" when the head or data run past the area.
    if (data > end || len > end - data) {
      throw new CorruptError(
        where(`header extension 0x${type.toString(16).padStart(8, '0')}`),
        'Header extension too large',
      );
    }
    if (type === EXT_END) break;
    all.push({ type, offset: pos, length: len });
    const name = (what: string) => where(`${what} header extension`);
    switch (type) {
      case EXT_BACKING_FORMAT:
        if (len > MAX_BACKING_FORMAT_BYTES) {
          throw new CorruptError(
            name('backing format'),
            `ext_backing_format: Cannot read format name (${len} bytes)`,
          );
        }
        backingFormat = latin1(b, data, len);
        break;
      case EXT_FEATURE_TABLE:
        for (let e = data; e + 48 <= data + len; e += 48) {
          const t = u8(b, e);
          const raw = b.subarray(e + 2, e + 48);
          const nul = raw.indexOf(0);
          featureNames.push({
            type: FEATURE_TYPES[t] ?? t,
            bit: u8(b, e + 1),
            name: utf8(raw, 0, nul < 0 ? raw.length : nul),
          });
        }
        break;
      case EXT_BITMAPS: {
        if (len !== 24) throw new CorruptError(name('bitmaps'), 'bitmaps_ext: Invalid extension length');
        // qcow2_read_extensions(): with autoclear bit 0 clear QEMU ignores the rest of the
        // extension unchecked (all bitmaps inconsistent); bitmaps.ts reports that as a finding.
        if (!(h.autoclearFeatures & AUTOCLEAR_BITMAPS)) break;
        const nbBitmaps = u32(b, data);
        const reserved = u32(b, data + 4);
        const directorySize = u64Safe(b, data + 8);
        const directoryOffset = u64Safe(b, data + 16);
        if (nbBitmaps === 0)
          throw new CorruptError(name('bitmaps'), 'found bitmaps extension with zero bitmaps');
        if (nbBitmaps > MAX_BITMAPS)
          throw new LimitError(
            name('bitmaps'),
            `bitmaps_ext: Image has ${nbBitmaps} bitmaps, exceeding the QEMU supported maximum of ${MAX_BITMAPS} (MAX_BITMAPS)`,
          );
        if (reserved !== 0)
          throw new CorruptError(name('bitmaps'), 'bitmaps_ext: Reserved field is not zero');
        if (directorySize === undefined || directorySize > MAX_BITMAP_DIRECTORY_BYTES) {
          throw new LimitError(
            name('bitmaps'),
            'bitmaps_ext: directory is too large (MAX_BITMAP_DIRECTORY_BYTES)',
          );
        }
        if (directoryOffset === undefined || directoryOffset % h.clusterSize) {
          throw new CorruptError(name('bitmaps'), 'bitmaps_ext: invalid bitmap directory offset');
        }
        bitmaps = { nbBitmaps, directorySize, directoryOffset };
        break;
      }
      case EXT_CRYPTO_HEADER: {
        if (h.cryptMethod !== CRYPT_LUKS) {
          throw new CorruptError(
            name('crypto'),
            'CRYPTO header extension only expected with LUKS encryption method',
          );
        }
        if (len !== 16)
          throw new CorruptError(name('crypto'), `Invalid encryption header extension length ${len}`);
        const offset = u64Safe(b, data);
        const length = u64Safe(b, data + 8);
        if (offset === undefined || length === undefined) {
          throw new LimitError(
            name('crypto'),
            `encryption header at ${u64Big(b, data)} exceeds 2^53 (MAX_SAFE_OFFSET)`,
          );
        }
        if (offset % h.clusterSize)
          throw new CorruptError(name('crypto'), 'Invalid encryption header offset');
        cryptoHeader = { offset, length };
        break;
      }
      case EXT_DATA_FILE:
        dataFile = utf8(b, data, len);
        break;
      default:
        // Unknown extensions are preserved by QEMU and ignored for reading.
        break;
    }
    pos = data + Math.ceil(len / 8) * 8;
  }

  return {
    all,
    featureNames,
    ...(backingFormat !== undefined && { backingFormat }),
    ...(bitmaps !== undefined && { bitmaps }),
    ...(cryptoHeader !== undefined && { cryptoHeader }),
    ...(dataFile !== undefined && { dataFile }),
  };
}
