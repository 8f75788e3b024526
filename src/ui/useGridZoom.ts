/**
 * Wheel and drag over a heatmap grid zoom and pan the store's view range, through d3-zoom:
 * each event's change of k zooms about the guest offset under the pointer, a change of x/y
 * pans by whole cells (rows for y); the store clamps (state/view.ts zoomView / panView). One
 * hook for the map's heatmap and the diff heatmap.
 */
import { type D3ZoomEvent, pointer, select, zoom, zoomIdentity } from 'd3';
import { type RefObject, useEffect } from 'react';
import { cellAt, cellStart, type Grid } from '../core/raster/grid.ts';
import type { Store } from '../state/store.ts';
import { viewBatch } from './viewBatch.ts';

/** `mounted` re-attaches once the canvas exists (it mounts with the first chain or diff). */
export function useGridZoom(
  canvasRef: RefObject<HTMLCanvasElement | null>,
  gridRef: RefObject<Grid | undefined>,
  store: Store,
  mounted: boolean,
): void {
  // biome-ignore lint/correctness/useExhaustiveDependencies: attach once the canvas mounts
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    let prev = zoomIdentity;
    let carry = 0;
    // One view change per frame however many events arrive (viewBatch.ts).
    const batch = viewBatch(store);
    const z = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([1e-9, 1e9])
      .on('zoom', (ev: D3ZoomEvent<HTMLCanvasElement, unknown>) => {
        const g = gridRef.current;
        const t = ev.transform;
        if (!g) return;
        if (t.k !== prev.k) {
          const [px, py] = ev.sourceEvent ? pointer(ev.sourceEvent, canvas) : [g.width / 2, g.height / 2];
          const i = Math.max(0, cellAt(g, px, py));
          const within = ((px % g.cellPx) / g.cellPx) * g.bytesPerCell;
          batch.zoom(t.k / prev.k, cellStart(g, i) + within);
        } else {
          const cells = -((t.y - prev.y) / g.cellPx) * g.cols - (t.x - prev.x) / g.cellPx + carry;
          const whole = Math.trunc(cells);
          carry = cells - whole;
          if (whole) batch.pan(whole * g.bytesPerCell);
        }
        prev = t;
      });
    select(canvas).call(z).on('dblclick.zoom', null);
    return () => {
      batch.flush();
      select(canvas).on('.zoom', null);
    };
  }, [store, mounted]);
}
