/**
 * The diff view's shareable state: which two interpretations (catalogue ids) under which views
 * (viewSource.ts text form) are compared. Both travel in the URL as `a=INTERP@VIEW&b=...`, the
 * CLI's `diff --a/--b` syntax, so a link and a command line name a comparison the same way.
 */
import { CATALOGUE_IDS } from '../core/interpret/catalogue.ts';
import { formatView, parseView } from '../core/interpret/viewSource.ts';

export interface DiffSideState {
  /** Catalogue id (core/interpret/catalogue.ts). */
  readonly interp: string;
  /** View text form, '' for the chain as opened. */
  readonly view: string;
}

export interface DiffSpec {
  readonly a: DiffSideState;
  readonly b: DiffSideState;
}

/** The June 2021 thread's question: qemu-nbd 5.2 against 6.0+, each layer alone. */
export const DEFAULT_DIFF: DiffSpec = {
  a: { interp: 'nbd-base-allocation-5.2', view: 'backing-null' },
  b: { interp: 'nbd-base-allocation-6.0', view: 'backing-null' },
};

/** `INTERP@VIEW`, or `INTERP` for the default view. */
export const formatSide = (s: DiffSideState): string => (s.view ? `${s.interp}@${s.view}` : s.interp);

/** Parses `INTERP[@VIEW]`; undefined for an unknown id or a malformed view. */
export function parseSide(text: string): DiffSideState | undefined {
  if (text.length > 300) return undefined;
  const at = text.indexOf('@');
  const interp = at < 0 ? text : text.slice(0, at);
  if (!CATALOGUE_IDS.includes(interp)) return undefined;
  try {
    return { interp, view: formatView(parseView(at < 0 ? '' : text.slice(at + 1))) };
  } catch {
    return undefined;
  }
}

/** Adds the diff's params to a hash being built. */
export function writeDiffParams(p: URLSearchParams, d: DiffSpec): void {
  p.set('a', formatSide(d.a));
  p.set('b', formatSide(d.b));
}

/** The diff named by a hash's `a` and `b`, if both are sound; problems in words otherwise. */
export function readDiffParams(p: URLSearchParams, problems: string[]): DiffSpec | undefined {
  const at = p.get('a');
  const bt = p.get('b');
  if (at === null && bt === null) return undefined;
  const a = at === null ? undefined : parseSide(at);
  const b = bt === null ? undefined : parseSide(bt);
  if (!a || !b) {
    problems.push(
      `The comparison in the link (a=${(at ?? '').slice(0, 60)}, b=${(bt ?? '').slice(0, 60)}) names an unknown interpretation or view; it was left out.`,
    );
    return undefined;
  }
  return { a, b };
}
