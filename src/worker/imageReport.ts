/**
 * The Image panel's facts about the top layer, computed in the worker: header fields, feature
 * bits named from the feature table, header extensions, snapshots, persistent bitmaps, the
 * qemu-img check findings, qemu-img measure of the chain (-O qcow2 and -O raw), and the
 * host-file map (core/hostmap) binned by the one raster.
 */

import { CancelledError } from '../core/cancel.ts';
import { checkImage } from '../core/check/checkImage.ts';
import { hex } from '../core/format.ts';
import { HOST_NAMES, hostMaps } from '../core/hostmap/hostmap.ts';
import type { ByteSource } from '../core/io/byteSource.ts';
import { DEFAULT_MEASURE_OPTIONS, measureImage } from '../core/measure/measure.ts';
import { readBitmaps } from '../core/qcow2/bitmaps.ts';
import {
  EXT_BACKING_FORMAT,
  EXT_BITMAPS,
  EXT_CRYPTO_HEADER,
  EXT_DATA_FILE,
  EXT_FEATURE_TABLE,
} from '../core/qcow2/extensions.ts';
import { setFeatures } from '../core/qcow2/features.ts';
import { entryOffset, type Qcow2Image } from '../core/qcow2/image.ts';
import { readSnapshots } from '../core/qcow2/snapshots.ts';
import { binRuns } from '../core/raster/bins.ts';
import type { Extents } from '../core/status/extents.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import type { HostMapBins, ImageField, ImageReport } from '../protocol/results.ts';

const EXT_NAMES: Record<number, string> = {
  [EXT_BACKING_FORMAT]: 'backing file format name',
  [EXT_FEATURE_TABLE]: 'feature name table',
  [EXT_BITMAPS]: 'bitmaps',
  [EXT_CRYPTO_HEADER]: 'full disk encryption header pointer',
  [EXT_DATA_FILE]: 'external data file name',
};

/**
 * The check runs with the report on its own only while it reads at most this much metadata
 * (L2 tables and refcount structures). Above it (a 1 TiB preallocated image: 128 MiB, seconds
 * of Blob reads) it waits for a click, so it does not compete with the map for the file and the
 * CPU right after opening; the panel says how much it would read.
 */
export const AUTO_CHECK_BYTES = 16 * 1024 * 1024;

/**
 * Metadata bytes qemu-img check reads or walks on this image (an estimate): an L2 table per L1
 * entry that names one (a table shared by many entries is walked once per entry: one shared by
 * 1536 entries is 12.6 M entries to count), the refcount table, and each internal snapshot's L1
 * table with, as its L2 tables, as many as the active L1 names (calculate_refcounts() walks every
 * snapshot's tables: 65,535 snapshots took the auto check 37 s).
 */
