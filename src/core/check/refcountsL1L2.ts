/**
 * check_refcounts_l1() and check_refcounts_l2() (QEMU 7.2 block/qcow2-refcount.c), part of
 * calculate_refcounts(): every L2 table an L1 table references, every cluster its entries
 * reference, counted in the in-memory refcount table, with the entry checks and their messages
 * in QEMU's order. The L2 tables are read through the one table reader (neighbours coalesced,
 * read ahead) and decoded by the codec into typed arrays; the hot path (a NORMAL entry on an
 * aligned cluster inside the file) makes no object and no string.
 */
import type { Cancellation } from '../cancel.ts';
import { readTable, toU32Pairs } from '../qcow2/image.ts';
import {
  compressedBytes,
  compressedOffset,
  compressedOffsetHi,
  decodeL2Table,
  entryHex,
  entryOffset,
  L2Slice,
  l1ReservedBits,
  l2ReservedBits,
  OFFSET_MASK_HI,
  OFFSET_MASK_LO,
  QCOW_OFLAG_COPIED_HI,
  QCOW_OFLAG_ZERO_LO,
  QCOW2_CLUSTER_COMPRESSED,
  QCOW2_CLUSTER_NORMAL,
  QCOW2_CLUSTER_UNALLOCATED,
  QCOW2_CLUSTER_ZERO_ALLOC,
} from '../qcow2/l2entry.ts';
import { qemuRefusesRead } from '../qcow2/refcount.ts';
import { TableReader } from '../qcow2/tableReader.ts';
import { CHECK_FRAG_INFO, CheckAbort, type Checker, EIO } from './checker.ts';
import type { OflagCopied } from './oflagCopied.ts';

export interface L1Walk {
  /** The L1 table as (hi, lo) pairs when it is already in memory (the active one). */
  readonly l1?: Uint32Array;
  readonly offset: number;
  /** The offset in hex without `0x`, exact for every 64-bit value (messages). */
  readonly offsetHex: string;
  readonly size: number;
  readonly flags: number;
  /** The active L1: its tables are also checked for the copied flag (check_oflag_copied()). */
  readonly oflag?: OflagCopied;
  /** Which L1 table, for the structure of a failure. */
  readonly structure: string;
  readonly signal?: Cancellation;
  /** Hears each L2 table read (a check's progress). */
  readonly onTable?: () => void;
}

/** check_refcounts_l1() */
export async function checkRefcountsL1(c: Checker, w: L1Walk): Promise<void> {
  if (!w.size) return;
  const bytes = w.size * 8;
  c.inc(w.offset, bytes, () => w.offsetHex);
  let l1 = w.l1;
  if (!l1) {
    const hiPart = Math.floor(w.offset / 0x100000000);
    if (qemuRefusesRead(hiPart, w.offset >>> 0, bytes)) {
      c.say('ERROR: I/O error in check_refcounts_l1');
      c.checkErrors++;
      throw new CheckAbort(EIO, { file: c.img.name, structure: w.structure, offset: w.offset });
    }
    l1 = toU32Pairs(await readTable(c.img.source, w.offset, bytes));
  }
  const present: number[] = [];
  const offsets: number[] = [];
  for (let i = 0; i < w.size; i++) {
    const hi = l1[2 * i] ?? 0;
    const lo = l1[2 * i + 1] ?? 0;
    if (!hi && !lo) continue;
    present.push(i);
    offsets.push(entryOffset(hi, lo));
  }
  const reader = new TableReader(c.img.source, offsets, c.cs, {
    structure: 'L2 tables',
    ...(w.signal && { signal: w.signal }),
  });
  const slice = new L2Slice(c.img.header.l2Entries);
  for (let k = 0; k < present.length; k++) {
    const i = present[k]!;
    const hi = l1[2 * i]!;
    const lo = l1[2 * i + 1]!;
    if (l1ReservedBits(hi, lo)) {
      c.say(`ERROR found L1 entry with reserved bits set: ${entryHex(hi, lo)}`);
      c.corruptions++;
    }
    const l2Offset = offsets[k]!;
    const l2Hex = () => entryHex(hi & OFFSET_MASK_HI, lo & OFFSET_MASK_LO);
    c.inc(l2Offset, c.cs, l2Hex);
    if (l2Offset % c.cs) {
      c.say(`ERROR l2_offset=${l2Hex()}: Table is not cluster aligned; L1 entry corrupted`);
      c.corruptions++;
    }
    const table = await reader.table(l2Offset);
    w.onTable?.();
    // An all-zero table (read past EOF) has only unallocated entries: no reference, no message
    // (fuzzing found L1 tables whose thousands of garbage entries point past EOF).
    const zero = table === reader.zeroTable;
    if (!zero) {
      decodeL2Table(table, c.img.header.l2Entries, c.fmt, slice);
      checkRefcountsL2(c, slice, w.flags);
    }
    // check_oflag_copied() skips L1 entries without an L2 offset; the rest it checks on the same table.
    if (w.oflag && l2Offset !== 0) {
      await w.oflag.l1Entry(i, hi, lo);
      if (!zero) await w.oflag.l2Table(slice);
    }
  }
}

