/**
 * `qemu-img measure`: how large a file converting this image would make (QEMU 7.2
 * qcow2_measure() with qcow2_calc_prealloc_size() and qcow2_refcount_metadata_size() in
 * block/qcow2*.c, raw_measure() in block/raw-format.c, img_measure() in qemu-img.c).
 *
 * For qcow2 output, "fully allocated" is every cluster of the (cluster-rounded) virtual size
 * plus the metadata a preallocated image needs (header, L2 and L1 tables, refcount table and
 * blocks to a fixed point); "required" swaps the data part for the output clusters the input
 * holds data in (block status of the whole chain: ZERO skipped, ALLOCATED|DATA counted in
 * whole output clusters), or for the whole virtual size with a backing file or full/falloc
 * preallocation. "bitmaps" is the space the top image's persistent bitmaps take when copied
 * (qcow2_get_persistent_dirty_bitmap_size()), shown only for a v3 output from a v3 qcow2 input.
 * For raw output both sizes are the virtual size.
 */
import type { Layer } from '../chain/layer.ts';
import { UnsupportedError } from '../errors.ts';
import { nbdFlags } from '../interpret/nbd.ts';
import { readBitmaps } from '../qcow2/bitmaps.ts';
import { BDRV_BLOCK_ALLOCATED, BDRV_BLOCK_DATA, BDRV_BLOCK_ZERO } from '../status/flags.ts';
import type { ChainStatus } from '../status/resolve.ts';

export type Preallocation = 'off' | 'metadata' | 'falloc' | 'full';

export interface MeasureOptions {
  /** Output format (-O); qemu-img measure's default is raw. */
  readonly format: 'qcow2' | 'raw';
  readonly clusterSize: number;
  readonly extendedL2: boolean;
  readonly refcountBits: number;
  /** 2 for compat=0.10, 3 for compat=1.1 (the default). */
  readonly version: 2 | 3;
  readonly preallocation: Preallocation;
  /** -o backing_file=...: QEMU then assumes every cluster must be written. */
  readonly backingFile: boolean;
}

export const DEFAULT_MEASURE_OPTIONS: MeasureOptions = {
  format: 'raw',
  clusterSize: 65536,
  extendedL2: false,
  refcountBits: 16,
  version: 3,
  preallocation: 'off',
  backingFile: false,
};

/** An option QEMU refuses, with its sentence (qemu-img exits 1). */
export class MeasureOptionError extends Error {
  override readonly name = 'MeasureOptionError';
}

/** QEMU's bounds on cluster_size (qcow2_opt_get_cluster_size_del()). */
const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;
/** Extended L2 needs clusters of at least 16 KiB (QCOW2 subclusters are 512 bytes or more). */
const MIN_EXTL2_CLUSTER = 16384;

