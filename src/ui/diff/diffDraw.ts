/**
 * Paints the diff heatmap's bins (class 0 agree, 1 + k kind k) onto its canvas. A cell holding
 * any difference shows it, however small its share (VISIBLE_SHARE); large cells band the
 * kinds in proportion; a one-cluster cell with subclusters is an 8x4 grid of them in guest
 * order, as the map's (draw.ts). Small cells (zoomed out: tens of thousands) are written
 * straight into an ImageData, one colour per cell (the first difference, else agreement), as
 * the map's drawSmallCells does, rather than with a canvas call or two per cell.
 */

import { cellOfOffset, cellXY, type Grid } from '../../state/grid.ts';
import { rgbOf } from '../cellColour.ts';
import { putCells } from '../draw.ts';
import { type DiffPalette, kindColour } from './diffPalette.ts';

/** Least share of a cell a difference is drawn at, so one differing cluster in a huge cell shows. */
const VISIBLE_SHARE = 0.3;
/** Cells narrower than this (CSS px) are one colour each, written as pixels. */
const SMALL_CELL_PX = 8;
/** Outlined cells of the current difference at most (a screenful). */
const MAX_OUTLINED_CELLS = 4096;

export interface DiffDrawInput {
  readonly grid: Grid;
  readonly fractions: Float32Array;
  readonly classes: number;
  readonly palette: DiffPalette;
  /** The current difference's guest range, outlined. */
  readonly current: { readonly start: number; readonly end: number } | undefined;
}

/** (colour, share) bands of one bin: differences first (at least VISIBLE_SHARE), then agreement. */
export function bands(fr: Float32Array, classes: number, i: number, p: DiffPalette): [string, number][] {
  const out: [string, number][] = [];
  let diff = 0;
  for (let k = 1; k < classes; k++) {
    const f = fr[i * classes + k]!;
    if (f > 1e-9) {
      const s = Math.max(f, VISIBLE_SHARE);
      out.push([kindColour(p, k - 1), s]);
      diff += s;
    }
  }
  if (diff > 1) return out.map(([c, s]) => [c, s / diff]);
  const agree = fr[i * classes]!;
  if (agree > 1e-9) out.push([p.agree, Math.min(1 - diff, Math.max(agree, diff ? 0 : 1))]);
  return out;
}

/** The one colour of a small cell: its first difference, else agreement, else empty (past both ends). */
function cellColour(fr: Float32Array, classes: number, i: number, p: DiffPalette): string {
  for (let k = 1; k < classes; k++) if (fr[i * classes + k]! > 1e-9) return kindColour(p, k - 1);
  return fr[i * classes]! > 1e-9 ? p.agree : p.empty;
}

/** Small cells: one colour each, written as pixels (draw.ts putCells), as the map's are. */
function drawSmallCells(ctx: CanvasRenderingContext2D, d: DiffDrawInput): void {
  putCells(ctx, d.grid, (i) => rgbOf(cellColour(d.fractions, d.classes, i, d.palette)));
}

function drawCells(ctx: CanvasRenderingContext2D, d: DiffDrawInput, s: number): void {
  const g = d.grid;
  const box = (bin: number, x: number, y: number, w: number, h: number) => {
    const b = bands(d.fractions, d.classes, bin, d.palette);
    ctx.fillStyle = d.palette.empty;
    ctx.fillRect(x, y, w, h);
    if (!b.length) return;
    if (h < SMALL_CELL_PX) {
      ctx.fillStyle = b[0]![0];
      ctx.fillRect(x, y, w, h);
      return;
    }
    let acc = 0;
    for (const [col, share] of b) {
      const y0 = y + Math.round(acc * h);
      acc += share;
      const y1 = y + Math.round(Math.min(1, acc) * h);
      if (y1 > y0) {
        ctx.fillStyle = col;
        ctx.fillRect(x, y0, w, y1 - y0);
      }
    }
  };
  const sub = g.subPerCell;
  for (let i = 0; i < g.cells; i++) {
    const [x, y] = cellXY(g, i);
    if (sub === 1) {
      box(i, x, y, s, s);
      continue;
    }
    for (let k = 0; k < sub; k++) {
      const sx = Math.round(x + ((k % 8) * s) / 8);
      const sy = Math.round(y + (Math.floor(k / 8) * s) / 4);
      const ex = Math.round(x + (((k % 8) + 1) * s) / 8);
      const ey = Math.round(y + ((Math.floor(k / 8) + 1) * s) / 4);
      box(i * sub + k, sx, sy, ex - sx, ey - sy);
    }
  }
}

export function drawDiff(ctx: CanvasRenderingContext2D, d: DiffDrawInput): void {
  const g = d.grid;
  ctx.clearRect(0, 0, g.width, g.height);
  const gap = g.cellPx >= SMALL_CELL_PX ? 1 : 0;
  const s = g.cellPx - gap;
  if (g.subPerCell === 1 && g.cellPx < SMALL_CELL_PX) drawSmallCells(ctx, d);
  else drawCells(ctx, d, s);
  if (!d.current) return;
  // The current difference: an outline around each cell it touches.
  const first = Math.max(0, cellOfOffset(g, Math.max(g.start, d.current.start)));
  const last = Math.min(g.cells - 1, cellOfOffset(g, d.current.end - 1));
  const w = Math.max(2, Math.min(3, s / 6));
  ctx.strokeStyle = d.palette.outline;
  ctx.lineWidth = w;
  for (let i = first; i <= last && i - first < MAX_OUTLINED_CELLS; i++) {
    const [x, y] = cellXY(g, i);
    ctx.strokeRect(x + w / 2, y + w / 2, Math.max(1, s - w), Math.max(1, s - w));
  }
}
