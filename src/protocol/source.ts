/**
 * What the page knows of an opened source (an image chain, a map without its image, a diff of
 * two of them): names, sizes, the raster's classes and lanes. Never the runs themselves: those
 * stay in the worker, and the page asks for bins, lanes, rows and hits (calls.ts).
 */
import type { ChainFile } from '../core/chain/describe.ts';
import type { DiffMode } from '../core/diff/diff.ts';
import type { NativeFormat } from '../core/interpret/catalogue.ts';
import type { ErrorInfo, FindingInfo } from './errors.ts';

/** A source in the worker, named by the id of the request that opened it. */
export type SourceId = number;

/**
 * The image a link was made from, or an opened image's: its name, virtual size and a
 * fingerprint of the header and L1 table (fnv1a64), so a recipient can tell the same image.
 */
export interface ImageIdentity {
  readonly name: string;
  /** Virtual size in bytes. */
  readonly size: number;
  readonly fingerprint?: string;
}

export interface LayerInfo {
  readonly name: string;
  readonly format: 'qcow2' | 'raw';
  readonly virtualSize: number;
  readonly fileSize: number;
  readonly clusterSize?: number;
  readonly version?: number;
  readonly extendedL2?: boolean;
  readonly compressionType?: string;
  readonly backingName?: string;
  readonly backingFormat?: string;
  readonly dataFile?: string;
  readonly snapshots?: number;
  readonly encrypted?: boolean;
}

/** A lane of the tracks: its name, and a note when its source cannot fill it. */
export interface LaneInfo {
  readonly name: string;
  readonly note?: string;
  /** A short word for the note beside the name (default: "not in the map"). */
  readonly noteTag?: string;
}

/**
 * A persistent bitmap of a chain (core/interpret/bitmap.ts chainBitmaps), with the flags that
 * decide whether QEMU uses it and, when it does, what an incremental backup of the chain as
 * opened reads in its dirty ranges.
 */
export interface BitmapInfo {
  readonly name: string;
  /** The interpretation id (nbd-dirty-bitmap-...), for the one qemu-nbd -B NAME exports. */
  readonly id?: string;
  readonly layer: number;
  readonly layerName: string;
  readonly granularity: number;
  /** The directory entry's flags in QEMU's words (qemu-img info): in-use, auto. */
  readonly flags: readonly string[];
  /** BME_FLAG_AUTO: QEMU loads it enabled (it records writes), else disabled. */
  readonly enabled: boolean;
  /** BME_FLAG_IN_USE on disk: QEMU loads it as inconsistent and will not use it. */
  readonly inconsistent: boolean;
  /** qemu-nbd -B NAME finds this one (the first of its name from the top). */
  readonly exported: boolean;
  /** Its lane's index in the source's lanes. */
  readonly lane: number;
  /** Dirty bytes, and of them data, zero and absent (incrementalBackupRead), when its bits are read. */
  readonly backup?: {
    readonly dirty: number;
    readonly data: number;
    readonly zero: number;
    readonly absent: number;
  };
  /** Why its bits are not read (in use, or its table refused). */
  readonly problem?: string;
}

/** What every source offers the raster (core/raster): classes of its bins and its lanes. */
export interface RasterInfo {
  readonly id: SourceId;
  /** Guest bytes the source spans. */
  readonly length: number;
  /** Bytes of one heatmap cell at full zoom: the top's cluster size (512 for a raw top). */
  readonly clusterSize: number;
  /** A cluster cell can show 32 subclusters (extended L2). */
  readonly subclusters: boolean;
  /** Class keys of bins and lanes, by index (core/raster/classes.ts). */
  readonly classes: readonly string[];
  readonly lanes: readonly LaneInfo[];
}

/** What a map opened without its image came from. */
export interface MapOnlyInfo {
  readonly fromLink: boolean;
  readonly files: readonly string[];
  readonly image?: ImageIdentity;
  /** Each map shown: where it came from and the interpretation it is. */
  readonly sources: readonly {
    readonly name: string;
    readonly interpretation: string;
    readonly title: string;
  }[];
}

/** A backing file named by `from` that the chain does not have. */
export interface MissingBacking {
  readonly name: string;
  readonly from: string;
  /**
   * A remote image's backing file that was not requested: it resolves to this URL, on another
   * origin than the image's, which the person has not allowed (worker/remoteSource.ts).
   */
  readonly blockedUrl?: string;
}

