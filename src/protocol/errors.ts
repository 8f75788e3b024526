/** Engine errors and findings as plain data that survives postMessage (class identity does not). */
import type { ErrorKind } from '../core/errors.ts';

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
  /** What to do about it, when the engine knows (a file to drop as well). */
  readonly hint?: string;
}

export interface FindingInfo {
  readonly file: string;
  readonly structure: string;
  readonly offset?: number;
  readonly message: string;
}
