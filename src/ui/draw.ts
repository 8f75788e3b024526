/**
 * Paints binned fractions onto the heatmap canvas. A cell shows its mix, not its majority:
 * large cells stack their fill classes as bands in proportion, small cells blend the colours.
 * Overlays: a bar along the bottom for "allocated in top", a corner mark for NBD holes, a
 * diagonal hatch for compressed clusters. With subclusters, a cluster cell is an 8x4 grid of
 * them (extended L2 allows no compressed clusters; overlays are left out there).
 */
import type { LayerToggles } from '../state/layers.ts';
import {
  BIN_ABSENT,
  BIN_COMPRESSED,
  BIN_DATA,
  BIN_DEPTH,
  BIN_ERROR,
  BIN_HOLE,
  BIN_TOP,
  BIN_ZERO,
} from '../worker/protocol.ts';
import type { Grid } from './grid.ts';
import { cellXY } from './grid.ts';
import { depthColour, hexToRgb, type Palette } from './palette.ts';

export interface DrawInput {
  readonly grid: Grid;
  readonly fractions: Float32Array;
  readonly classes: number;
  readonly layers: LayerToggles;
  readonly palette: Palette;
  /** Chain layers; depths run 0 (absent) .. layerCount. */
  readonly layerCount: number;
  readonly cursor: number;
  readonly selected: number;
}

type Segment = readonly [string, number];

/** The fill classes of one bin, in drawing order, as (colour, fraction). */
export function fillSegments(d: DrawInput, bin: number): Segment[] {
  const f = (c: number) => d.fractions[bin * d.classes + c] ?? 0;
  const p = d.palette;
  const L = d.layers;
  const out: Segment[] = [];
  if (L.depth) {
    for (let k = 1; k <= d.layerCount; k++) out.push([depthColour(p, k), f(BIN_DEPTH + k)]);
    if (L.absent) out.push([p.absent, f(BIN_DEPTH)]);
  } else {
    if (L.data) out.push([p.data, f(BIN_DATA)]);
    if (L.zero) out.push([p.zero, Math.max(0, f(BIN_ZERO) - f(BIN_ABSENT))]);
    if (L.absent) out.push([p.absent, f(BIN_ABSENT)]);
  }
  out.push([p.error, f(BIN_ERROR)]);
  return out.filter((s) => s[1] > 1e-6);
}

const rgbCache = new Map<string, [number, number, number]>();
const rgb = (hex: string) => {
  let c = rgbCache.get(hex);
  if (!c) {
    c = hexToRgb(hex);
    rgbCache.set(hex, c);
  }
  return c;
};

function blendRgb(segs: Segment[], empty: string): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  let total = 0;
  for (const [c, w] of segs) {
    const [cr, cg, cb] = rgb(c);
    r += cr * w;
    g += cg * w;
    b += cb * w;
    total += w;
  }
  const [er, eg, eb] = rgb(empty);
  const rest = Math.max(0, 1 - total);
  return [Math.round(r + er * rest), Math.round(g + eg * rest), Math.round(b + eb * rest)];
}

function blend(segs: Segment[], empty: string): string {
  const [r, g, b] = blendRgb(segs, empty);
  return `rgb(${r},${g},${b})`;
}

/**
 * Small cells (binned, zoomed out: tens of thousands of them) are written straight into an
 * ImageData in device pixels: one blended colour per cell, no per-cell canvas calls.
 */
function drawSmallCells(ctx: CanvasRenderingContext2D, d: DrawInput): void {
  const g = d.grid;
  const W = ctx.canvas.width;
  const H = ctx.canvas.height;
  const k = W / Math.max(1, g.width);
  const img = ctx.createImageData(W, H);
  const px = img.data;
  for (let i = 0; i < g.cells; i++) {
    const [x, y] = cellXY(g, i);
    const [r, gg, b] = blendRgb(visible(fillSegments(d, i), d.palette.absent), d.palette.empty);
    const x0 = Math.round(x * k);
    const x1 = Math.min(W, Math.round((x + g.cellPx) * k));
    const y1 = Math.min(H, Math.round((y + g.cellPx) * k));
    for (let yy = Math.round(y * k); yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) {
        const o = (yy * W + xx) * 4;
        px[o] = r;
        px[o + 1] = gg;
        px[o + 2] = b;
        px[o + 3] = 255;
      }
    }
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * A class present in a cell but covering a tiny share of it (64 KiB of data in a 166 GiB cell)
 * is drawn at VISIBLE_SHARE so it can be found; the neutral "absent" gives up the room. The
 * tooltip states the true fractions.
 */
const VISIBLE_SHARE = 0.3;

function visible(segs: Segment[], absent: string): Segment[] {
  let others = 0;
  const out = segs.map(([c, f]): [string, number] => {
    if (c === absent) return [c, f];
    const g = Math.max(f, VISIBLE_SHARE);
    others += g;
    return [c, g];
  });
  if (others <= 1) return out.map(([c, f]) => (c === absent ? [c, Math.min(f, 1 - others)] : [c, f]));
  return out.filter(([c]) => c !== absent).map(([c, f]) => [c, f / others]);
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
  const segs = visible(fillSegments(d, bin), d.palette.absent);
  if (h < 8) {
    ctx.fillStyle = blend(segs, d.palette.empty);
    ctx.fillRect(x, y, w, h);
    return;
  }
  ctx.fillStyle = d.palette.empty;
  ctx.fillRect(x, y, w, h);
  let acc = 0;
  for (const [c, frac] of segs) {
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
  const gap = g.cellPx >= 8 ? 1 : 0;
  const s = g.cellPx - gap;
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
