/**
 * Where the structures of a qcow2 image lie, found without validating anything, so a mutator
 * can aim at them (header fields, L1/L2 entries, refcount table and blocks, header extensions,
 * snapshot table, bitmap directory and tables). Garbage in gives fewer regions, never an error.
 */
import { u16, u32, u64Safe } from '../../core/io/bigEndian.ts';

export interface Field {
  readonly name: string;
  /** Absolute file offset. */
  readonly at: number;
  readonly width: 1 | 2 | 4 | 8;
}

export interface Region {
  /** In the spec's words: "L1 table", "L2 table", "refcount block", "snapshot table entry". */
  readonly name: string;
  readonly offset: number;
  readonly length: number;
  /** Width of the table entries, for tables of big-endian u64 entries. */
  readonly entryBytes?: 8 | 16;
  /** Named fields inside the region, when the structure has them. */
  readonly fields?: readonly Field[];
}

/** The header fields (spec "Header"), v3 fields included. */
export const HEADER_FIELDS: readonly Field[] = [
  { name: 'magic', at: 0, width: 4 },
  { name: 'version', at: 4, width: 4 },
  { name: 'backing_file_offset', at: 8, width: 8 },
  { name: 'backing_file_size', at: 16, width: 4 },
  { name: 'cluster_bits', at: 20, width: 4 },
  { name: 'size', at: 24, width: 8 },
  { name: 'crypt_method', at: 32, width: 4 },
  { name: 'l1_size', at: 36, width: 4 },
  { name: 'l1_table_offset', at: 40, width: 8 },
  { name: 'refcount_table_offset', at: 48, width: 8 },
  { name: 'refcount_table_clusters', at: 56, width: 4 },
  { name: 'nb_snapshots', at: 60, width: 4 },
  { name: 'snapshots_offset', at: 64, width: 8 },
  { name: 'incompatible_features', at: 72, width: 8 },
  { name: 'compatible_features', at: 80, width: 8 },
  { name: 'autoclear_features', at: 88, width: 8 },
  { name: 'refcount_order', at: 96, width: 4 },
  { name: 'header_length', at: 100, width: 4 },
  { name: 'compression_type', at: 104, width: 1 },
];

/** Tables followed at most this far, so locating stays cheap on a hostile header. */
const MAX_TABLES_LOCATED = 64;

/** A header field's 64-bit value, 0 when it is not exact. */
const u64At = (b: Uint8Array, at: number): number => u64Safe(b, at) ?? 0;
/** Offset bits 9..55 of an L1/L2/refcount table entry. */
const entryAt = (b: Uint8Array, at: number): number =>
  (u32(b, at) & 0x00ffffff) * 0x100000000 + ((u32(b, at + 4) & 0xfffffe00) >>> 0);

