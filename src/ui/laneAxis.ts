/**
 * The guest-offset axis and drag-to-zoom brush under a set of lanes (Tracks, diff lanes): hex
 * ticks at multiples of a power of two, so labels stay round; a brushed range becomes the view;
 * a click without a drag picks the offset (and the lane) under the pointer.
 */
import { axisBottom, brushX, pointer, scaleLinear, select } from 'd3';
import { type RefObject, useEffect } from 'react';
import { hex } from '../core/format.ts';
import type { Store } from '../state/store.ts';

/** Most ticks one axis draws, however wide. */
const MAX_TICKS = 64;
/** Pixels per tick label (a hex offset is ~10 characters). */
const PX_PER_TICK = 120;

export function useLaneAxis(
  brushRef: RefObject<SVGGElement | null>,
  axisRef: RefObject<SVGGElement | null>,
  view: { readonly start: number; readonly end: number },
  px: number,
  height: number,
  store: Store,
  onClick?: (offset: number, y: number) => void,
): void {
  useEffect(() => {
    if (!brushRef.current || !axisRef.current || px <= 0) return;
    const x = scaleLinear().domain([view.start, view.end]).range([0, px]);
    const len = view.end - view.start;
    let step = 2 ** Math.ceil(Math.log2(len / Math.max(2, Math.floor(px / PX_PER_TICK))));
    if (!Number.isFinite(step) || step <= 0) step = len;
    const ticks: number[] = [];
    for (let t = Math.ceil(view.start / step) * step; t <= view.end && ticks.length < MAX_TICKS; t += step)
      ticks.push(t);
    select(axisRef.current).call(
      axisBottom(x)
        .tickValues(ticks)
        .tickFormat((d) => hex(Number(d))),
    );
    const g = select(brushRef.current);
    const b = brushX<unknown>()
      .extent([
        [0, 0],
        [px, height],
      ])
      .on('end', (ev: { selection: [number, number] | null; sourceEvent?: unknown }) => {
        if (!ev.sourceEvent) return;
        if (!ev.selection) {
          // A click: d3's brush ends with no selection.
          const [cx, cy] = pointer(ev.sourceEvent, brushRef.current);
          const at = Math.floor(x.invert(cx));
          if (onClick && at >= view.start && at < view.end) onClick(at, cy);
          return;
        }
        const [a, z] = ev.selection.map((v) => x.invert(v));
        g.call(b.move, null);
        if (z !== undefined && a !== undefined && z > a) store.getState().setView({ start: a, end: z });
      });
    g.call(b);
  }, [brushRef, axisRef, view.start, view.end, px, height, store, onClick]);
}