export function checkReadBytes(
  img: Qcow2Image,
  snapshots: readonly { readonly l1Size: number }[] = [],
): number {
  const cs = img.header.clusterSize;
  let l2 = 0;
  for (let i = 0; i < img.l1.length >>> 1; i++) if (entryOffset(img.l1[2 * i]!, img.l1[2 * i + 1]!)) l2++;
  const snaps = snapshots.reduce((n, s) => n + s.l1Size * 8 + l2 * cs, 0);
  return (l2 + img.header.refcountTableClusters) * cs + snaps;
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

type Checked = Awaited<ReturnType<typeof checkImage>>;

/** `qemu-img measure -O qcow2` and `-O raw` of the chain as opened, default options. */
async function measure(st: ChainStatus): Promise<NonNullable<ImageReport['measure']>> {
  try {
    const q = await measureImage(st, { ...DEFAULT_MEASURE_OPTIONS, format: 'qcow2' });
    const r = await measureImage(st, { ...DEFAULT_MEASURE_OPTIONS, format: 'raw' });
    return {
      qcow2: {
        required: q.required,
        fullyAllocated: q.fullyAllocated,
        ...(q.bitmaps !== undefined && { bitmaps: q.bitmaps }),
      },
      raw: { required: r.required, fullyAllocated: r.fullyAllocated },
    };
  } catch (e) {
    return { error: msg(e) };
  }
}

/**
 * `runCheck`: 'auto' checks when checkReadBytes() is at most `autoBytes`, 'always' checks. The
 * check's result comes back too: the host map marks the clusters it found leaked or shared.
 */
export async function imageReport(
  st: ChainStatus,
  runCheck: 'auto' | 'always' = 'auto',
  autoBytes = AUTO_CHECK_BYTES,
  /** The check's cancellation, and its progress: bytes of tables read of the bytes it reads. */
  opts: { readonly signal?: AbortSignal; readonly onProgress?: (done: number, total: number) => void } = {},
): Promise<{ report: ImageReport; checked?: Checked }> {
  const layer = st.chain.layers[0]!;
  if (layer.format === 'raw') {
    return {
      report: {
        file: layer.name,
        format: 'raw',
        header: [{ name: 'virtual size', value: String(layer.length) }],
        features: [],
        extensions: [],
        snapshotCount: 0,
        bitmaps: [],
        measure: await measure(st),
        problems: [],
      },
    };
  }
  const img: Qcow2Image = layer;
  const h = img.header;
  const problems: string[] = [];
  const header: ImageField[] = [
    ['magic', 'QFI\\xfb'],
    ['version', String(h.version)],
    ['size (virtual)', `${h.size} bytes`],
    ['cluster_bits', `${h.clusterBits} (${h.clusterSize} bytes)`],
    ['crypt_method', String(h.cryptMethod)],
    ['l1_size', String(h.l1Size)],
    ['l1_table_offset', hex(h.l1TableOffset)],
    ['refcount_table_offset', hex(h.refcountTableOffset)],
    ['refcount_table_clusters', String(h.refcountTableClusters)],
    ['refcount_order', `${h.refcountOrder} (${2 ** h.refcountOrder}-bit refcounts)`],
    ['nb_snapshots', String(h.nbSnapshots)],
    ['snapshots_offset', hex(h.snapshotsOffset)],
    ['backing_file_offset', hex(h.backingFileOffset)],
    ['backing_file_size', String(h.backingFileSize)],
    ['backing file', img.backingName ?? '(none)'],
    ['header_length', String(h.headerLength)],
    ['compression_type', h.compressionType],
    ['L2 entry', `${h.l2EntryBytes} bytes${h.extendedL2 ? ', 32 subclusters' : ''}`],
  ].map(([name, value]) => ({ name: name!, value: value! }));

  const features = setFeatures(h, img.extensions.featureNames);
  const extensions = img.extensions.all.map((e) => ({
    type: EXT_NAMES[e.type] ?? `unknown ${hex(e.type)}`,
    offset: e.offset,
    length: e.length,
  }));

  let snapshots: readonly { readonly l1Size: number }[] = [];
  try {
    snapshots = await readSnapshots(img);
  } catch (e) {
    problems.push(`snapshots: ${msg(e)}`);
  }
  let bitmaps: ImageReport['bitmaps'] = [];
  try {
    bitmaps =
      h.version === 3
        ? (await readBitmaps(img)).map((b) => ({
            name: b.name,
            granularity: b.granularity,
            flags: [b.flags.inUse && 'in-use', b.flags.auto && 'auto'].filter(Boolean).join(', ') || '-',
          }))
        : [];
  } catch (e) {
    problems.push(`bitmaps: ${msg(e)}`);
  }
  let check: ImageReport['check'];
  let checked: Checked | undefined;
  const checkBytes = checkReadBytes(img, snapshots);
  const deferred = runCheck === 'auto' && checkBytes > autoBytes;
  try {
    if (!deferred) {
      opts.onProgress?.(0, checkBytes);
      checked = await checkImage(img, {
        ...(opts.signal && { signal: opts.signal }),
        ...(opts.onProgress && {
          onProgress: (done: number) => opts.onProgress?.(done, Math.max(done, checkBytes)),
        }),
      });
    }
    if (checked)
      check = {
        corruptions: checked.corruptions,
        leaks: checked.leaks,
        checkErrors: checked.checkErrors,
        ...(checked.failure !== undefined && { failure: checked.failure }),
        messages: checked.messages.slice(0, 200),
        messagesDropped: checked.messagesDropped + Math.max(0, checked.messages.length - 200),
      };
  } catch (e) {
    // A cancelled check is no finding: the call ends (the page said it stopped).
    if (e instanceof CancelledError) throw e;
    problems.push(`check: ${msg(e)}`);
  }
  return {
    report: {
      file: img.name,
      format: 'qcow2',
      header,
      features,
      extensions,
      snapshotCount: snapshots.length,
      bitmaps,
      measure: await measure(st),
      ...(check && { check }),
      ...(deferred && { checkDeferred: { bytes: checkBytes } }),
      problems,
    },
    ...(checked && { checked }),
  };
}

/** Most pixels a host map is binned to: a screen's width, twice over for wrapped rows. */
export const MAX_HOST_MAP_PX = 8192;

/**
 * The top's host files (the qcow2 file; with an external data file, that file too), each its
 * clusters in file order binned to `px` pixels over the host classes (core/hostmap HOST_*): a
 * pixel shows its share of each, as every view does (core/raster/mix.ts).
 */
export async function hostMapBins(
  img: Qcow2Image,
  top: Extents,
  checked: Checked | undefined,
  dataFile: ByteSource | undefined,
  px: number,
): Promise<HostMapBins[]> {
  const maps = await hostMaps(img, top, {
    ...(checked && { check: checked }),
    ...(dataFile && { dataFile }),
  });
  const n = Math.max(1, Math.min(px, MAX_HOST_MAP_PX));
  const classes = HOST_NAMES.length;
  return maps.map((m) => {
    const counts = new Array<number>(classes).fill(0);
    for (let i = 0; i < m.count; i++) counts[m.kind[i]!]! += m.length[i]!;
    const fractions = binRuns(
      m,
      classes,
      (i, cls) => {
        cls[0] = m.kind[i]!;
        return 1;
      },
      0,
      m.clusters,
      n,
    );
    return {
      file: m.file,
      clusterSize: m.clusterSize,
      clusters: m.clusters,
      classes: HOST_KEYS,
      counts,
      px: n,
      fractions,
    };
  });
}

/** Class keys of the host classes, by HOST_* index (one palette key each). */
export const HOST_KEYS: readonly string[] = [
  'host-free',
  'host-header',
  'host-l1',
  'host-l2',
  'host-reftable',
  'host-refblock',
  'host-snapshot',
  'host-bitmap',
  'host-data',
  'host-compressed',
  'host-leaked',
  'host-twice',
];
