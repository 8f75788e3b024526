/**
 * The one lookup of the L1/L2 entries behind one guest offset, for the inspector, explain
 * texts and reading content: the raw entries, the decoded entry (l2entry.ts), its cluster and
 * subcluster types, the host offset and the refcount of the host cluster. Bulk status never
 * goes through here (layerStatus.ts scans tables whole).
 */
import { hex, hex64 } from '../format.ts';
import { u64Big } from '../io/bigEndian.ts';
import { readPadded } from '../io/byteSource.ts';
import type { Qcow2Image } from './image.ts';
import {
  type ClusterTypeName,
  decodeBitmap,
  decodeL2Entry,
  entryFormat,
  entryOffset,
  type L2Entry,
  type SubclusterBitmap,
  type SubclusterTypeName,
  subclusterTypeOf,
} from './l2entry.ts';
import { RefcountReader, readRefcountTable } from './refcount.ts';

export interface EntryLookup {
  readonly guestOffset: number;
  readonly clusterIndex: number;
  readonly subclusterIndex: number;
  readonly l1Index: number;
  readonly l2Index: number;
  /** The raw L1 entry (0n when l1Index is beyond the table). */
  readonly l1Entry: bigint;
  /** L2 table offset from the L1 entry, 0 when there is none. */
  readonly l2TableOffset: number;
  /** File offset of the L2 entry, when there is an L2 table. */
  readonly l2EntryOffset?: number;
  /** The raw 64-bit L2 entry (0n when there is no table). */
  readonly l2Entry: bigint;
  /** Extended L2: the subcluster bitmap (second 64 bits). */
  readonly bitmap?: bigint;
}

/** Everything the inspector shows about one guest offset of one image. */
export interface EntryDetail extends EntryLookup {
  /** The image's name (the layer's file name). */
  readonly name: string;
  /**
   * The raw L2 entry in hex as QEMU's debug output shows it (`0x` and 16 digits), followed by
   * the bitmap with extended L2 (`0x8000000000050000 0x0000000000000013`); undefined when
   * there is no L2 table.
   */
  readonly raw?: string;
  /** The decoded entry, when there is an L2 table. */
  readonly entry?: L2Entry;
  /** Extended L2: the bitmap's halves. */
  readonly subclusters?: SubclusterBitmap;
  /** QEMU's cluster type (qcow2_get_cluster_type()), UNALLOCATED when there is no L2 table. */
  readonly clusterType: ClusterTypeName;
  /** QEMU's subcluster type of the offset's subcluster (qcow2_get_subcluster_type()). */
  readonly subclusterType: SubclusterTypeName;
  /**
   * The entry in words, as the inspector prints it: `standard`, `zero`, `compressed`,
   * `unallocated`, with `(alloc 0x…, zero 0x…)` for extended L2; `unallocated (no L2 table)`
   * or `L2 table offset 0x… unaligned` when the L1 entry decides.
   */
  readonly type: string;
  /** Host offset of a NORMAL or ZERO_ALLOC cluster, or the byte offset of a compressed stream. */
  readonly hostOffset?: number;
  /**
   * The host cluster's refcount on disk (qcow2_get_refcount()); undefined without a host
   * offset, with an external data file (its clusters are not refcounted), or when the refcount
   * structures cannot be read.
   */
  readonly refcount?: number;
}

const tableCache = new WeakMap<Qcow2Image, Map<number, Uint8Array>>();
/** L2 tables kept per image for lookups: hovering stays within a few tables at a time. */
export const LOOKUP_CACHE_TABLES = 16;

async function l2Table(img: Qcow2Image, offset: number): Promise<Uint8Array> {
  let cache = tableCache.get(img);
  if (!cache) {
    cache = new Map();
    tableCache.set(img, cache);
  }
  const hit = cache.get(offset);
  if (hit) return hit;
  const t = await readPadded(img.source, offset, img.header.clusterSize);
  if (cache.size >= LOOKUP_CACHE_TABLES) cache.delete(cache.keys().next().value!);
  cache.set(offset, t);
  return t;
}

const refcountReaders = new WeakMap<Qcow2Image, Promise<RefcountReader | undefined>>();