/** check_refcounts_l2() for one decoded table. */
export function checkRefcountsL2(c: Checker, s: L2Slice, flags: number): void {
  const cs = c.cs;
  const cb = c.cb;
  const fileLen = c.fileLen;
  const dataFile = c.hasDataFile;
  const ext = c.extL2;
  const frag = (flags & CHECK_FRAG_INFO) !== 0;
  const imrt = c.imrt;
  const { hi: his, lo: los, alloc: allocs, zero: zeros, type: types } = s;
  let nextContiguous = 0;
  let allocated = 0;
  let fragmented = 0;
  let compressed = 0;
  const n = s.count;
  for (let i = 0; i < n; i++) {
    const type = types[i]!;
    if (type === QCOW2_CLUSTER_UNALLOCATED && his[i] === 0 && los[i] === 0 && allocs[i] === 0) continue;
    const hi = his[i]!;
    const lo = los[i]!;
    const alloc = allocs[i]!;
    const zero = zeros[i]!;
    if (type !== QCOW2_CLUSTER_COMPRESSED && l2ReservedBits(hi, lo)) {
      c.say(`ERROR found l2 entry with reserved bits set: ${entryHex(hi, lo)}`);
      c.corruptions++;
    }
    if (type === QCOW2_CLUSTER_NORMAL || type === QCOW2_CLUSTER_ZERO_ALLOC) {
      const offset = entryOffset(hi, lo);
      if (zero & alloc) {
        c.corruptions++;
        c.say(
          `ERROR offset=${entryHex(hi & OFFSET_MASK_HI, lo & OFFSET_MASK_LO)}: Allocated cluster has corrupted subcluster allocation bitmap`,
        );
      }
      // The offset is aligned when its bits below cluster_bits (all in the low half) are clear.
      const aligned = (lo & OFFSET_MASK_LO & (cs - 1)) === 0;
      if (!aligned) {
        c.corruptions++;
        const containsData = ext ? alloc !== 0 : !(lo & QCOW_OFLAG_ZERO_LO);
        const at = entryHex(hi & OFFSET_MASK_HI, lo & OFFSET_MASK_LO);
        c.say(
          containsData
            ? `ERROR offset=${at}: Data cluster is not properly aligned; L2 entry corrupted.`
            : `ERROR offset=${at}: Preallocated cluster is not properly aligned; L2 entry corrupted.`,
        );
      }
      if (frag) {
        allocated++;
        if (nextContiguous && offset !== nextContiguous) fragmented++;
        nextContiguous = offset + cs;
      }
      if (!dataFile) {
        // Hot path: one aligned cluster inside the file, counted in place.
        if (aligned && offset < fileLen) {
          const k = offset / cs;
          if (k >= imrt.size || !imrt.inc(k)) c.incCluster(k);
        } else c.inc(offset, cs, () => entryHex(hi & OFFSET_MASK_HI, lo & OFFSET_MASK_LO));
      }
      continue;
    }
    if (type === QCOW2_CLUSTER_COMPRESSED) {
      const coffsetHex = () => entryHex(compressedOffsetHi(hi, cb), lo);
      if (hi & QCOW_OFLAG_COPIED_HI) {
        c.say(`ERROR: coffset=0x${coffsetHex()}: copied flag must never be set for compressed clusters`);
        c.corruptions++;
      }
      const entry = entryHex(hi & ~QCOW_OFLAG_COPIED_HI, lo);
      if (dataFile) {
        c.say(`ERROR compressed cluster ${i} with data file, entry=0x${entry}`);
        c.corruptions++;
        continue;
      }
      if (alloc || zero) {
        c.say(`ERROR compressed cluster ${i} with non-zero subcluster allocation bitmap, entry=0x${entry}`);
        c.corruptions++;
        continue;
      }
      // qcow2_parse_compressed_l2_entry()
      const csize = compressedBytes(hi, lo, cb);
      const coffset = compressedOffsetHi(hi, cb) < 0x200000 ? compressedOffset(hi, lo, cb) : undefined;
      c.inc(coffset, csize, coffsetHex);
      if (frag) {
        allocated++;
        compressed++;
        // "Compressed clusters are fragmented by nature."
        fragmented++;
      }
      continue;
    }
    // ZERO_PLAIN has nothing to count; an UNALLOCATED entry must have no allocation bits.
    if (type === QCOW2_CLUSTER_UNALLOCATED && alloc) {
      c.corruptions++;
      c.say('ERROR: Unallocated cluster has non-zero subcluster allocation map');
    }
  }
  c.allocated += allocated;
  c.fragmented += fragmented;
  c.compressed += compressed;
}
