/**
 * Paints binned fractions onto the heatmap canvas. A cell shows its mix, not its majority:
 * large cells stack their fill classes as bands in proportion, small cells blend the colours.
 * Overlays: a bar along the bottom for "allocated in top", a corner mark for NBD holes, a
 * diagonal hatch for compressed clusters. With subclusters, a cluster cell is an 8x4 grid of
 * them (extended L2 allows no compressed clusters; overlays are left out there).
 */

import type { Grid } from '../state/grid.ts';
import { cellGap, cellXY } from '../state/grid.ts';
import { BIN_COMPRESSED, BIN_HOLE, BIN_TOP } from '../worker/protocol.ts';
import { blendSegments, type CellInput, cellSegments, cssRgb, SegmentBuffer } from './cellColour.ts';

export interface DrawInput extends CellInput {
  readonly grid: Grid;
  readonly cursor: number;
  readonly selected: number;
}

/** One buffer for every cell of every draw: the UI thread draws one heatmap at a time. */
const segs = new SegmentBuffer();

/** ImageData kept per canvas between draws of the same size (a 1440 px map is 3 MiB a frame). */
const frames = new WeakMap<HTMLCanvasElement, ImageData>();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** 0xRRGGBB as an opaque pixel of a Uint32Array over ImageData bytes (RGBA in memory). */
const pixel = (c: number): number =>
  LITTLE_ENDIAN
    ? (0xff000000 | ((c & 255) << 16) | (c & 0xff00) | ((c >> 16) & 255)) >>> 0
    : ((c << 8) | 0xff) >>> 0;

/** True when bins `a` and `b` hold the same fractions in every class. */
function sameBin(f: Float32Array, classes: number, a: number, b: number): boolean {
  for (let k = 0, x = a * classes, y = b * classes; k < classes; k++) if (f[x + k] !== f[y + k]) return false;
  return true;
}

/**
 * Small cells (binned, zoomed out: tens of thousands of them) are written straight into an
 * ImageData in device pixels: one blended colour per cell, no per-cell canvas calls and no
 * per-cell objects.
 */
function drawSmallCells(ctx: CanvasRenderingContext2D, d: DrawInput): void {
  const empty = d.palette.empty;
  const fr = d.fractions;
  const nc = d.classes;
  let c = 0;
  putCells(ctx, d.grid, (i) => {
    // Neighbouring cells often hold the same mix (a preallocated TiB is one mix): reuse the colour.
    if (i === 0 || !sameBin(fr, nc, i - 1, i)) c = blendSegments(cellSegments(d, i, segs), empty);
    return c;
  });
}

/**
 * One colour (0xRRGGBB) per grid cell, written as pixels into an ImageData kept per canvas and
 * put on the canvas in one call: the small cells of the map and of the diff heatmap.
 */
export function putCells(ctx: CanvasRenderingContext2D, g: Grid, rgbOf: (cell: number) => number): void {
  const W = ctx.canvas.width;
  const H = ctx.canvas.height;
  let img = frames.get(ctx.canvas);
  if (!img || img.width !== W || img.height !== H) {
    img = ctx.createImageData(W, H);
    frames.set(ctx.canvas, img);
  }
  const px = new Uint32Array(img.data.buffer, img.data.byteOffset, W * H);
  let last = -1;
  let p = 0;
  paintCells(px, W, H, g, (i) => {
    const c = rgbOf(i);
    if (c !== last) {
      last = c;
      p = pixel(c);
    }
    return p;
  });
  ctx.putImageData(img, 0, 0);
}

/**
 * Fills `px` (W x H device pixels, row-major) with one pixel value per grid cell, asked for in
 * cell order; pixels outside the cells are 0 (transparent). Each row of cells is written once
 * as one pixel row, then copied down over the rest of the cells' height.
 */
export function paintCells(
  px: Uint32Array,
  W: number,
  H: number,
  g: Grid,
  colourOf: (cell: number) => number,
): void {
  px.fill(0);
  const k = W / Math.max(1, g.width);
  for (let row = 0; row * g.cols < g.cells; row++) {
    const y0 = Math.round(row * g.cellPx * k);
    const y1 = Math.min(H, Math.round((row + 1) * g.cellPx * k));
    const first = row * g.cols;
    const last = Math.min(g.cells, first + g.cols);
    if (y1 <= y0) continue;
    const line = y0 * W;
    for (let i = first; i < last; i++) {
      const c = colourOf(i);
      const x1 = Math.min(W, Math.round((i - first + 1) * g.cellPx * k));
      for (let x = Math.round((i - first) * g.cellPx * k); x < x1; x++) px[line + x] = c;
    }
    for (let y = y0 + 1; y < y1; y++) px.copyWithin(y * W, line, line + W);
  }
}

