/**
 * Wheel and drag events arrive faster than frames (a drag sends a pointer move every few ms);
 * each applied at once re-rendered the page and asked the worker for new bins several times a
 * frame. The batcher folds the events of one frame into one zoom (factors multiply, about the
 * latest anchor) or one pan (bytes add up) and applies it at the next animation frame. A switch
 * between zooming and panning applies what is pending first, so the order of gestures holds.
 */
import type { Store } from '../state/store.ts';

export interface ViewBatch {
  zoom(factor: number, anchor: number): void;
  pan(bytes: number): void;
  /** Applies what is pending now (and cancels the frame it waited for). */
  flush(): void;
}

export function viewBatch(
  store: Store,
  frame: (cb: () => void) => number = requestAnimationFrame,
  cancel: (id: number) => void = cancelAnimationFrame,
): ViewBatch {
  let factor = 1;
  let anchor = 0;
  let bytes = 0;
  let pending: 'zoom' | 'pan' | undefined;
  let id: number | undefined;

  const flush = () => {
    if (id !== undefined) cancel(id);
    id = undefined;
    const kind = pending;
    pending = undefined;
    if (kind === 'zoom') store.getState().zoom(factor, anchor);
    else if (kind === 'pan') store.getState().pan(bytes);
    factor = 1;
    bytes = 0;
  };
  const schedule = (kind: 'zoom' | 'pan') => {
    if (pending && pending !== kind) flush();
    pending = kind;
    id ??= frame(() => {
      id = undefined;
      flush();
    });
  };
  return {
    zoom(f, a) {
      schedule('zoom');
      factor *= f;
      anchor = a;
    },
    pan(b) {
      schedule('pan');
      bytes += b;
    },
    flush,
  };
}
