/**
 * `qemu-img create -f qcow2` (QEMU 7.2 qcow2_co_create()) and the header it writes and rewrites
 * (qcow2_update_header()): the options qemu-img refuses, in its words, then a header cluster, a
 * one-cluster refcount table at cluster 1 pointing to the refcount block at cluster 2, and the
 * L1 table allocated by growing the image to its size. The bytes equal qemu-img 7.2's.
 */
import { LimitError } from '../../errors.ts';
import { MAX_BACKING_FORMAT_BYTES, MAX_BACKING_NAME_BYTES, MAX_L1_ENTRIES } from '../../limits.ts';
import { EXT_BACKING_FORMAT, EXT_BITMAPS, EXT_FEATURE_TABLE } from '../../qcow2/extensions.ts';
import { FEATURE_TYPES, QCOW2_FEATURES } from '../../qcow2/features.ts';
import { AUTOCLEAR_BITMAPS, INCOMPAT_EXTL2, QCOW_MAGIC } from '../../qcow2/header.ts';
import { refuse } from '../errors.ts';
import { roundUp } from '../image.ts';
import { MAX_WRITER_VIRTUAL_SIZE } from '../limits.ts';
import type { Qcow2CreateOptions, Qcow2Tables } from './tables.ts';

/** The options qemu-img create refuses; returns the virtual size, rounded up to 512 as qemu-img does. */
export function createSize(o: Qcow2CreateOptions): number {
  const name = o.name;
  const version = o.version ?? 3;
  const clusterBits = o.clusterBits ?? 16;
  const refcountOrder = o.refcountOrder ?? 4;
  if (!Number.isInteger(clusterBits) || clusterBits < 9 || clusterBits > 21) {
    throw refuse(name, 'Cluster size must be a power of two between 512 and 2048k');
  }
  if (!Number.isInteger(refcountOrder) || refcountOrder < 0 || refcountOrder > 6) {
    throw refuse(name, 'Refcount width must be a power of two and may not exceed 64 bits');
  }
  if (version === 2 && refcountOrder !== 4) {
    throw refuse(name, 'Different refcount widths than 16 bits require compatibility level 1.1 or above');
  }
  if (o.extendedL2 && version === 2) {
    throw refuse(name, 'Extended L2 entries are only supported with compatibility level 1.1 and above');
  }
  if (o.extendedL2 && clusterBits < 14) {
    throw refuse(name, 'Extended L2 entries are only supported with cluster sizes of at least 16384 bytes');
  }
  if (o.backing) {
    if (new TextEncoder().encode(o.backing.name).length > MAX_BACKING_NAME_BYTES) {
      throw refuse(name, 'Backing file name too long');
    }
    if (o.backing.format.length > MAX_BACKING_FORMAT_BYTES) throw refuse(name, 'Backing format too long');
  }
  const requested = o.size ?? o.backing?.image.length;
  if (requested === undefined) throw refuse(name, 'Image creation needs a size parameter');
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_WRITER_VIRTUAL_SIZE) {
    throw new LimitError(
      { file: name, structure: 'create options' },
      `size ${requested} is not between 0 and MAX_WRITER_VIRTUAL_SIZE`,
    );
  }
  return roundUp(requested, 512);
}

/** qcow2_co_create()'s layout on a new image of `w.length` bytes. */
export function layoutNewImage(w: Qcow2Tables): void {
  const cs = w.clusterSize;
  // Cluster 0: header (rewritten below); cluster 1: refcount table; cluster 2: refcount block.
  w.file.extendTo(3 * cs);
  w.file.setU64(cs, BigInt(2 * cs));
  w.st.reftableOffset = cs;
  w.st.reftableClusters = 1;
  w.rc.alloc(3 * cs);
  // qcow2_co_truncate() -> qcow2_grow_l1_table(exact size): the L1 table, l1_size * 8 bytes.
  const l1Size = Math.ceil(w.length / (cs * w.l2Entries));
  if (l1Size > MAX_L1_ENTRIES) {
    throw new LimitError(
      { file: w.file.name, structure: 'L1 table' },
      'Active L1 table too large',
      'MAX_L1_ENTRIES',
    );
  }
  if (l1Size > 0) {
    w.l1Offset = w.rc.alloc(l1Size * 8);
    w.file.fill(w.l1Offset, l1Size * 8, 0);
    w.l1Size = l1Size;
  }
  updateHeader(w);
}

