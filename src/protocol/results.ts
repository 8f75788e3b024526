/**
 * Answers to what the page asks a source for: bins of a range, lanes, a hit, a page of rows,
 * exports, the image report. Bulk parts are typed arrays, transferred, sized by pixels or rows.
 */
import type { NativeFormat } from '../core/interpret/catalogue.ts';
import type { BitmapAction } from '../core/write/qcow2/bitmaps.ts';
import type { ErrorInfo } from './errors.ts';

/** Fractions of bin i's bytes in class c at fractions[i * classes + c] (core/raster/bins.ts). */
export interface Bins {
  readonly start: number;
  readonly end: number;
  readonly n: number;
  readonly classes: number;
  readonly fractions: Float32Array;
}

/** Lanes x px bins over the source's classes: lane l, pixel p, class c at ((l * px) + p) * classes + c. */
export interface Lanes {
  readonly start: number;
  readonly end: number;
  readonly px: number;
  readonly lanes: number;
  readonly classes: number;
  readonly fractions: Float32Array;
}

/** The heatmap box an open names: the worker bins its first map for it (no round trip for the first cells). */
export interface GridBox {
  readonly width: number;
  readonly maxHeight: number;
}

export interface InterpretationValue {
  readonly id: string;
  readonly title: string;
  readonly value: number;
  readonly label: string;
  readonly explain: string;
}

/** One layer's L2 entry for a hit (qcow2 layers only). */
export interface L2EntryInfo {
  readonly layer: number;
  readonly name: string;
  readonly l1Index: number;
  readonly l2Index: number;
  /** Host offset of the L2 table, 0 when the L1 entry is empty. */
  readonly l2TableOffset: number;
  /** The raw entry in hex (128 bits with extended L2), undefined when there is no table. */
  readonly raw?: string;
  readonly type: string;
  readonly hostOffset?: number;
  /** The file the host offset is in (an external data file, or the image itself). */
  readonly hostFile?: string;
  readonly refcount?: number;
}

/** One persistent bitmap's bit for a hit, and what decides whether QEMU uses it. */
export interface HitBitmap {
  readonly name: string;
  readonly layer: number;
  readonly layerName: string;
  readonly granularity: number;
  /** The bit's index and the granule it covers, [granuleStart, granuleEnd). */
  readonly bit: number;
  readonly granuleStart: number;
  readonly granuleEnd: number;
  /** The bit; 'inconsistent' for an in-use bitmap (QEMU does not read it), 'beyond' past the bitmap's layer. */
  readonly state: 'dirty' | 'clean' | 'inconsistent' | 'beyond' | 'unreadable';
  readonly flags: readonly string[];
  readonly enabled: boolean;
  readonly inconsistent: boolean;
  readonly exported: boolean;
  /** What the granule holds by block status: bytes of data, zero, absent (and past the map). */
  readonly granule: {
    readonly data: number;
    readonly zero: number;
    readonly absent: number;
    readonly unknown: number;
  };
  /** One sentence, in QEMU's words. */
  readonly explain: string;
}

/** What a source says about the cluster (or subcluster) holding one offset. */
export interface Hit {
  readonly offset: number;
  readonly clusterStart: number;
  readonly clusterEnd: number;
  readonly clusterIndex: number;
  readonly subclusterIndex?: number;
  /** One sentence: what the bytes are and why. */
  readonly summary: string;
  /** The layer whose metadata decided it (images only). */
  readonly owner?: {
    readonly layer: number;
    readonly name: string;
    readonly kind: string;
    readonly flags: string;
  };
  readonly hostOffset?: number;
  readonly hostFile?: string;
  /** The bytes may sit on a host hole, where QEMU on the original host could answer otherwise (HostHoleInfo). */
  readonly hostHole?: {
    readonly rule: 'raw-hole' | 'qcow2-data' | 'past-eof';
    readonly qemuWould: string;
    readonly likely: boolean;
    readonly why: string;
  };
  readonly entries: readonly L2EntryInfo[];
  readonly values: readonly InterpretationValue[];
  /** Every persistent bitmap of the chain at this offset (images only). */
  readonly bitmaps?: readonly HitBitmap[];
}

/** A stretch of one class in one lane: [start, end), its class index; `cut` when it reaches further than was looked. */
export interface LaneSpan {
  readonly start: number;
  readonly end: number;
  readonly cls: number;
  readonly cut: boolean;
}

/** A page of a source's rows: qemu-img map rows of an image, the differing extents of a diff. */
export interface RowsPage {
  /** Rows in all (of the range asked for). */
  readonly total: number;
  /** Index of the first row of this page. */
  readonly from: number;
  readonly columns: readonly string[];
  readonly start: Float64Array;
  readonly length: Float64Array;
  /** A class index per row, for a swatch (-1: none). */
  readonly klass: Int32Array;
  readonly cells: readonly (readonly string[])[];
  /** The range held more rows than a source lists (its budget): the first ones are given. */
  readonly truncated: boolean;
}

