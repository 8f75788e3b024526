/**
 * `qemu-img info --output=json --backing-chain` (QEMU 7.2): one ImageInfo per layer, top first,
 * built as bdrv_query_image_info() and qcow2_get_specific_info() build it, with members in the
 * order QEMU prints them (see qemuJson.ts). What QEMU refuses on open (bad snapshot table,
 * bitmap directory or bitmap table, LUKS header) is refused here with a typed error.
 */
import type { Chain } from '../chain/chain.ts';
import type { Layer } from '../chain/layer.ts';
import { CorruptError } from '../errors.ts';
import { readPadded } from '../io/byteSource.ts';
import { type PersistentBitmap, readBitmaps, readBitmapTable } from '../qcow2/bitmaps.ts';
import {
  AUTOCLEAR_DATA_FILE_RAW,
  COMPAT_LAZY_REFCOUNTS,
  CRYPT_AES,
  CRYPT_LUKS,
  INCOMPAT_CORRUPT,
  INCOMPAT_DATA_FILE,
  INCOMPAT_DIRTY,
} from '../qcow2/header.ts';
import type { Qcow2Image } from '../qcow2/image.ts';
import { readSnapshots, type Snapshot } from '../qcow2/snapshots.ts';
import { LUKS_HEADER_BYTES, type LuksHeader, parseLuksHeader } from './luks.ts';
import { fullBackingFilename } from './paths.ts';
import { qdictOrder } from './qemuJson.ts';

/**
 * Members whose value depends on the host rather than on the file's bytes: "actual-size" is the
 * host file's allocated blocks (st_blocks * 512, summed over the image and its data file).
 * The core leaves them out unless the caller supplies them (ImageInfoOptions.actualSize);
 * tests compare everything else to QEMU's golden JSON.
 */
export const HOST_DEPENDENT_INFO_FIELDS = ['actual-size'] as const;

export interface SnapshotInfo {
  readonly id: string;
  readonly name: string;
  readonly 'vm-state-size': number;
  readonly 'date-sec': number;
  readonly 'date-nsec': number;
  readonly 'vm-clock-sec': number;
  readonly 'vm-clock-nsec': number;
  readonly icount?: number;
}

export interface LuksSlotInfo {
  readonly active: boolean;
  readonly iters?: number;
  readonly stripes?: number;
  readonly 'key-offset': number;
}

export interface EncryptInfo {
  readonly format: 'aes' | 'luks';
  readonly 'cipher-alg'?: string;
  readonly 'cipher-mode'?: string;
  readonly 'ivgen-alg'?: string;
  readonly 'ivgen-hash-alg'?: string;
  readonly 'hash-alg'?: string;
  readonly 'payload-offset'?: number;
  readonly 'master-key-iters'?: number;
  readonly uuid?: string;
  readonly slots?: readonly LuksSlotInfo[];
}

export interface BitmapInfo {
  readonly name: string;
  readonly granularity: number;
  readonly flags: readonly ('in-use' | 'auto')[];
}

export interface Qcow2SpecificInfo {
  readonly compat: '0.10' | '1.1';
  readonly 'data-file'?: string;
  readonly 'data-file-raw'?: boolean;
  readonly 'extended-l2'?: boolean;
  readonly 'lazy-refcounts'?: boolean;
  readonly corrupt?: boolean;
  readonly 'refcount-bits': number;
  readonly encrypt?: EncryptInfo;
  readonly bitmaps?: readonly BitmapInfo[];
  readonly 'compression-type': 'zlib' | 'zstd';
}

export interface ImageInfo {
  readonly filename: string;
  readonly format: string;
  readonly 'dirty-flag'?: boolean;
  readonly 'actual-size'?: number;
  readonly 'virtual-size': number;
  readonly 'cluster-size'?: number;
  readonly encrypted?: boolean;
  readonly 'backing-filename'?: string;
  readonly 'full-backing-filename'?: string;
  readonly 'backing-filename-format'?: string;
  readonly snapshots?: readonly SnapshotInfo[];
  readonly 'format-specific'?: { readonly type: 'qcow2'; readonly data: Qcow2SpecificInfo };
}

export interface ImageInfoOptions {
  /** Host-dependent "actual-size" of a layer (the CLI passes st_blocks * 512); omitted when absent. */
  readonly actualSize?: (layer: Layer) => Promise<number | undefined>;
}

/** The `info` of every layer of the chain, top first, as `qemu-img info --backing-chain` lists them. */
export async function imageInfo(chain: Chain, opts: ImageInfoOptions = {}): Promise<ImageInfo[]> {
  const out: ImageInfo[] = [];
  for (const layer of chain.layers) out.push(await layerInfo(layer, opts));
  return out;
}