export function layout(b: Uint8Array): Region[] {
  const out: Region[] = [
    { name: 'header', offset: 0, length: Math.min(b.length, 112), fields: HEADER_FIELDS },
  ];
  if (b.length < 72 || u32(b, 0) !== 0x514649fb) return out;
  const inFile = (o: number, len: number) => o > 0 && o + len <= b.length;
  const cb = u32(b, 20);
  if (cb < 9 || cb > 21) return out;
  const cs = 2 ** cb;
  const version = u32(b, 4);
  const headerLength = version >= 3 ? u32(b, 100) : 72;
  const extl2 = version >= 3 && (u32(b, 76) & 16) !== 0;
  const l2Bytes = extl2 ? 16 : 8;

  // Header extensions: 8-byte heads, data padded to 8.
  const areaEnd = Math.min(u64At(b, 8) || cs, b.length);
  for (let pos = headerLength, n = 0; pos + 8 <= areaEnd && n < MAX_TABLES_LOCATED; n++) {
    const type = u32(b, pos);
    const len = u32(b, pos + 4);
    out.push({
      name: `header extension 0x${type.toString(16)}`,
      offset: pos,
      length: Math.min(8 + len, areaEnd - pos),
      fields: [
        { name: 'type', at: pos, width: 4 },
        { name: 'length', at: pos + 4, width: 4 },
        ...(type === 0x23852875
          ? ([
              { name: 'nb_bitmaps', at: pos + 8, width: 4 },
              { name: 'bitmap_directory_size', at: pos + 16, width: 8 },
              { name: 'bitmap_directory_offset', at: pos + 24, width: 8 },
            ] as const)
          : []),
      ],
    });
    if (type === 0x23852875 && len === 24) locateBitmaps(b, pos + 8, out);
    if (type === 0 || len > areaEnd) break;
    pos += 8 + Math.ceil(len / 8) * 8;
  }
  const backingOffset = u64At(b, 8);
  if (backingOffset && inFile(backingOffset, 1)) {
    out.push({
      name: 'backing file name',
      offset: backingOffset,
      length: Math.min(u32(b, 16), b.length - backingOffset),
    });
  }

  const l1Offset = u64At(b, 40);
  const l1Size = Math.min(u32(b, 36), (b.length - l1Offset) / 8);
  if (inFile(l1Offset, 8) && l1Size > 0) {
    out.push({ name: 'L1 table', offset: l1Offset, length: Math.floor(l1Size) * 8, entryBytes: 8 });
    for (let i = 0, n = 0; i < l1Size && n < MAX_TABLES_LOCATED; i++) {
      const l2 = entryAt(b, l1Offset + 8 * i);
      if (inFile(l2, cs)) {
        out.push({ name: 'L2 table', offset: l2, length: cs, entryBytes: l2Bytes });
        n++;
      }
    }
  }

  const rtOffset = u64At(b, 48);
  const rtLength = Math.min(u32(b, 56) * cs, b.length - rtOffset);
  if (inFile(rtOffset, 8) && rtLength > 0) {
    out.push({ name: 'refcount table', offset: rtOffset, length: rtLength - (rtLength % 8), entryBytes: 8 });
    for (let i = 0, n = 0; i < rtLength / 8 && n < MAX_TABLES_LOCATED; i++) {
      const rb = entryAt(b, rtOffset + 8 * i);
      if (inFile(rb, cs)) {
        out.push({ name: 'refcount block', offset: rb, length: cs });
        n++;
      }
    }
  }

  // Snapshot table: entries of 40 bytes + extra + id + name, each 8-aligned.
  let sn = u64At(b, 64);
  const nb = Math.min(u32(b, 60), MAX_TABLES_LOCATED);
  for (let i = 0; i < nb && inFile(sn, 40); i++) {
    const extra = u32(b, sn + 36);
    const len = 40 + extra + u16(b, sn + 12) + u16(b, sn + 14);
    out.push({
      name: 'snapshot table entry',
      offset: sn,
      length: Math.min(len, b.length - sn),
      fields: [
        { name: 'l1_table_offset', at: sn, width: 8 },
        { name: 'l1_size', at: sn + 8, width: 4 },
        { name: 'id_str_size', at: sn + 12, width: 2 },
        { name: 'name_size', at: sn + 14, width: 2 },
        { name: 'vm_clock_nsec', at: sn + 24, width: 8 },
        { name: 'vm_state_size', at: sn + 32, width: 4 },
        { name: 'extra_data_size', at: sn + 36, width: 4 },
        ...(extra >= 16 ? ([{ name: 'disk_size', at: sn + 48, width: 8 }] as const) : []),
      ],
    });
    const l1 = u64At(b, sn);
    const l1n = u32(b, sn + 8);
    if (inFile(l1, 8) && l1n) {
      out.push({
        name: 'snapshot L1 table',
        offset: l1,
        length: Math.min(l1n * 8, b.length - l1),
        entryBytes: 8,
      });
    }
    sn = Math.ceil((sn + len) / 8) * 8;
  }
  return out;
}

function locateBitmaps(b: Uint8Array, ext: number, out: Region[]): void {
  const dirSize = u64Safe(b, ext + 8) ?? 0;
  const dir = u64Safe(b, ext + 16) ?? 0;
  if (!(dir > 0 && dir < b.length)) return;
  for (let e = dir, n = 0; e + 24 <= Math.min(b.length, dir + dirSize) && n < MAX_TABLES_LOCATED; n++) {
    out.push({
      name: 'bitmap directory entry',
      offset: e,
      length: 24,
      fields: [
        { name: 'bitmap_table_offset', at: e, width: 8 },
        { name: 'bitmap_table_size', at: e + 8, width: 4 },
        { name: 'flags', at: e + 12, width: 4 },
        { name: 'type', at: e + 16, width: 1 },
        { name: 'granularity_bits', at: e + 17, width: 1 },
        { name: 'name_size', at: e + 18, width: 2 },
        { name: 'extra_data_size', at: e + 20, width: 4 },
      ],
    });
    const t = u64Safe(b, e) ?? 0;
    const tn = u32(b, e + 8);
    if (t > 0 && t + 8 <= b.length && tn) {
      out.push({ name: 'bitmap table', offset: t, length: Math.min(tn * 8, b.length - t), entryBytes: 8 });
    }
    e += Math.ceil((24 + u32(b, e + 20) + u16(b, e + 18)) / 8) * 8;
  }
}
