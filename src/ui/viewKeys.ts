/**
 * The keys that move a heatmap's view: the same store actions the wheel and drag use (zoom about
 * an offset, pan, reset; state/view.ts clamps). + / = zoom in, - out (about `anchor`), arrows pan
 * by a cell or a row, Page Up / Page Down by a screen, Home to the start, 0 the whole image.
 * True when the key was one of them.
 */
import type { Grid } from '../core/raster/grid.ts';
import type { Store } from '../state/store.ts';

/** Zoom factor of one key press. */
export const KEY_ZOOM = 2;

export function viewKey(key: string, store: Store, g: Grid, anchor: number): boolean {
  const s = store.getState();
  const screen = s.view.end - s.view.start;
  switch (key) {
    case '+':
    case '=':
      s.zoom(KEY_ZOOM, anchor);
      return true;
    case '-':
      s.zoom(1 / KEY_ZOOM, anchor);
      return true;
    case 'ArrowLeft':
      s.pan(-g.bytesPerCell);
      return true;
    case 'ArrowRight':
      s.pan(g.bytesPerCell);
      return true;
    case 'ArrowUp':
      s.pan(-g.cols * g.bytesPerCell);
      return true;
    case 'ArrowDown':
      s.pan(g.cols * g.bytesPerCell);
      return true;
    case 'PageUp':
      s.pan(-screen);
      return true;
    case 'PageDown':
      s.pan(screen);
      return true;
    case 'Home':
      s.pan(-s.view.start);
      return true;
    case '0':
      s.resetView();
      return true;
    default:
      return false;
  }
}
