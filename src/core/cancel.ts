/**
 * Cancelling long reads and scans. Core takes a structural subset of AbortSignal, so it needs
 * no DOM or Node types; the worker and the CLI pass their AbortController's signal.
 */
export interface Cancellation {
  readonly aborted: boolean;
}

/** Thrown by a scan or reader that saw its Cancellation aborted. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
}

/** Throws CancelledError when `signal` is aborted. */
export function throwIfCancelled(signal: Cancellation | undefined): void {
  if (signal?.aborted) throw new CancelledError('cancelled');
}
