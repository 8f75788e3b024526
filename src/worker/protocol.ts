/**
 * The typed, versioned message protocol between the UI thread and the worker
 * (ARCHITECTURE.md). Every message carries the protocol version `v` and a request id; replies
 * name the request they answer. A newer `open` supersedes the one in flight: the worker aborts
 * it and answers it with `cancelled`. Bulk results travel as transferable typed arrays, never as
 * arrays of objects.
 */
import type { ErrorKind } from '../core/errors.ts';
import type { DiffRequest, DiffResponse } from './diffProtocol.ts';
import type { ImageRequest, ImageResponse } from './imageProtocol.ts';
import type { MapOnlyInfo, MapRequest, MapResponse } from './mapFileProtocol.ts';
import type { SandboxOp, SandboxState } from './sandbox.ts';

export const PROTOCOL_VERSION = 1;

/** Class indices of a bin result: fraction of the bin's bytes in each class. */
export const BIN_DATA = 0;
/** Reads as zeroes (block status ZERO), whether or not some layer owns it. */
export const BIN_ZERO = 1;
/** Found in no layer of the chain (qemu-img map "present": false). */
export const BIN_ABSENT = 2;
/** Past the point where QEMU refuses to read (the walk stopped at a corrupt entry). */
export const BIN_ERROR = 3;
/** NBD_STATE_HOLE as qemu-nbd 6.0+ sets it (not DATA). */
export const BIN_HOLE = 4;
/** NBD_STATE_HOLE as qemu-nbd 5.2 and older set it (not ALLOCATED). */
export const BIN_HOLE_52 = 5;
/** Allocated in the top layer itself (qemu-img map depth 0 and present). */
export const BIN_TOP = 6;
export const BIN_COMPRESSED = 7;
/** qemu:allocation-depth d sits at BIN_DEPTH + d (0 = absent, 1 = top, ...). */
export const BIN_DEPTH = 8;
export const binClassCount = (layers: number): number => BIN_DEPTH + layers + 1;

/** Track lane categories, one byte per pixel column. */
export const TRACK_ABSENT = 0;
export const TRACK_DATA = 1;
export const TRACK_ZERO = 2;
export const TRACK_COMPRESSED = 3;
export const TRACK_ERROR = 4;
export const TRACK_HOLE = 5;
/** Allocation depth d sits at TRACK_DEPTH + d. */
export const TRACK_DEPTH = 8;
/** Nothing there: past the end of the lane's layer or of the image. */
export const TRACK_NONE = 255;

export interface ErrorInfo {
  /** One of core's typed error kinds, 'internal' for a bug, 'worker' when the image reader itself stopped. */
  readonly kind: ErrorKind | 'internal' | 'worker';
  readonly name: string;
  readonly file: string;
  readonly structure: string;
  readonly offset?: number;
  readonly detail: string;
  /** The whole line: `file: structure at 0x..: detail`. */
  readonly message: string;
}

export interface FindingInfo {
  readonly file: string;
  readonly structure: string;
  readonly offset?: number;
  readonly message: string;
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
  readonly snapshots?: number;
  readonly encrypted?: boolean;
}

/** Resolved chain status as struct-of-arrays (core/status/extents.ts), without `kind`. */
export interface ExtentArrays {
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly kind: Uint8Array;
  readonly flags: Uint8Array;
  readonly layer: Uint16Array;
  readonly host: Float64Array;
}

export interface ChainInfo {
  /** Top first. */
  readonly layers: readonly LayerInfo[];
  /** Guest size (the top's virtual size). */
  readonly length: number;
  /** Cluster size used for the grid: the top's (512 for a raw top). */
  readonly clusterSize: number;
  /** A backing file the chain names but that was not dropped: the map stops above it. */
  readonly missingBacking?: { readonly name: string; readonly from: string };
  /** The walk stopped here: bytes from `errorAt` on are not mapped. */
  readonly error?: ErrorInfo;
  readonly errorAt?: number;
  readonly findings: readonly FindingInfo[];
  /** Files that were dropped but could not be opened, or that the chain does not use. */
  readonly rejected: readonly ErrorInfo[];
  readonly unused: readonly string[];
  readonly extents: ExtentArrays;
  /** fnv1a64 of the top image's header and L1 table (mapFileIdentity.ts), for permalinks. */
  readonly fingerprint?: string;
  /** Set when the map came from a map file or a link, with no image behind it. */
  readonly mapOnly?: MapOnlyInfo;
  /**
   * Bins of the whole image for the heatmap box the open named (state/grid.ts layoutGrid over
   * [0, length)), so the first cells need no request of their own.
   */
  readonly firstBins?: {
    readonly start: number;
    readonly end: number;
    readonly bins: number;
    readonly classes: number;
    readonly fractions: Float32Array;
  };
}

