/**
 * One layer's L2 entry for a guest offset, read on demand for the inspector (a single small
 * read; bulk scans never come here). Refcounts of the entry's host cluster come from a
 * RefcountReader made once per layer.
 */
import type { Layer } from '../core/chain/layer.ts';
import { hex, hex64 } from '../core/format.ts';
import { readPadded } from '../core/io/byteSource.ts';
import { INCOMPAT_DATA_FILE } from '../core/qcow2/header.ts';
import { entryOffset, type Qcow2Image } from '../core/qcow2/image.ts';
import { decodeBitmap, decodeL2Entry } from '../core/qcow2/l2entry.ts';
import { RefcountReader, readRefcountTable } from '../core/qcow2/refcount.ts';
import type { L2EntryInfo } from '../protocol/results.ts';

const readers = new WeakMap<Qcow2Image, Promise<RefcountReader | undefined>>();

function refcounts(img: Qcow2Image): Promise<RefcountReader | undefined> {
  let r = readers.get(img);
  if (!r) {
    r = readRefcountTable(img).then(
      (t) => new RefcountReader(img, t),
      () => undefined,
    );
    readers.set(img, r);
  }
  return r;
}

/** `l1`: the L1 table to read through (an internal snapshot's), the layer's active one by default. */
export async function l2EntryAt(
  layer: Layer,
  li: number,
  offset: number,
  l1?: Uint32Array,
): Promise<L2EntryInfo | undefined> {
  if (layer.format !== 'qcow2' || offset >= layer.length) return undefined;
  const h = layer.header;
  const cluster = Math.floor(offset / h.clusterSize);
  const l1Index = Math.floor(cluster / h.l2Entries);
  const l2Index = cluster % h.l2Entries;
  const table = l1 ?? layer.l1;
  const l2TableOffset = entryOffset(table[2 * l1Index] ?? 0, table[2 * l1Index + 1] ?? 0);
  const base = { layer: li, name: layer.name, l1Index, l2Index, l2TableOffset };
  if (l2TableOffset === 0) return { ...base, type: 'unallocated (no L2 table)' };
  if (l2TableOffset % h.clusterSize)
    return { ...base, type: `L2 table offset ${hex(l2TableOffset)} unaligned` };
  const bytes = await readPadded(layer.source, l2TableOffset + l2Index * h.l2EntryBytes, h.l2EntryBytes);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const raw = dv.getBigUint64(0);
  const hasDataFile = (h.incompatibleFeatures & INCOMPAT_DATA_FILE) !== 0n;
  const entry = decodeL2Entry(raw, h, hasDataFile);
  let type: string = entry.type;
  let rawHex = hex64(raw);
  if (h.extendedL2) {
    const bitmap = dv.getBigUint64(8);
    const { alloc, zero } = decodeBitmap(bitmap);
    rawHex += ` ${hex64(bitmap)}`;
    type += ` (alloc 0x${(alloc >>> 0).toString(16).padStart(8, '0')}, zero 0x${(zero >>> 0).toString(16).padStart(8, '0')})`;
  }
  const hostOffset = 'hostOffset' in entry ? entry.hostOffset : undefined;
  let refcount: number | undefined;
  if (hostOffset !== undefined && !hasDataFile) {
    try {
      refcount = await (await refcounts(layer))?.get(Math.floor(hostOffset / h.clusterSize));
    } catch {
      refcount = undefined;
    }
  }
  return {
    ...base,
    raw: rawHex,
    type,
    ...(hostOffset !== undefined && { hostOffset }),
    ...(refcount !== undefined && { refcount }),
  };
}
