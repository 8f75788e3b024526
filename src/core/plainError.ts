/**
 * Typed engine errors and findings as plain data: what survives postMessage (class identity
 * does not) and what the page's own readers report the same way as the worker's.
 */
import { type ErrorKind, isClusterscopeError } from './errors.ts';
import type { Finding } from './findings.ts';

export interface PlainError {
  /** One of core's typed error kinds, 'internal' for a bug. */
  readonly kind: ErrorKind | 'internal';
  readonly name: string;
  readonly file: string;
  readonly structure: string;
  readonly offset?: number;
  readonly detail: string;
  /** The whole line: `file: structure at 0x..: detail`. */
  readonly message: string;
  /** What to do about it, when the engine knows (a file to drop as well). */
  readonly hint?: string;
}

export interface PlainFinding {
  readonly file: string;
  readonly structure: string;
  readonly offset?: number;
  readonly message: string;
}

/** `e` as plain data; anything not one of core's errors is 'internal', named for `file`. */
export function plainError(e: unknown, file = ''): PlainError {
  if (isClusterscopeError(e)) {
    return {
      kind: e.kind,
      name: e.name,
      file: e.file,
      structure: e.structure,
      ...(e.offset !== undefined && { offset: e.offset }),
      detail: e.detail,
      message: e.message,
      ...('hint' in e && typeof e.hint === 'string' && { hint: e.hint }),
    };
  }
  const detail = e instanceof Error ? e.message : String(e);
  return {
    kind: 'internal',
    name: e instanceof Error ? e.name : 'Error',
    file,
    structure: 'internal',
    detail,
    message: file ? `${file}: ${detail}` : detail,
  };
}

export const plainFinding = (f: Finding): PlainFinding => ({
  file: f.file,
  structure: f.structure,
  ...(f.offset !== undefined && { offset: f.offset }),
  message: f.message,
});