/** The size of the heatmap's drawing area (state/grid.ts GridInput width and maxHeight). */
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

/** One layer's L2 entry for the hit cluster (qcow2 layers only). */
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
  readonly refcount?: number;
}

export interface HitDetail {
  readonly offset: number;
  readonly clusterStart: number;
  readonly clusterEnd: number;
  readonly clusterIndex: number;
  readonly subclusterIndex?: number;
  readonly layer: number;
  readonly layerName: string;
  readonly kind: string;
  readonly flags: string;
  readonly hostOffset: number;
  readonly entries: readonly L2EntryInfo[];
  readonly values: readonly InterpretationValue[];
  readonly summary: string;
}

/** Whole-image map exports, byte for byte as the tools print them. */
export type ExportFormat = 'qemu-img-map-json' | 'nbdinfo-map';

interface Msg {
  readonly v: typeof PROTOCOL_VERSION;
  readonly id: number;
}

export type Request =
  | (Msg & {
      readonly type: 'open';
      readonly files: readonly File[];
      /** Open something other than the files: the sandbox's images or a remote URL (sandbox.ts, remoteSource.ts). */
      readonly source?: OpenSource;
      /** The heatmap's box: the worker bins the whole image for it with each map it posts (ChainInfo.firstBins). */
      readonly grid?: GridBox;
    })
  | (Msg & { readonly type: 'sandbox'; readonly ops: readonly SandboxOp[] })
  | (Msg & { readonly type: 'sandboxFile'; readonly name: string })
  | (Msg & {
      readonly type: 'bins';
      readonly openId: number;
      readonly start: number;
      readonly end: number;
      readonly bins: number;
    })
  | (Msg & { readonly type: 'hit'; readonly openId: number; readonly offset: number })
  | (Msg & {
      readonly type: 'export';
      readonly openId: number;
      readonly format: ExportFormat;
      /** QEMU release whose output to reproduce, as major * 1000 + minor (7.2 -> 7002). */
      readonly release: number;
    })
  | (Msg & {
      readonly type: 'tracks';
      readonly openId: number;
      readonly start: number;
      readonly end: number;
      readonly px: number;
    })
  | (Msg & { readonly type: 'cancel'; readonly target: number })
  /** Heartbeat: worker.ts answers `pong` at once, between the handler's awaits (client.ts watchdog). */
  | (Msg & { readonly type: 'ping' })
  | DiffRequest
  | ImageRequest
  | MapRequest;

export type Response =
  | (Msg & {
      readonly type: 'progress';
      readonly phase: string;
      readonly done: number;
      readonly total: number;
    })
  | (Msg & { readonly type: 'opened'; readonly chain: ChainInfo })
  /** A first part of the map while the open goes on: extents cover [0, end); bins and hits work on it. */
  | (Msg & { readonly type: 'partial'; readonly chain: ChainInfo; readonly end: number })
  | (Msg & {
      readonly type: 'bins';
      readonly start: number;
      readonly end: number;
      readonly bins: number;
      readonly classes: number;
      /** bins x classes, row-major: fraction of bin i's bytes in class c at i * classes + c. */
      readonly fractions: Float32Array;
    })
  | (Msg & { readonly type: 'hit'; readonly detail: HitDetail | undefined })
  | (Msg & {
      readonly type: 'tracks';
      readonly start: number;
      readonly end: number;
      readonly px: number;
      /** Lanes x px categories: the chain's layers top first, then qemu-img map, NBD base:allocation, depth. */
      readonly lanes: number;
      readonly values: Uint8Array;
    })
  | (Msg & { readonly type: 'export'; readonly format: ExportFormat; readonly text: string })
  | (Msg & { readonly type: 'error'; readonly error: ErrorInfo; readonly files?: readonly ErrorInfo[] })
  | (Msg & { readonly type: 'sandbox'; readonly state: SandboxState; readonly error?: ErrorInfo })
  | (Msg & { readonly type: 'sandboxFile'; readonly name: string; readonly bytes: Uint8Array })
  | (Msg & { readonly type: 'cancelled' })
  | (Msg & { readonly type: 'pong' })
  | DiffResponse
  | ImageResponse
  | MapResponse;

/** Where an `open` without files reads from. */
export type OpenSource =
  | { readonly kind: 'sandbox'; readonly top: string }
  | { readonly kind: 'url'; readonly url: string };

export const isResponse = (m: unknown): m is Response =>
  typeof m === 'object' && m !== null && (m as { v?: unknown }).v === PROTOCOL_VERSION;
