/** Engine errors and findings as plain data that survives postMessage (class identity does not). */
import type { PlainError, PlainFinding } from '../core/plainError.ts';

export interface ErrorInfo extends Omit<PlainError, 'kind'> {
  /** One of core's typed error kinds, 'internal' for a bug, 'worker' when the image reader itself stopped. */
  readonly kind: PlainError['kind'] | 'worker';
}

export type FindingInfo = PlainFinding;
