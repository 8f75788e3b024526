/**
 * Cancelling long reads and scans. Core takes a structural subset of AbortSignal, so it needs
 * no DOM or Node types; the worker and the CLI pass their AbortController's signal.
 */
export interface Cancellation {
  readonly aborted: boolean;
  /**
   * Called at each cancellation point of a long scan (checkpoint()). A caller whose thread must
   * keep answering messages (the page's worker: the cancel it waits for is one) returns a
   * promise that lets its event loop turn, when a turn is due; undefined when not. Without it a
   * scan that never waits for a read (every L1 entry naming one L2 table, read once) runs to
   * its end without the thread seeing a message.
   */
  readonly pause?: () => Promise<void> | undefined;
}

/** Thrown by a scan or reader that saw its Cancellation aborted. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
}

/** Throws CancelledError when `signal` is aborted. */
export function throwIfCancelled(signal: Cancellation | undefined): void {
  if (signal?.aborted) throw new CancelledError('cancelled');
}

/**
 * A cancellation point that may also let the caller's event loop turn (Cancellation.pause):
 * throws CancelledError when aborted, before and after the pause.
 */
export async function checkpoint(signal: Cancellation | undefined): Promise<void> {
  throwIfCancelled(signal);
  const p = signal?.pause?.();
  if (p) {
    await p;
    throwIfCancelled(signal);
  }
}