function fillBox(
  ctx: CanvasRenderingContext2D,
  d: DrawInput,
  bin: number,
  x: number,
  y: number,
  w: number,
  h: number,
) {
  cellSegments(d, bin, segs);
  if (h < 8) {
    ctx.fillStyle = cssRgb(blendSegments(segs, d.palette.empty));
    ctx.fillRect(x, y, w, h);
    return;
  }
  ctx.fillStyle = d.palette.empty;
  ctx.fillRect(x, y, w, h);
  let acc = 0;
  for (const [c, frac] of segs.toArray()) {
    const y0 = y + Math.round(acc * h);
    acc += frac;
    const y1 = y + Math.round(Math.min(1, acc) * h);
    if (y1 > y0) {
      ctx.fillStyle = c;
      ctx.fillRect(x, y0, w, y1 - y0);
    }
  }
}

function overlays(ctx: CanvasRenderingContext2D, d: DrawInput, bin: number, x: number, y: number, s: number) {
  const f = (c: number) => d.fractions[bin * d.classes + c] ?? 0;
  const p = d.palette;
  if (s < 6) return;
  if (d.layers.compressed && f(BIN_COMPRESSED) > 0) {
    ctx.globalAlpha = Math.max(0.35, f(BIN_COMPRESSED));
    ctx.strokeStyle = p.hatch;
    ctx.lineWidth = Math.max(1, s / 24);
    ctx.beginPath();
    for (const k of [0.25, 0.5, 0.75]) {
      ctx.moveTo(x, y + s * k);
      ctx.lineTo(x + s * k, y);
      ctx.moveTo(x + s * k, y + s);
      ctx.lineTo(x + s, y + s * k);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
  }
  if (d.layers.hole && f(BIN_HOLE) > 0) {
    const t = Math.max(3, Math.floor(s / 3));
    ctx.globalAlpha = Math.max(0.35, f(BIN_HOLE));
    ctx.fillStyle = p.hole;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + t, y);
    ctx.lineTo(x, y + t);
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  if (d.layers.top && f(BIN_TOP) > 0) {
    const h = Math.max(2, Math.floor(s / 8));
    ctx.fillStyle = p.top;
    ctx.fillRect(x, y + s - h, Math.max(1, Math.round(s * f(BIN_TOP))), h);
  }
}

function drawCells(ctx: CanvasRenderingContext2D, d: DrawInput, s: number): void {
  const g = d.grid;
  const sub = g.subPerCell;
  for (let i = 0; i < g.cells; i++) {
    const [x, y] = cellXY(g, i);
    if (sub === 1) {
      fillBox(ctx, d, i, x, y, s, s);
      overlays(ctx, d, i, x, y, s);
      continue;
    }
    // 32 subclusters as 8 columns x 4 rows, in guest order.
    const sw = s / 8;
    const sh = s / 4;
    for (let k = 0; k < sub; k++) {
      const sx = Math.round(x + (k % 8) * sw);
      const sy = Math.round(y + Math.floor(k / 8) * sh);
      const ex = Math.round(x + ((k % 8) + 1) * sw);
      const ey = Math.round(y + (Math.floor(k / 8) + 1) * sh);
      fillBox(ctx, d, i * sub + k, sx, sy, ex - sx, ey - sy);
    }
  }
}

export function drawHeatmap(ctx: CanvasRenderingContext2D, d: DrawInput): void {
  const g = d.grid;
  ctx.clearRect(0, 0, g.width, g.height);
  const s = g.cellPx - cellGap(g);
  if (g.subPerCell === 1 && g.cellPx < 6) drawSmallCells(ctx, d);
  else drawCells(ctx, d, s);
  // Selection: a thick outline in the text colour with an inner line in the background colour,
  // visible on every fill. Cursor: a dashed outline.
  const outline = (i: number, colour: string, w: number, dash: number[]) => {
    if (i < 0 || i >= g.cells) return;
    const [x, y] = cellXY(g, i);
    ctx.setLineDash(dash);
    ctx.strokeStyle = colour;
    ctx.lineWidth = w;
    ctx.strokeRect(x + w / 2, y + w / 2, Math.max(1, s - w), Math.max(1, s - w));
    ctx.setLineDash([]);
  };
  const w = Math.max(2, Math.min(3, s / 6));
  outline(d.selected, d.palette.selection, w, []);
  if (s >= 10) {
    const [x, y] = d.selected >= 0 && d.selected < g.cells ? cellXY(g, d.selected) : [-1, -1];
    if (x >= 0) {
      ctx.strokeStyle = d.palette.empty;
      ctx.lineWidth = 1;
      ctx.strokeRect(x + w + 0.5, y + w + 0.5, s - 2 * w - 1, s - 2 * w - 1);
    }
  }
  outline(d.cursor, d.palette.cursor, Math.max(1, Math.min(2, s / 8)), [4, 3]);
}