export async function layerInfo(layer: Layer, opts: ImageInfoOptions = {}): Promise<ImageInfo> {
  const actual = opts.actualSize ? await opts.actualSize(layer) : undefined;
  const actualSize = actual === undefined ? {} : { 'actual-size': actual };
  if (layer.format === 'raw') {
    // raw_get_info() succeeds with cluster_size 0: dirty-flag false, no cluster-size.
    return qdictOrder<ImageInfo>({
      filename: layer.name,
      format: 'raw',
      'dirty-flag': false,
      ...actualSize,
      'virtual-size': layer.length,
    });
  }
  const img = layer;
  const h = img.header;
  // Everything QEMU validates while opening comes first, so a refusal wins over output.
  const snapshots = await readSnapshots(img);
  const bitmaps = h.version === 3 ? await readBitmaps(img) : [];
  for (const bm of bitmaps) await readBitmapTable(img, bm);
  const encrypt = await encryptInfo(img);

  const backing =
    img.backingName !== undefined && img.backingName !== ''
      ? {
          'backing-filename': img.backingName,
          ...optional('full-backing-filename', fullBackingFilename(img.name, img.backingName)),
          ...optional('backing-filename-format', img.backingFormat || undefined),
        }
      : {};
  return qdictOrder<ImageInfo>({
    filename: img.name,
    format: 'qcow2',
    'dirty-flag': (h.incompatibleFeatures & INCOMPAT_DIRTY) !== 0n,
    ...actualSize,
    'virtual-size': img.length,
    'cluster-size': h.clusterSize,
    ...(img.encrypted && { encrypted: true }),
    ...backing,
    ...(snapshots.length > 0 && { snapshots: snapshots.map(snapshotInfo) }),
    'format-specific': qdictOrder({ type: 'qcow2' as const, data: qcow2Specific(img, bitmaps, encrypt) }),
  });
}

const optional = <K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } =>
  (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };

/** bdrv_query_snapshot_info_list(): vm-clock split into seconds and nanoseconds; icount if not -1. */
export function snapshotInfo(sn: Snapshot): SnapshotInfo {
  return qdictOrder<SnapshotInfo>({
    id: sn.id,
    name: sn.name,
    'vm-state-size': sn.vmStateSize,
    'date-sec': sn.dateSec,
    'date-nsec': sn.dateNsec,
    'vm-clock-sec': sn.vmClockSec,
    'vm-clock-nsec': sn.vmClockNsec,
    ...(sn.icount !== undefined && { icount: sn.icount }),
  });
}

/** qcow2_get_specific_info(): v2 images report compat, refcount-bits and compression type only. */
function qcow2Specific(
  img: Qcow2Image,
  bitmaps: PersistentBitmap[],
  encrypt: EncryptInfo | undefined,
): Qcow2SpecificInfo {
  const h = img.header;
  const enc = encrypt === undefined ? {} : { encrypt };
  if (h.version === 2) {
    return qdictOrder<Qcow2SpecificInfo>({
      compat: '0.10',
      'refcount-bits': 2 ** h.refcountOrder,
      ...enc,
      'compression-type': h.compressionType,
    });
  }
  const hasDataFile = (h.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n;
  return qdictOrder<Qcow2SpecificInfo>({
    compat: '1.1',
    ...optional('data-file', img.dataFileName),
    ...(hasDataFile && { 'data-file-raw': (h.autoclearFeatures & AUTOCLEAR_DATA_FILE_RAW) !== 0n }),
    'extended-l2': h.extendedL2,
    'lazy-refcounts': (h.compatibleFeatures & COMPAT_LAZY_REFCOUNTS) !== 0n,
    corrupt: (h.incompatibleFeatures & INCOMPAT_CORRUPT) !== 0n,
    'refcount-bits': 2 ** h.refcountOrder,
    ...enc,
    ...(bitmaps.length > 0 && { bitmaps: bitmaps.map(bitmapInfo) }),
    'compression-type': h.compressionType,
  });
}

/** qcow2_get_bitmap_info_list(): flags in-use then auto, reserved bits dropped. */
export function bitmapInfo(bm: PersistentBitmap): BitmapInfo {
  const flags: ('in-use' | 'auto')[] = [];
  if (bm.flags.inUse) flags.push('in-use');
  if (bm.flags.auto) flags.push('auto');
  return qdictOrder<BitmapInfo>({ name: bm.name, granularity: bm.granularity, flags });
}

/** Reads and checks the LUKS header in the crypto header region (qcow2_crypto_hdr_read_func()). */
export async function readLuksHeader(img: Qcow2Image): Promise<LuksHeader> {
  const region = img.extensions.cryptoHeader;
  const where = { file: img.name, structure: 'LUKS header', offset: region?.offset ?? 0 };
  if (!region) throw new CorruptError(where, 'Missing CRYPTO header for crypt method 2');
  if (region.length < LUKS_HEADER_BYTES)
    throw new CorruptError(where, 'Request for data outside of extension header');
  const b = await readPadded(img.source, region.offset, LUKS_HEADER_BYTES);
  return parseLuksHeader(img.name, b, region.offset);
}

async function encryptInfo(img: Qcow2Image): Promise<EncryptInfo | undefined> {
  if (img.header.cryptMethod === CRYPT_AES) return { format: 'aes' };
  if (img.header.cryptMethod !== CRYPT_LUKS) return undefined;
  const l = await readLuksHeader(img);
  return qdictOrder<EncryptInfo>({
    format: 'luks',
    'cipher-alg': l.cipherAlg,
    'cipher-mode': l.cipherMode,
    'ivgen-alg': l.ivgenAlg,
    ...optional('ivgen-hash-alg', l.ivgenHashAlg),
    'hash-alg': l.hashAlg,
    'payload-offset': l.payloadOffset,
    'master-key-iters': l.masterKeyIters,
    uuid: l.uuid,
    slots: l.slots.map((s) =>
      qdictOrder<LuksSlotInfo>({
        active: s.active,
        ...(s.active && { iters: s.iters, stripes: s.stripes }),
        'key-offset': s.keyOffset,
      }),
    ),
  });
}
