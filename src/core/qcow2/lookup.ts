/**
 * The L1/L2 entries behind one guest offset, for the inspector, explain texts and reading
 * content. Bulk status never goes through here (layerStatus.ts scans tables whole).
 */
import { u64Big } from '../io/bigEndian.ts';
import { readPadded } from '../io/byteSource.ts';
import { entryOffset, type Qcow2Image } from './image.ts';

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