function parseSize(v: string): number {
  const m = /^(\d+)([kmgt]?)$/i.exec(v.trim());
  if (!m) throw new MeasureOptionError(`Parameter 'cluster_size' expects a non-negative number below 2^64`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * mult;
}

const onOff = (k: string, v: string): boolean => {
  if (v === 'on' || v === 'true') return true;
  if (v === 'off' || v === 'false') return false;
  throw new MeasureOptionError(`Parameter '${k}' expects 'on' or 'off'`);
};

/** `-O FMT -o k=v,...` as qemu-img measure reads them. */
export function measureOptions(format: string, o: string | undefined): MeasureOptions {
  if (format !== 'qcow2' && format !== 'raw') {
    throw new MeasureOptionError(`clusterscope measures qcow2 and raw output, not '${format}'`);
  }
  let opts: MeasureOptions = { ...DEFAULT_MEASURE_OPTIONS, format };
  let refcountGiven = false;
  for (const kv of (o ?? '').split(',').filter(Boolean)) {
    const eq = kv.indexOf('=');
    const k = eq < 0 ? kv : kv.slice(0, eq);
    const v = eq < 0 ? 'on' : kv.slice(eq + 1);
    if (format === 'raw' && k !== 'preallocation' && k !== 'size') {
      throw new MeasureOptionError(`Invalid parameter '${k}'`);
    }
    if (k === 'cluster_size') opts = { ...opts, clusterSize: parseSize(v) };
    else if (k === 'extended_l2') opts = { ...opts, extendedL2: onOff(k, v) };
    else if (k === 'refcount_bits') {
      opts = { ...opts, refcountBits: Number(v) };
      refcountGiven = true;
    } else if (k === 'compat') {
      if (v === '0.10' || v === 'v2') opts = { ...opts, version: 2 };
      else if (v === '1.1' || v === 'v3') opts = { ...opts, version: 3 };
      else throw new MeasureOptionError(`Invalid parameter '${v}'`);
    } else if (k === 'preallocation') {
      if (!['off', 'metadata', 'falloc', 'full'].includes(v)) {
        throw new MeasureOptionError(`Invalid parameter '${v}'`);
      }
      opts = { ...opts, preallocation: v as Preallocation };
    } else if (k === 'backing_file') opts = { ...opts, backingFile: true };
    else if (k === 'backing_fmt' || k === 'lazy_refcounts' || k === 'compression_type') {
      // Accepted and without effect on the sizes.
    } else throw new MeasureOptionError(`Invalid parameter '${k}'`);
  }
  if (format === 'raw') return opts;
  const cs = opts.clusterSize;
  const bits = Math.log2(cs);
  if (!Number.isInteger(bits) || bits < MIN_CLUSTER_BITS || bits > MAX_CLUSTER_BITS) {
    throw new MeasureOptionError('Cluster size must be a power of two between 512 and 2048k');
  }
  if (opts.extendedL2 && cs < MIN_EXTL2_CLUSTER) {
    throw new MeasureOptionError(
      `Extended L2 entries are only supported with cluster sizes of at least ${MIN_EXTL2_CLUSTER} bytes`,
    );
  }
  const rb = opts.refcountBits;
  if (!Number.isInteger(rb) || rb < 1 || rb > 64 || (rb & (rb - 1)) !== 0) {
    throw new MeasureOptionError('Refcount width must be a power of two and may not exceed 64 bits');
  }
  if (opts.version === 2 && refcountGiven && rb !== 16) {
    throw new MeasureOptionError(
      'Different refcount widths than 16 bits require compatibility level 1.1 or above (use compat=1.1 or greater)',
    );
  }
  if (opts.version === 2 && opts.extendedL2) {
    throw new MeasureOptionError(
      'Extended L2 entries are only supported with compatibility level 1.1 and above (use compat=1.1 or greater)',
    );
  }
  return opts;
}

const divRoundUp = (a: number, b: number): number => Math.ceil(a / b);
const roundUp = (a: number, b: number): number => Math.ceil(a / b) * b;

/** qcow2_refcount_metadata_size(): refcount blocks and table clusters, iterated to a fixed point. */
export function refcountMetadataBytes(clusters: number, clusterSize: number, refcountOrder: number): number {
  const blocksPerTableCluster = clusterSize / 8;
  const refcountsPerBlock = (clusterSize * 8) / 2 ** refcountOrder;
  let table = 0;
  let blocks = 0;
  let n = 0;
  let last: number;
  do {
    last = n;
    blocks = divRoundUp(clusters + table + blocks, refcountsPerBlock);
    table = divRoundUp(blocks, blocksPerTableCluster);
    n = clusters + blocks + table;
  } while (n !== last);
  return (blocks + table) * clusterSize;
}

/** qcow2_calc_prealloc_size(): a fully allocated qcow2 image of `size` bytes. */
export function qcow2PreallocBytes(
  size: number,
  clusterSize: number,
  refcountOrder: number,
  extendedL2: boolean,
): number {
  const l2e = extendedL2 ? 16 : 8;
  const aligned = roundUp(size, clusterSize);
  let meta = clusterSize; // header
  const nl2e = roundUp(aligned / clusterSize, clusterSize / l2e);
  meta += nl2e * l2e;
  const nl1e = roundUp((nl2e * l2e) / clusterSize, clusterSize / 8);
  meta += nl1e * 8;
  meta += refcountMetadataBytes((meta + aligned) / clusterSize, clusterSize, refcountOrder);
  return meta + aligned;
}

/** Output clusters holding data: ALLOCATED|DATA without ZERO, counted whole (qcow2_measure()). */
export function dataClusterBytes(st: ChainStatus, clusterSize: number): number {
  const e = st.extents;
  let required = 0;
  let countedTo = 0;
  for (let i = 0; i < e.count; i++) {
    const f = nbdFlags(st, i);
    if (f & BDRV_BLOCK_ZERO) continue;
    if ((f & (BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED)) !== (BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED)) continue;
    const from = Math.max(countedTo, e.start[i]! - (e.start[i]! % clusterSize));
    const to = roundUp(e.start[i]! + e.length[i]!, clusterSize);
    if (to > from) required += to - from;
    countedTo = Math.max(countedTo, to);
  }
  return required;
}

/** qcow2_get_persistent_dirty_bitmap_size(): the top's bitmaps, their tables and directory. */
export async function bitmapsBytes(top: Layer, clusterSize: number): Promise<number> {
  if (top.format !== 'qcow2') return 0;
  let bytes = 0;
  let dir = 0;
  for (const b of await readBitmaps(top)) {
    // get_bitmap_bytes_needed(): one bit per granularity-sized chunk of the disk.
    const bmbytes = divRoundUp(divRoundUp(top.length, b.granularity), 8);
    const bmclusters = divRoundUp(bmbytes, clusterSize);
    bytes += bmclusters * clusterSize + roundUp(bmclusters * 8, clusterSize);
    // calc_dir_entry_size(): 24 bytes, the name, padded to 8.
    dir += roundUp(24 + new TextEncoder().encode(b.name).length, 8);
  }
  return bytes + roundUp(dir, clusterSize);
}

export interface Measure {
  readonly required: number;
  readonly fullyAllocated: number;
  /** Present when QEMU prints "bitmaps size" (v3 qcow2 output of a v3 qcow2 input). */
  readonly bitmaps?: number;
}

export async function measureImage(st: ChainStatus, opts: MeasureOptions): Promise<Measure> {
  const top = st.chain.layers[0]!;
  if (top.format === 'qcow2' && top.encrypted) {
    throw new UnsupportedError(
      { file: top.name, structure: 'header' },
      'measuring an encrypted image needs its key',
    );
  }
  if (opts.format === 'raw') return { required: st.length, fullyAllocated: st.length };
  const cs = opts.clusterSize;
  // qcow2_measure() checks the L1 size ("The image size is too large") only against the size
  // option, which is 0 when an input image is given, so an input of any size is measured.
  const virtual = roundUp(st.length, cs);
  let data = opts.backingFile ? virtual : dataClusterBytes(st, cs);
  if (opts.preallocation === 'full' || opts.preallocation === 'falloc') data = virtual;
  const fullyAllocated = qcow2PreallocBytes(virtual, cs, Math.log2(opts.refcountBits), opts.extendedL2);
  const required = fullyAllocated - virtual + data;
  const hasBitmaps = opts.version >= 3 && top.format === 'qcow2' && top.header.version >= 3;
  return hasBitmaps
    ? { required, fullyAllocated, bitmaps: await bitmapsBytes(top, cs) }
    : { required, fullyAllocated };
}

/** qemu-img measure's human output, or its JSON (key order as qemu-img 7.2 prints it). */
export function formatMeasure(m: Measure, json: boolean): string {
  if (json) {
    const fields = [
      ...(m.bitmaps !== undefined ? [`    "bitmaps": ${m.bitmaps}`] : []),
      `    "required": ${m.required}`,
      `    "fully-allocated": ${m.fullyAllocated}`,
    ];
    return `{\n${fields.join(',\n')}\n}\n`;
  }
  return `required size: ${m.required}\nfully allocated size: ${m.fullyAllocated}\n${m.bitmaps !== undefined ? `bitmaps size: ${m.bitmaps}\n` : ''}`;
}