/** Whole-map exports, byte for byte as the tools print them; a diff's own and its sides'. */
export type ExportFormat =
  | 'qemu-img-map-json'
  | 'nbdinfo-map'
  | 'diff-json'
  | 'diff-csv'
  | `${'a' | 'b'}:${NativeFormat}`;

export interface ExportResult {
  readonly text: string;
  readonly error?: string;
}

export interface SnapshotName {
  readonly id: string;
  readonly name: string;
}

export interface ImageField {
  readonly name: string;
  readonly value: string;
}

/** The Image panel's facts about the top layer (worker/imageReport.ts). */
export interface ImageReport {
  readonly file: string;
  readonly format: 'qcow2' | 'raw';
  readonly header: readonly ImageField[];
  /** Every set feature bit, named from the image's feature table when it has one. */
  readonly features: readonly { readonly type: string; readonly bit: number; readonly name: string }[];
  readonly extensions: readonly { readonly type: string; readonly offset: number; readonly length: number }[];
  /** Internal snapshots in the table (listed a page at a time: the `snapshotRows` call). */
  readonly snapshotCount: number;
  readonly bitmaps: readonly {
    readonly name: string;
    readonly granularity: number;
    readonly flags: string;
  }[];
  readonly check?: {
    readonly corruptions: number;
    readonly leaks: number;
    readonly checkErrors: number;
    readonly failure?: string;
    readonly messages: readonly string[];
    readonly messagesDropped: number;
  };
  /**
   * qemu-img measure of the chain as opened (core/measure): -O qcow2 (default options) and -O raw,
   * or why it could not be measured.
   */
  readonly measure?:
    | {
        readonly qcow2: {
          readonly required: number;
          readonly fullyAllocated: number;
          readonly bitmaps?: number;
        };
        readonly raw: { readonly required: number; readonly fullyAllocated: number };
      }
    | { readonly error: string };
  /** The check was left for a click: it would read `bytes` of metadata (imageReport.ts AUTO_CHECK_BYTES). */
  readonly checkDeferred?: { readonly bytes: number };
  readonly problems: readonly string[];
}

/** What `qemu-img compare A B` would read, before it reads (core/compare planCompare). */
export interface ComparePlan {
  /** Guest bytes read from A and from B to list every differing range. */
  readonly bytes: readonly [number, number];
  readonly lengths: readonly [number, number];
}

/** `qemu-img compare A B` and every differing range (core/compare compareImages, differingRanges). */
export interface CompareResult {
  /** qemu-img compare's lines ("Images are identical.", "Content mismatch at offset N!") and exit status. */
  readonly lines: readonly string[];
  readonly exit: number;
  /** Every differing byte range (content), ascending. */
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly bytes: number;
  /** Guest bytes read from A and B. */
  readonly bytesRead: readonly [number, number];
  /** Where QEMU stops reading (block status failed on a side), in its words. */
  readonly error?: string;
}

/** The host-file map of one file: its clusters in file order, binned to `px` pixels over host classes. */
export interface HostMapBins {
  readonly file: string;
  readonly clusterSize: number;
  readonly clusters: number;
  /** Class keys ('host-l2', ...), by index. */
  readonly classes: readonly string[];
  /** Clusters of each class in the whole file. */
  readonly counts: readonly number[];
  readonly px: number;
  readonly fractions: Float32Array;
}

/** qemu-img create / qemu-io / qemu-img snapshot / qemu-img commit / qemu-img bitmap, as plain data (worker/sandbox.ts). */
export type SandboxOp =
  | { readonly op: 'reset' }
  | {
      readonly op: 'create';
      readonly name: string;
      readonly format: 'qcow2' | 'raw';
      /** Defaults to the backing image's size. */
      readonly size?: number;
      readonly version?: 2 | 3;
      readonly clusterBits?: number;
      readonly extendedL2?: boolean;
      /** Name of an image already in the sandbox. */
      readonly backing?: string;
    }
  | {
      readonly op: 'write';
      readonly image: string;
      readonly offset: number;
      readonly length: number;
      readonly pattern: number;
    }
  | {
      readonly op: 'zero';
      readonly image: string;
      readonly offset: number;
      readonly length: number;
      readonly unmap?: boolean;
    }
  | { readonly op: 'discard'; readonly image: string; readonly offset: number; readonly length: number }
  | { readonly op: 'snapshot'; readonly image: string; readonly name: string }
  | { readonly op: 'commit'; readonly image: string }
  /** `qemu-img bitmap --ACTION IMAGE NAME`: one action on one persistent bitmap. */
  | ({ readonly op: 'bitmap'; readonly image: string; readonly name: string } & BitmapAction);

export interface SandboxImageInfo {
  readonly name: string;
  readonly format: 'qcow2' | 'raw';
  readonly size: number;
  readonly fileSize: number;
  readonly version?: number;
  readonly extendedL2?: boolean;
  readonly backing?: string;
}

export interface SandboxState {
  readonly images: readonly SandboxImageInfo[];
  /** Each applied operation as the command a person would type. */
  readonly log: readonly string[];
  /** The operation that failed (the ones after it were not applied). */
  readonly error?: ErrorInfo;
}
