/** The guest-offset axis beside the grid: row starts in hex, with binary units. */
import { axisLeft, scaleLinear, select } from 'd3';
import { useEffect, useRef } from 'react';
import type { Grid } from '../core/raster/grid.ts';
import { offsetLabel } from './format.ts';

export const AXIS_WIDTH = 200;

export function OffsetAxis({ grid }: { grid: Grid }) {
  const ref = useRef<SVGGElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const rowBytes = grid.cols * grid.bytesPerCell;
    const y = scaleLinear()
      .domain([grid.start, grid.start + grid.rows * rowBytes])
      .range([0, grid.height]);
    // Ticks at row starts, at most one per ~28 px.
    const every = Math.max(1, Math.ceil(28 / grid.cellPx));
    const ticks: number[] = [];
    for (let r = 0; r < grid.rows; r += every) ticks.push(grid.start + r * rowBytes);
    select(ref.current)
      .call(
        axisLeft(y)
          .tickValues(ticks)
          .tickFormat((d) => offsetLabel(Number(d))),
      )
      .call((g) => g.selectAll('text').attr('dy', '0.9em'));
  }, [grid]);
  return (
    <svg className="axis" width={AXIS_WIDTH} height={grid.height + 4} aria-hidden="true">
      <g ref={ref} transform={`translate(${AXIS_WIDTH - 1},1)`} />
    </svg>
  );
}