/** qcow2_update_header(): the whole first cluster, extensions and backing name included. */
export function updateHeader(w: Qcow2Tables): void {
  const cs = w.clusterSize;
  const b = new Uint8Array(cs);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, QCOW_MAGIC);
  dv.setUint32(4, w.version);
  dv.setUint32(20, w.clusterBits);
  dv.setBigUint64(24, BigInt(w.length));
  dv.setUint32(36, w.l1Size);
  dv.setBigUint64(40, BigInt(w.l1Offset));
  dv.setBigUint64(48, BigInt(w.st.reftableOffset));
  dv.setUint32(56, w.st.reftableClusters);
  dv.setUint32(60, w.snapshots.length);
  dv.setBigUint64(64, BigInt(w.snapshotsOffset));
  let pos = 72;
  if (w.version === 3) {
    dv.setBigUint64(72, w.extendedL2 ? INCOMPAT_EXTL2 : 0n);
    // The bitmaps autoclear bit is set exactly while a bitmap directory is stored.
    dv.setBigUint64(88, w.storedBitmaps > 0 ? AUTOCLEAR_BITMAPS : 0n);
    dv.setUint32(96, w.refcountOrder);
    dv.setUint32(100, 112);
    pos = 112;
  }
  const noSpace = () =>
    new LimitError(
      { file: w.file.name, structure: 'header' },
      'Could not update qcow2 header: No space left',
    );
  const ext = (type: number, data: Uint8Array) => {
    const len = 8 + roundUp(data.length, 8);
    if (pos + len > cs) throw noSpace();
    dv.setUint32(pos, type);
    dv.setUint32(pos + 4, data.length);
    b.set(data, pos + 8);
    pos += len;
  };
  const enc = new TextEncoder();
  if (w.backingFormat !== undefined) ext(EXT_BACKING_FORMAT, enc.encode(w.backingFormat));
  // QEMU omits the feature table for clusters of 4 KiB and less: 8 names take 392 bytes,
  // which would leave almost no room for a backing file name in a 512-byte cluster.
  if (w.version === 3 && cs > 4096) {
    const t = new Uint8Array(QCOW2_FEATURES.length * 48);
    QCOW2_FEATURES.forEach(({ type, bit, name }, i) => {
      t[i * 48] = FEATURE_TYPES.indexOf(type);
      t[i * 48 + 1] = bit;
      t.set(enc.encode(name), i * 48 + 2);
    });
    ext(EXT_FEATURE_TABLE, t);
  }
  if (w.storedBitmaps > 0) {
    // nb_bitmaps, reserved, bitmap_directory_size, bitmap_directory_offset (after the feature table, as QEMU orders them).
    const bm = new Uint8Array(24);
    const bv = new DataView(bm.buffer);
    bv.setUint32(0, w.storedBitmaps);
    bv.setBigUint64(8, BigInt(w.bitmapDirSize));
    bv.setBigUint64(16, BigInt(w.bitmapDirOffset));
    ext(EXT_BITMAPS, bm);
  }
  if (pos + 8 > cs) throw noSpace();
  pos += 8; // end marker
  if (w.backingName !== undefined) {
    const n = enc.encode(w.backingName);
    if (pos + n.length > cs) throw noSpace();
    b.set(n, pos);
    dv.setBigUint64(8, BigInt(pos));
    dv.setUint32(16, n.length);
  }
  w.file.write(0, b);
}