/** The image's RefcountReader, made once per image (undefined when its refcount table cannot be read). */
export function refcountReaderOf(img: Qcow2Image): Promise<RefcountReader | undefined> {
  let r = refcountReaders.get(img);
  if (!r) {
    r = readRefcountTable(img).then(
      (t) => new RefcountReader(img, t),
      () => undefined,
    );
    refcountReaders.set(img, r);
  }
  return r;
}

/** The raw entries behind `guestOffset` (`l1`: a snapshot's L1 instead of the active one). */
export async function lookupEntry(
  img: Qcow2Image,
  guestOffset: number,
  l1: Uint32Array = img.l1,
): Promise<EntryLookup> {
  const h = img.header;
  const clusterIndex = Math.floor(guestOffset / h.clusterSize);
  const l1Index = Math.floor(clusterIndex / h.l2Entries);
  const l2Index = clusterIndex % h.l2Entries;
  const subclusterIndex = h.extendedL2 ? Math.floor((guestOffset % h.clusterSize) / (h.clusterSize / 32)) : 0;
  const base = { guestOffset, clusterIndex, subclusterIndex, l1Index, l2Index };
  if (2 * l1Index + 1 >= l1.length) return { ...base, l1Entry: 0n, l2TableOffset: 0, l2Entry: 0n };
  const hi = l1[2 * l1Index]!;
  const lo = l1[2 * l1Index + 1]!;
  const l1Entry = (BigInt(hi) << 32n) | BigInt(lo);
  const l2TableOffset = entryOffset(hi, lo);
  if (!l2TableOffset || l2TableOffset % h.clusterSize)
    return { ...base, l1Entry, l2TableOffset, l2Entry: 0n };
  const t = await l2Table(img, l2TableOffset);
  const at = l2Index * h.l2EntryBytes;
  return {
    ...base,
    l1Entry,
    l2TableOffset,
    l2EntryOffset: l2TableOffset + at,
    l2Entry: u64Big(t, at),
    ...(h.extendedL2 && { bitmap: u64Big(t, at + 8) }),
  };
}

const hex32 = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/**
 * Everything the inspector shows for `guestOffset`: the lookup, the decoded entry with its
 * types and words, the host offset and its refcount. Undefined at or past the virtual size.
 */
export async function entryDetail(
  img: Qcow2Image,
  guestOffset: number,
  l1: Uint32Array = img.l1,
): Promise<EntryDetail | undefined> {
  if (guestOffset < 0 || guestOffset >= img.length) return undefined;
  const h = img.header;
  const lk = await lookupEntry(img, guestOffset, l1);
  const name = img.name;
  if (lk.l2EntryOffset === undefined) {
    const type =
      lk.l2TableOffset === 0
        ? 'unallocated (no L2 table)'
        : `L2 table offset ${hex(lk.l2TableOffset)} unaligned`;
    return { ...lk, name, clusterType: 'UNALLOCATED', subclusterType: 'UNALLOCATED_PLAIN', type };
  }
  const f = entryFormat(h);
  const entry = decodeL2Entry(lk.l2Entry, h, f.dataFile);
  const subclusters = lk.bitmap === undefined ? undefined : decodeBitmap(lk.bitmap);
  let raw = hex64(lk.l2Entry);
  let type: string = entry.type;
  if (subclusters && lk.bitmap !== undefined) {
    raw += ` ${hex64(lk.bitmap)}`;
    type += ` (alloc ${hex32(subclusters.alloc)}, zero ${hex32(subclusters.zero)})`;
  }
  const hostOffset = 'hostOffset' in entry ? entry.hostOffset : undefined;
  let refcount: number | undefined;
  if (hostOffset !== undefined && !f.dataFile) {
    try {
      refcount = await (await refcountReaderOf(img))?.get(Math.floor(hostOffset / h.clusterSize));
    } catch {
      // An unreadable refcount block (qcow2_get_refcount() fails): no refcount to show.
      refcount = undefined;
    }
  }
  return {
    ...lk,
    name,
    raw,
    entry,
    ...(subclusters && { subclusters }),
    clusterType: entry.clusterType,
    subclusterType: subclusterTypeOf(entry, subclusters, lk.subclusterIndex),
    type,
    ...(hostOffset !== undefined && { hostOffset }),
    ...(refcount !== undefined && { refcount }),
  };
}
