/**
 * A diff as it leaves the app: JSON (versioned, as everything exported is; STYLE.md) and CSV
 * (RFC 4180), one row per differing extent, with the kind and, when the caller supplies the
 * sides, the reason in words. Both say how the sides were compared (`compare`: by meaning or by
 * value, diff.ts), since the same two maps give different differences either way.
 */
import type { Diff, DiffFact, DiffMode, Indistinguishable, KindFact } from './diff.ts';

export const DIFF_FORMAT = 'clusterscope-diff';
/**
 * Bump with an upgrader when the shape changes. 2 added `compare`, `bytesNotCompared`, `facts`,
 * `indistinguishable` and each kind's `facts`; a version 1 file compared by value.
 */
export const DIFF_FORMAT_VERSION = 2;

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
  readonly compare: DiffMode;
  readonly a?: DiffSideInfo;
  readonly b?: DiffSideInfo;
  readonly lengthA: number;
  readonly lengthB: number;
  readonly overlap: number;
  readonly bytesDiffering: number;
  readonly bytesAgreeing: number;
  readonly bytesNotCompared: number;
  readonly facts: readonly DiffFact[];
  readonly indistinguishable: readonly Indistinguishable[];
  readonly kinds: readonly {
    id: string;
    label: string;
    a: number | null;
    b: number | null;
    labelA: string;
    labelB: string;
    facts: readonly KindFact[];
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
    compare: d.mode,
    ...(opts.a && { a: opts.a }),
    ...(opts.b && { b: opts.b }),
    lengthA: d.lengthA,
    lengthB: d.lengthB,
    overlap: d.overlap,
    bytesDiffering: d.bytesDiffering,
    bytesAgreeing: d.bytesAgreeing,
    bytesNotCompared: d.bytesNotCompared,
    facts: d.facts,
    indistinguishable: d.indistinguishable,
    kinds: d.kinds.map((k) => ({
      id: k.id,
      label: k.label,
      a: k.valueA,
      b: k.valueB,
      labelA: k.labelA,
      labelB: k.labelB,
      facts: k.facts,
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

/**
 * CSV with a header row; CRLF line ends as RFC 4180 asks. Every row says how it was compared
 * (`compare`: meaning or values) and, by meaning, which facts differ; by value the `facts`
 * column is empty.
 */
export function formatDiffCsv(d: Diff, opts: DiffExportOptions = {}): string {
  const head = [
    'start',
    'end',
    'length',
    'kind',
    'a',
    'b',
    'compare',
    'facts',
    ...(opts.reason ? ['reason'] : []),
  ];
  const rows = [head.join(',')];
  for (let i = 0; i < d.count; i++) {
    const k = d.kinds[d.kind[i]!]!;
    const s = d.start[i]!;
    const row: (string | number)[] = [
      s,
      s + d.length[i]!,
      d.length[i]!,
      k.id,
      k.labelA,
      k.labelB,
      d.mode,
      k.factsLabel,
    ];
    if (opts.reason) row.push(opts.reason(i));
    rows.push(row.map(csvField).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}
