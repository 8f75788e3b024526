/**
 * The diff view's messages (issue 4), part of the worker protocol's unions (protocol.ts).
 * A `diff` request computes both sides and their diff in the worker and keeps it under the
 * request's id; later requests (bins, lanes, reasons, exports) name that `diffId`. A newer
 * `diff` supersedes the one in flight, and a newer `open` makes every diff stale.
 */
import type { NativeFormat } from '../core/interpret/catalogue.ts';
import type { PROTOCOL_VERSION } from './protocol.ts';

interface DiffMsg {
  readonly v: typeof PROTOCOL_VERSION;
  readonly id: number;
}

/** One side: a catalogue id and a view text form (viewSource.ts), '' for the chain as opened. */
export interface DiffSideSpec {
  readonly interp: string;
  readonly view: string;
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
  | (DiffMsg & { readonly type: 'diffExport'; readonly diffId: number; readonly format: DiffExportFormat });

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
    });

export const DIFF_REQUEST_TYPES: ReadonlySet<string> = new Set([
  'diff',
  'diffBins',
  'diffLanes',
  'diffReasons',
  'diffExport',
]);
