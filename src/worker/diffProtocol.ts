/**
 * The diff view's messages (issue 4), part of the worker protocol's unions (protocol.ts).
 * A `diff` request computes both sides and their diff in the worker and keeps it under the
 * request's id; later requests (bins, lanes, reasons, exports) name that `diffId`. A newer
 * `diff` supersedes the one in flight, and a newer `open` makes every diff stale.
 *
 * Two different files: `diffOpen` opens a second image (with its backing files) beside the
 * page's and keeps it under the request's id; a side's `chain` names which one it reads.
 * `diffSnapshots` lists a chain's internal snapshots, the views `snapshot:NAME` can name.
 */
import type { NativeFormat } from '../core/interpret/catalogue.ts';
import type { ErrorInfo, PROTOCOL_VERSION } from './protocol.ts';

interface DiffMsg {
  readonly v: typeof PROTOCOL_VERSION;
  readonly id: number;
}

/** One side: a catalogue id and a view text form (viewSource.ts), '' for the chain as opened. */
export interface DiffSideSpec {
  readonly interp: string;
  readonly view: string;
  /** The chain the side reads: a `diffOpen` request's id; absent, the page's image (the diff's openId). */
  readonly chain?: number;
}

/** A second image opened for the diff view (`diffOpen`). */
export interface DiffChainInfo {
  /** Layer names, top first. */
  readonly files: readonly string[];
  /** Guest size (the top's virtual size) and the grid's cluster size (512 for a raw top). */
  readonly length: number;
  readonly clusterSize: number;
  /** fnv1a64 of the top's header and L1 table (mapFileIdentity.ts), as the permalink's `fp`. */
  readonly fingerprint: string;
  /** A backing file the top names that was not among the files: the chain stops above it. */
  readonly missingBacking?: { readonly name: string; readonly from: string };
  /** Files that could not be opened, or that the chain does not use. */
  readonly rejected: readonly ErrorInfo[];
  readonly unused: readonly string[];
  /** The walk stopped here (QEMU refuses to read on). */
  readonly error?: ErrorInfo;
}

export interface SnapshotName {
  readonly id: string;
  readonly name: string;
}

/** What a side turned out to be, for legends and lane labels. */
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
  readonly nativeFormats: readonly NativeFormat[];
  /** The chain the side read: a `diffOpen` id, absent for the page's image. */
  readonly chain?: number;
  /** Where QEMU would stop reading (the view's status ended at an error). */
  readonly error?: string;
}

export interface DiffKindSummary {
  readonly index: number;
  readonly id: string;
  readonly label: string;
  readonly labelA: string;
  readonly labelB: string;
  readonly bytes: number;
  readonly extents: number;
}

export interface DiffSummary {
  readonly a: DiffSideSummary;
  readonly b: DiffSideSummary;
  readonly kinds: readonly DiffKindSummary[];
  readonly lengthA: number;
  readonly lengthB: number;
  readonly overlap: number;
  readonly bytesDiffering: number;
  readonly bytesAgreeing: number;
  readonly clusterSize: number;
  /** A cell of one cluster can show 32 subclusters: equal cluster sizes, extended L2 on either top. */
  readonly subclusters: boolean;
  /** Differing extents (transferred): ascending, disjoint; `kind` indexes `kinds`. */
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly kind: Uint32Array;
}

/** Diff exports: the diff itself, or one side in its tool's text. */
export type DiffExportFormat = 'diff-json' | 'diff-csv' | `${'a' | 'b'}:${NativeFormat}`;

/** Lane values: LANE_NONE past the end; in the diff lane, LANE_AGREE or kind index. */
export const LANE_NONE = 255;
export const LANE_AGREE = 254;
/** In a side's lane: the index of its value in the side's legend, or LANE_OTHER. */
export const LANE_OTHER = 253;

export type DiffRequest =
  | (DiffMsg & {
      readonly type: 'diff';
      readonly openId: number;
      readonly a: DiffSideSpec;
      readonly b: DiffSideSpec;
    })
  | (DiffMsg & {
      readonly type: 'diffBins';
      readonly diffId: number;
      readonly start: number;
      readonly end: number;
      readonly bins: number;
    })
  | (DiffMsg & {
      readonly type: 'diffLanes';
      readonly diffId: number;
      readonly start: number;
      readonly end: number;
      readonly px: number;
    })
  | (DiffMsg & {
      readonly type: 'diffReasons';
      readonly diffId: number;
      readonly from: number;
      readonly to: number;
    })
  | (DiffMsg & { readonly type: 'diffExport'; readonly diffId: number; readonly format: DiffExportFormat })
  /** Opens a second image (top and backing files, matched by name as a drop is) under this id. */
  | (DiffMsg & { readonly type: 'diffOpen'; readonly files: readonly File[] })
  /** Internal snapshots of a chain's top: `chain` is an open id or a `diffOpen` id. */
  | (DiffMsg & { readonly type: 'diffSnapshots'; readonly chain: number });

export type DiffResponse =
  | (DiffMsg & { readonly type: 'diff'; readonly summary: DiffSummary })
  | (DiffMsg & {
      readonly type: 'diffBins';
      readonly start: number;
      readonly end: number;
      readonly bins: number;
      /** Classes per bin: 0 agree, 1 + k kind k. */
      readonly classes: number;
      /** bins x classes: fraction of the bin's bytes in each class. */
      readonly fractions: Float32Array;
    })
  | (DiffMsg & {
      readonly type: 'diffLanes';
      readonly start: number;
      readonly end: number;
      readonly px: number;
      /** 3 x px: lane A, lane B, the difference. */
      readonly values: Uint8Array;
    })
  | (DiffMsg & { readonly type: 'diffReasons'; readonly from: number; readonly reasons: readonly string[] })
  | (DiffMsg & {
      readonly type: 'diffExport';
      readonly format: DiffExportFormat;
      readonly text: string;
      readonly error?: string;
    })
  | (DiffMsg & { readonly type: 'diffOpen'; readonly chain: DiffChainInfo })
  | (DiffMsg & { readonly type: 'diffSnapshots'; readonly snapshots: readonly SnapshotName[] });

export const DIFF_REQUEST_TYPES: ReadonlySet<string> = new Set([
  'diff',
  'diffBins',
  'diffLanes',
  'diffReasons',
  'diffExport',
  'diffOpen',
  'diffSnapshots',
]);
