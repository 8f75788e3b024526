/**
 * A diff as it leaves the app: JSON (versioned, as everything exported is; STYLE.md) and CSV
 * (RFC 4180), one row per differing extent, with the kind and, when the caller supplies the
 * sides, the reason in words.
 */
import type { Diff } from './diff.ts';

export const DIFF_FORMAT = 'clusterscope-diff';
/** Bump with an upgrader when the shape changes. */
export const DIFF_FORMAT_VERSION = 1;

/** What a side was: shown in exports so a diff file says what it compared. */
export interface DiffSideInfo {
  /** Catalogue id of the interpretation. */
  readonly interpretation: string;
  readonly title: string;
  /** View text form (viewSource.ts), '' for the default. */
  readonly view: string;
  readonly file: string;
}

export interface DiffExportOptions {
  readonly a?: DiffSideInfo;
  readonly b?: DiffSideInfo;
  /** The reason for extent i (reason.ts explainDifference); omitted when absent. */
  readonly reason?: (i: number) => string;
}

export interface DiffJson {
  readonly format: typeof DIFF_FORMAT;
  readonly version: typeof DIFF_FORMAT_VERSION;
  readonly a?: DiffSideInfo;
  readonly b?: DiffSideInfo;
  readonly lengthA: number;
  readonly lengthB: number;
  readonly overlap: number;
  readonly bytesDiffering: number;
  readonly bytesAgreeing: number;
  readonly kinds: readonly {
    id: string;
    label: string;
    a: number | null;
    b: number | null;
    labelA: string;
    labelB: string;
    bytes: number;
    extents: number;
  }[];
  readonly extents: readonly { start: number; length: number; kind: string; reason?: string }[];
}

export function diffToJson(d: Diff, opts: DiffExportOptions = {}): DiffJson {
  const extents: { start: number; length: number; kind: string; reason?: string }[] = [];
  for (let i = 0; i < d.count; i++) {
    extents.push({
      start: d.start[i]!,
      length: d.length[i]!,
      kind: d.kinds[d.kind[i]!]!.id,
      ...(opts.reason && { reason: opts.reason(i) }),
    });
  }
  return {
    format: DIFF_FORMAT,
    version: DIFF_FORMAT_VERSION,
    ...(opts.a && { a: opts.a }),
    ...(opts.b && { b: opts.b }),
    lengthA: d.lengthA,
    lengthB: d.lengthB,
    overlap: d.overlap,
    bytesDiffering: d.bytesDiffering,
    bytesAgreeing: d.bytesAgreeing,
    kinds: d.kinds.map((k) => ({
      id: k.id,
      label: k.label,
      a: k.valueA,
      b: k.valueB,
      labelA: k.labelA,
      labelB: k.labelB,
      bytes: k.bytes,
      extents: k.extents,
    })),
    extents,
  };
}

export const formatDiffJson = (d: Diff, opts: DiffExportOptions = {}): string =>
  `${JSON.stringify(diffToJson(d, opts), null, 1)}\n`;

const csvField = (s: string | number): string => {
  const t = String(s);
  return /[",\r\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
};

/** CSV with a header row; CRLF line ends as RFC 4180 asks. */
export function formatDiffCsv(d: Diff, opts: DiffExportOptions = {}): string {
  const head = ['start', 'end', 'length', 'kind', 'a', 'b', ...(opts.reason ? ['reason'] : [])];
  const rows = [head.join(',')];
  for (let i = 0; i < d.count; i++) {
    const k = d.kinds[d.kind[i]!]!;
    const s = d.start[i]!;
    const row: (string | number)[] = [s, s + d.length[i]!, d.length[i]!, k.id, k.labelA, k.labelB];
    if (opts.reason) row.push(opts.reason(i));
    rows.push(row.map(csvField).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}
