/**
 * The one interface every source of a map answers through (ARCHITECTURE.md): an image chain
 * (imageSource.ts), a map without its image (mapSource.ts), a diff of two of them
 * (diffSource.ts). The handler knows nothing else about them. A view is a key (the view text
 * form of core/interpret/viewSource.ts: '' the chain as opened, 'backing-null', 'snapshot:NAME',
 * 'zero-scan'); sources without views answer only ''.
 */
import type { CatalogueEntry, NativeFormat } from '../core/interpret/catalogue.ts';
import type { Interpreted } from '../core/interpret/interpretation.ts';
import type { ViewSource } from '../core/interpret/viewSource.ts';
import type { LaneRuns } from '../core/raster/lanes.ts';
import type { LinkMap } from '../core/share/mapCodec.ts';
import type { ChainStatus } from '../core/status/resolve.ts';
import type { ExportFormat, ExportResult, Hit, RowsPage } from '../protocol/results.ts';
import type { ChainInfo, DiffInfo, SourceId, ViewInfo } from '../protocol/source.ts';
import type { RowsQuery } from './rows.ts';

/** What one side of a diff reads from a source: an interpretation's extents under a view. */
export interface SideData {
  readonly entry: CatalogueEntry;
  readonly view: ViewSource;
  readonly extents: Interpreted;
  /** The status behind the extents; a map without its image has none (values only, no why). */
  readonly status?: ChainStatus;
  readonly file: string;
  readonly length: number;
  readonly clusterSize: number;
  readonly extendedL2: boolean;
  readonly viewWords: string;
  readonly nativeFormats: readonly NativeFormat[];
}

export interface MapSource {
  readonly id: SourceId;
  info(): ChainInfo | DiffInfo;
  /** Builds (once) and describes a view; `progress` hears a content scan's bytes as it reads. */
  view(
    view: string,
    signal: AbortSignal,
    progress?: (phase: string, done: number, total: number) => void,
  ): Promise<ViewInfo>;
  /** `bitmap`: an image also bins that persistent bitmap's classes (others ignore it). */
  bins(
    view: string,
    start: number,
    end: number,
    n: number,
    signal: AbortSignal,
    bitmap?: string,
  ): Promise<Float32Array>;
  /** The source's lanes (names as info().lanes), rastered and hit-tested by the handler (core/raster/lanes.ts). */
  laneRuns(view: string, signal: AbortSignal): Promise<readonly (LaneRuns | undefined)[]>;
  hit(view: string, offset: number, signal: AbortSignal): Promise<Hit | null>;
  rows(view: string, q: RowsQuery, signal: AbortSignal): Promise<RowsPage>;
  export(view: string, format: ExportFormat, release: number, signal: AbortSignal): Promise<ExportResult>;
  /** The source's maps, for a link (core/share/mapCodec.ts encodeLinkMap). */
  share(signal: AbortSignal): Promise<LinkMap>;
  /** One interpretation under one view, for a diff side (absent: the source cannot be a side). */
  side?(
    interp: string,
    view: string,
    signal: AbortSignal,
    progress?: (phase: string, done: number, total: number) => void,
  ): Promise<SideData>;
  /** Sources this one reads (a diff's sides): it closes with them. */
  readonly reads?: readonly SourceId[];
}

/** A request a source cannot answer, in words (a typed refusal, not a bug). */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

/** Sources without views (a map, a diff) refuse any but the default. */
export function noViews(view: string, what: string): void {
  if (view !== '') throw new SourceError(`${what} has no views (asked for '${view}')`);
}

export const exportError = (format: string, what: string): ExportResult => ({
  text: '',
  error: `${what} cannot be exported as ${format}`,
});