/** An image chain, or a map without its image (mapOnly). */
export interface ChainInfo extends RasterInfo {
  readonly kind: 'image' | 'map';
  /** Top first. */
  readonly layers: readonly LayerInfo[];
  /** False while the open goes on (a partial map, extents over [0, mappedEnd)). */
  readonly complete: boolean;
  readonly mappedEnd: number;
  /** A backing file the chain names but that was not dropped: the map stops above it. */
  readonly missingBacking?: MissingBacking;
  /** The walk stopped here: bytes from `errorAt` on are not mapped. */
  readonly error?: ErrorInfo;
  readonly errorAt?: number;
  readonly findings: readonly FindingInfo[];
  /** Files that were dropped but could not be opened, or that the chain does not use. */
  readonly rejected: readonly ErrorInfo[];
  /** Dropped files that are no part of the chain, each with why. */
  readonly unused: readonly UnusedFile[];
  /**
   * When the top file has no qcow2 magic: that it is read as a raw disk and why, as qemu-img
   * probes it without -f (core/info/probe.ts probedAsRawNote).
   */
  readonly probedRaw?: string;
  /**
   * The files the chain reads, top first, each layer's external data file right after it
   * (core/chain/describe.ts describeChain); absent for a map without its image.
   */
  readonly files?: readonly ChainFileInfo[];
  /** fnv1a64 of the top image's header and L1 table, for permalinks (complete opens only). */
  readonly fingerprint?: string;
  readonly mapOnly?: MapOnlyInfo;
  /** Persistent bitmaps of every layer, top first (images only; loaded once the open is done). */
  readonly bitmaps?: readonly BitmapInfo[];
  /** Bitmaps past the first MAX_SHOWN_BITMAPS (worker/bitmaps.ts): counted, not listed or read. */
  readonly bitmapsOmitted?: number;
}

/** What one view of a chain (a snapshot's L1, backing: null, zero-scanned) turned out to be. */
/** A dropped file the chain does not use, and why. */
export interface UnusedFile {
  readonly name: string;
  readonly why: string;
}

/** One file of a chain: a layer's own, or its external data file (core/chain/describe.ts, plain data). */
export type ChainFileInfo = ChainFile;

export interface ViewInfo {
  readonly view: string;
  readonly length: number;
  readonly error?: ErrorInfo;
  readonly errorAt?: number;
  /** A zero-scanned view: what the content scan read and found (core/status/zeroScan.ts). */
  readonly scan?: ScanInfo;
}

/** What a content scan read, and QEMU's metadata-preallocation heuristic per qcow2 file. */
export interface ScanInfo {
  readonly bytesRead: number;
  readonly plannedBytes: number;
  readonly heuristics: readonly {
    readonly name: string;
    readonly fires: boolean;
    readonly realClusters: number;
    readonly realClustersExact: boolean;
    readonly threshold: number;
    readonly refcounted: number;
  }[];
}

/**
 * Where QEMU on the original host could answer differently from a dense copy (core
 * interpret/hostHoles.ts): per layer and rule, the bytes, what clusterscope says and what QEMU
 * would, and what a content scan would read.
 */
export interface HostHoleInfo {
  readonly summary: string;
  readonly bytes: number;
  readonly exposures: readonly {
    readonly rule: 'raw-hole' | 'qcow2-data' | 'past-eof';
    readonly layerName: string;
    readonly file: string;
    readonly bytes: number;
    readonly count: number;
    readonly clusterscopeSays: string;
    readonly qemuWould: string;
    readonly likely: boolean;
    readonly why: string;
  }[];
  readonly scan: {
    readonly bytes: number;
    readonly maxExtraBytes: number;
    readonly pastEofBytes: number;
    readonly notReadBytes: number;
  };
}

/** One side of a diff: a source, an interpretation (catalogue id) and a view of it. */
export interface DiffSide {
  readonly source: SourceId;
  readonly interp: string;
  /** View text form (core/interpret/viewSource.ts), '' for the chain as opened. */
  readonly view: string;
}

export interface DiffSideSummary {
  readonly interp: string;
  readonly title: string;
  /** Canonical view text ('' default) and its words ("backing: null, active L1"). */
  readonly view: string;
  readonly viewWords: string;
  readonly provenance: string;
  readonly file: string;
  readonly length: number;
  readonly legend: readonly { readonly value: number; readonly label: string }[];
  /** Tool outputs a side can be exported as (none for a map without its image). */
  readonly nativeFormats: readonly NativeFormat[];
  /** The source the side reads. */
  readonly source: SourceId;
  /** Where QEMU would stop reading (the view's status ended at an error). */
  readonly error?: string;
}

export interface DiffKindSummary {
  readonly index: number;
  readonly id: string;
  readonly label: string;
  /** By meaning: the facts the sides disagree on, in words ("hole: A no, B yes"); '' by value. */
  readonly factsLabel: string;
  readonly labelA: string;
  readonly labelB: string;
  readonly bytes: number;
  readonly extents: number;
}

/** A diff of two sides (a source of its own: bins, lanes A/B/difference, rows with reasons). */
export interface DiffInfo extends RasterInfo {
  readonly kind: 'diff';
  /** Compared by the facts both sides state, or by the tools' values. */
  readonly mode: DiffMode;
  /** By meaning: what was compared, what only one side tells, what one side cannot tell apart (core/diff/meaning.ts). */
  readonly notes: readonly string[];
  readonly a: DiffSideSummary;
  readonly b: DiffSideSummary;
  readonly kinds: readonly DiffKindSummary[];
  readonly lengthA: number;
  readonly lengthB: number;
  readonly overlap: number;
  readonly bytesDiffering: number;
  readonly bytesAgreeing: number;
  /** Differing extents. */
  readonly count: number;
  /** Words for a comparison of two sizes, when they differ (core/diff/sizes.ts). */
  readonly sizeNote?: string;
}

export type SourceInfo = ChainInfo | DiffInfo;
