/**
 * Everything that crosses the thread boundary (ARCHITECTURE.md): one typed map of calls, one
 * request and one reply envelope. The page's client (state/client.ts) has one `call()` over it;
 * the worker one handler (worker/handler.ts). Types only: nothing here runs.
 *
 * Channels: a request may name a channel ("bins:map", "open:main"); a newer request on the same
 * channel supersedes the older one, which the worker cancels for real (it stops before or while
 * computing) and answers with `cancelled`. `cancel` ends a channel's request without a new one.
 */
import type { DiffMode } from '../core/diff/diff.ts';
import type { ErrorInfo } from './errors.ts';
import type {
  Bins,
  ComparePlan,
  CompareResult,
  ExportFormat,
  ExportResult,
  GridBox,
  Hit,
  HostMapBins,
  ImageReport,
  LaneSpan,
  Lanes,
  RowsPage,
  SandboxOp,
  SandboxState,
  SnapshotName,
} from './results.ts';
import type {
  ChainInfo,
  DiffInfo,
  DiffSide,
  HostHoleInfo,
  ImageIdentity,
  SourceId,
  ViewInfo,
} from './source.ts';

export const PROTOCOL_VERSION = 2;

/** A map file or a link's map, opened without the image (core/import/mapFile.ts, core/share/mapCodec.ts). */
export type MapInput =
  | { readonly kind: 'file'; readonly file: File }
  | { readonly kind: 'text'; readonly name: string; readonly text: string }
  /** mapCodec text from a link's `map=`, or from a downloaded clusterscope map file (`fromFile`: its name). */
  | { readonly kind: 'link'; readonly payload: string; readonly fromFile?: string };

/** What an open reads. */
export type OpenFrom =
  | { readonly kind: 'files'; readonly files: readonly File[] }
  | {
      readonly kind: 'url';
      readonly url: string;
      /** Origins besides the image's own its backing files may be read from: the person allowed them. */
      readonly origins?: readonly string[];
    }
  | { readonly kind: 'sandbox'; readonly top: string }
  | {
      readonly kind: 'maps';
      readonly maps: readonly MapInput[];
      /** Chain file names a link names (top first), and the image it was made from. */
      readonly files: readonly string[];
      readonly image?: ImageIdentity;
    };

/**
 * The page holds one source per slot: its image (or map), the diff view's image B, the diff.
 * A source opened into a slot replaces the one there once it delivers (its first partial map,
 * or its end), so the old map stays on screen while the new one opens.
 */
export type Slot = 'main' | 'b' | 'diff';

/** The first bins of an open (the whole image, for the heatmap box the open named). */
export type FirstBins = Bins;

export interface Opened {
  readonly info: ChainInfo;
  readonly firstBins?: FirstBins;
}

/** Each call: what it is asked with, what it answers, and what it reports on the way. */
export interface Calls {
  open: { params: { slot: 'main' | 'b'; from: OpenFrom; grid?: GridBox }; result: Opened; partial: Opened };
  /** `mode`: compare the facts both sides state (default), or the tools' values as text diffs do. */
  diff: { params: { a: DiffSide; b: DiffSide; mode?: DiffMode }; result: DiffInfo; partial: never };
  close: { params: { source: SourceId }; result: null; partial: never };
  /** Builds (once) and describes a view; a zero-scan view reports the scan's progress as it reads. */
  view: { params: { source: SourceId; view: string }; result: ViewInfo; partial: never };
  /** Where host holes could change QEMU's answer, and what a content scan would read (images only). */
  hostHoles: { params: { source: SourceId; view: string }; result: HostHoleInfo; partial: never };
  /** `bitmap`: an image's bins also carry that persistent bitmap's classes (dirty, clean, backup-*). */
  bins: {
    params: { source: SourceId; view: string; start: number; end: number; n: number; bitmap?: string };
    result: Bins;
    partial: never;
  };
  lanes: {
    params: { source: SourceId; view: string; start: number; end: number; px: number };
    result: Lanes;
    partial: never;
  };
  hit: { params: { source: SourceId; view: string; offset: number }; result: Hit | null; partial: never };
  /** Per lane, the stretch of one class around `offset` (null where the lane has nothing there). */
  spans: {
    params: { source: SourceId; view: string; offset: number };
    result: readonly (LaneSpan | null)[];
    partial: never;
  };
  rows: {
    params: {
      source: SourceId;
      view: string;
      /** Rows within this guest range (clipped to it); absent: the whole source. */
      range?: { readonly start: number; readonly end: number };
      /** The page starts at this row index, or at the first row ending after guest offset `at`. */
      from?: number;
      at?: number;
      count: number;
    };
    result: RowsPage;
    partial: never;
  };
  export: {
    params: { source: SourceId; view: string; format: ExportFormat; release: number };
    result: ExportResult;
    partial: never;
  };
  /** The source's map in link form (core/share/mapCodec.ts); a diff's carries its A and B. */
  share: { params: { source: SourceId }; result: { payload: string }; partial: never };
  report: { params: { source: SourceId; check?: boolean }; result: ImageReport; partial: never };
  hostmap: { params: { source: SourceId; px: number }; result: readonly HostMapBins[]; partial: never };
  /** Internal snapshots to choose from: the first MAX_SNAPSHOT_CHOICES (worker/budgets.ts). */
  snapshots: { params: { source: SourceId }; result: readonly SnapshotName[]; partial: never };
  /**
   * A page of the image's internal snapshots as rows (ID, tag, date, sizes) from row `from`, or
   * from the snapshot `at` names (by tag, else by ID; an empty page when none has it).
   */
  snapshotRows: {
    params: { source: SourceId; from?: number; at?: string; count: number };
    result: RowsPage;
    partial: never;
  };
  sandbox: { params: { ops: readonly SandboxOp[] }; result: SandboxState; partial: never };
  /** What comparing the content of two images reads, before reading (no guest data is read). */
  comparePlan: { params: { a: SourceId; b: SourceId }; result: ComparePlan; partial: never };
  /** qemu-img compare of two images and every differing range; progress: guest bytes read of all to read. */
  compare: { params: { a: SourceId; b: SourceId }; result: CompareResult; partial: never };
  sandboxFile: { params: { name: string }; result: Uint8Array; partial: never };
  cancel: { params: { channel: string }; result: null; partial: never };
  /** Heartbeat: the worker answers at once, between the handler's awaits (the client's watchdog). */
  ping: { params: Record<string, never>; result: null; partial: never };
}

export type Method = keyof Calls;
export type Params<M extends Method> = Calls[M]['params'];
export type Result<M extends Method> = Calls[M]['result'];
export type PartialOf<M extends Method> = Calls[M]['partial'];

export interface Request<M extends Method = Method> {
  readonly v: typeof PROTOCOL_VERSION;
  readonly id: number;
  readonly method: M;
  readonly params: Params<M>;
  readonly channel?: string;
}

interface ReplyBase {
  readonly v: typeof PROTOCOL_VERSION;
  /** The request this answers. */
  readonly id: number;
}

export type Reply =
  | (ReplyBase & { readonly type: 'result'; readonly result: unknown })
  | (ReplyBase & { readonly type: 'partial'; readonly partial: unknown })
  | (ReplyBase & {
      readonly type: 'progress';
      readonly phase: string;
      readonly done: number;
      readonly total: number;
    })
  /** `files`: each file's error, when an open could use none of them. */
  | (ReplyBase & { readonly type: 'error'; readonly error: ErrorInfo; readonly files?: readonly ErrorInfo[] })
  | (ReplyBase & { readonly type: 'cancelled' });

export const isReply = (m: unknown): m is Reply =>
  typeof m === 'object' && m !== null && (m as { v?: unknown }).v === PROTOCOL_VERSION;
