/**
 * The one painter: bins of any source onto a grid of cells (the map's heatmap, the diff's) or
 * onto lanes, by core/raster/mix.ts's one rule. Small cells and lane pixels are one colour each
 * (blendOf), written straight into an ImageData in device pixels, one row of cells at a time,
 * copied down: no per-cell canvas calls and no per-cell objects. Large cells stack their
 * classes as bands in proportion (mixOf), a cell with subclusters is an 8x4 grid of them in
 * guest order, and the map's overlays mark cells on top: a bar along the bottom for "allocated
 * in top", a corner for NBD holes, a hatch for compressed clusters, dots for zero (when the fill
 * is allocation depth, so depth and zero show together), a bar along the top for a persistent
 * bitmap's dirty bytes.
 */
import { cellGap, cellOfOffset, cellXY, type Grid } from '../core/raster/grid.ts';
import { blendOf, MIN_FRACTION, Mix, mixOf } from '../core/raster/mix.ts';
import { cssRgb, rgbOf } from './palette.ts';

/** How a source's bins look: the classes a cell shows, in order, and their colours. */
export interface Look {
  /** Fill classes in drawing order; a cell shows their mix. */
  readonly show: Int32Array;
  /** The class that gives way to the others (absent, agreement), or -1. */
  readonly neutral: number;
  /** 0xRRGGBB of each class, by index. */
  readonly rgb: Int32Array;
  /** The colour of a cell part no class covers. */
  readonly empty: string;
  /** A highlighted class (the legend's pick): bins without it fade toward `empty`. -1 or absent: none. */
  readonly focus?: number;
  /** The map's marks over the fill: class indices (-1: not shown) and colours. */
  readonly overlays?: {
    readonly top: number;
    readonly hole: number;
    readonly hatch: number;
    /** Zero under a depth fill: dots in the zero colour, ringed so they show on every hue. */
    readonly dots?: number;
    /** A bitmap's dirty bytes: a bar along the top, as long as their share. */
    readonly dirty?: number;
    readonly topColour: string;
    readonly holeColour: string;
    readonly hatchColour: string;
    readonly dotColour?: string;
    readonly dotRing?: string;
    readonly dirtyColour?: string;
  };
}

/** What is outlined: the selected and cursor cells, a range (the diff's current difference). */
export interface Marks {
  readonly selected: number;
  readonly cursor: number;
  readonly range?: { readonly start: number; readonly end: number };
  readonly selectionColour: string;
  readonly cursorColour: string;
  readonly backColour: string;
}

/**
 * How far a bin without the highlighted class fades toward the background: far enough that the
 * highlighted class stands out at a glance, not so far that the rest of the map is lost.
 */
export const FADE = 0.75;

/** True when bin `bin` lacks the look's focused class (and so fades). */
const faded = (fr: Float32Array, classes: number, bin: number, look: Look): boolean =>
  look.focus !== undefined && look.focus >= 0 && !((fr[bin * classes + look.focus] ?? 0) > MIN_FRACTION);

/** 0xRRGGBB `c` faded toward `to` by FADE. */
const fade = (c: number, to: number): number => {
  const ch = (sh: number) => Math.round(((c >> sh) & 255) * (1 - FADE) + ((to >> sh) & 255) * FADE) << sh;
  return ch(16) | ch(8) | ch(0);
};

/** The one colour of a bin as one pixel (small cells, lane pixels): its blend, faded when not highlighted. */
function binColour(fr: Float32Array, classes: number, bin: number, look: Look, empty: number): number {
  const c = blendOf(fr, classes, bin, look.show, look.neutral, look.rgb, empty);
  return faded(fr, classes, bin, look) ? fade(c, empty) : c;
}

/** Cells narrower than this (CSS px) are one colour each, written as pixels. */
export const SMALL_CELL_PX = 6;
/** Bands need this many pixels of height; a lower box is one colour. */
const BAND_MIN_PX = 8;
/** Outlined cells of a range at most (a screenful). */
const MAX_OUTLINED_CELLS = 4096;

/** ImageData kept per canvas between draws of the same size (a 1440 px map is 3 MiB a frame). */
const frames = new WeakMap<HTMLCanvasElement, ImageData>();
const mix = new Mix();

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** 0xRRGGBB as an opaque pixel of a Uint32Array over ImageData bytes (RGBA in memory). */
const pixel = (c: number): number =>
  LITTLE_ENDIAN
    ? (0xff000000 | ((c & 255) << 16) | (c & 0xff00) | ((c >> 16) & 255)) >>> 0
    : ((c << 8) | 0xff) >>> 0;

function frame(ctx: CanvasRenderingContext2D): { img: ImageData; px: Uint32Array } {
  const W = ctx.canvas.width;
  const H = ctx.canvas.height;
  let img = frames.get(ctx.canvas);
  if (!img || img.width !== W || img.height !== H) {
    img = ctx.createImageData(W, H);
    frames.set(ctx.canvas, img);
  }
  return { img, px: new Uint32Array(img.data.buffer, img.data.byteOffset, W * H) };
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

/** True when bins `a` and `b` hold the same fractions in every class. */
function sameBin(f: Float32Array, classes: number, a: number, b: number): boolean {
  for (let k = 0, x = a * classes, y = b * classes; k < classes; k++) if (f[x + k] !== f[y + k]) return false;
  return true;
}

/** Small cells: one colour each (blendOf), as pixels; neighbours with the same mix reuse the colour. */
function paintSmallCells(
  ctx: CanvasRenderingContext2D,
  g: Grid,
  fr: Float32Array,
  classes: number,
  look: Look,
) {
  const { img, px } = frame(ctx);
  const empty = rgbOf(look.empty);
  let c = 0;
  paintCells(px, img.width, img.height, g, (i) => {
    // Neighbouring cells often hold the same mix (a preallocated TiB is one mix): reuse the colour.
    if (i === 0 || !sameBin(fr, classes, i - 1, i)) c = pixel(binColour(fr, classes, i, look, empty));
    return c;
  });
  ctx.putImageData(img, 0, 0);
}

function fillBox(
  ctx: CanvasRenderingContext2D,
  fr: Float32Array,
  classes: number,
  look: Look,
  css: readonly string[],
  bin: number,
  x: number,
  y: number,
  w: number,
  h: number,
) {
  if (h < BAND_MIN_PX) {
    ctx.fillStyle = cssRgb(binColour(fr, classes, bin, look, rgbOf(look.empty)));
    ctx.fillRect(x, y, w, h);
    return;
  }
  ctx.fillStyle = look.empty;
  ctx.fillRect(x, y, w, h);
  mixOf(fr, classes, bin, look.show, look.neutral, mix);
  let acc = 0;
  for (let k = 0; k < mix.n; k++) {
    const y0 = y + Math.round(acc * h);
    acc += mix.share[k]!;
    const y1 = y + Math.round(Math.min(1, acc) * h);
    if (y1 > y0) {
      ctx.fillStyle = css[mix.cls[k]!]!;
      ctx.fillRect(x, y0, w, y1 - y0);
    }
  }
  if (faded(fr, classes, bin, look)) {
    ctx.globalAlpha = FADE;
    ctx.fillStyle = look.empty;
    ctx.fillRect(x, y, w, h);
    ctx.globalAlpha = 1;
  }
}

function overlays(
  ctx: CanvasRenderingContext2D,
  fr: Float32Array,
  classes: number,
  look: Look,
  bin: number,
  x: number,
  y: number,
  s: number,
) {
  const o = look.overlays;
  if (!o || s < 6 || faded(fr, classes, bin, look)) return;
  const f = (c: number) => (c < 0 ? 0 : (fr[bin * classes + c] ?? 0));
  if (f(o.hatch) > MIN_FRACTION) {
    ctx.globalAlpha = Math.max(0.35, f(o.hatch));
    ctx.strokeStyle = o.hatchColour;
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
  if (o.dots !== undefined && f(o.dots) > MIN_FRACTION) {
    // A 3x3 grid of dots, as many of them as the zero share (at least one): a cell that is
    // zero throughout is fully dotted, a cell with a little zero has one dot.
    const n = Math.max(1, Math.round(9 * f(o.dots)));
    const r = Math.max(1.2, s / 14);
    ctx.fillStyle = o.dotColour ?? o.hatchColour;
    ctx.strokeStyle = o.dotRing ?? o.hatchColour;
    ctx.lineWidth = Math.max(1, s / 90);
    ctx.beginPath();
    for (let k = 0; k < n; k++) {
      const cx = x + ((k % 3) + 0.5) * (s / 3);
      const cy = y + (Math.floor(k / 3) + 0.5) * (s / 3);
      ctx.moveTo(cx + r, cy);
      ctx.arc(cx, cy, r, 0, 2 * Math.PI);
    }
    ctx.fill();
    ctx.stroke();
  }
  if (f(o.hole) > MIN_FRACTION) {
    const t = Math.max(3, Math.floor(s / 3));
    ctx.globalAlpha = Math.max(0.35, f(o.hole));
    ctx.fillStyle = o.holeColour;
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(x + t, y);
    ctx.lineTo(x, y + t);
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  if (f(o.top) > MIN_FRACTION) {
    const h = Math.max(2, Math.floor(s / 8));
    ctx.fillStyle = o.topColour;
    ctx.fillRect(x, y + s - h, Math.max(1, Math.round(s * f(o.top))), h);
  }
  if (o.dirty !== undefined && f(o.dirty) > MIN_FRACTION) {
    // Thicker than the top bar, with a line of the hatch colour under it, so it shows on every fill.
    const h = Math.max(2, Math.floor(s / 5));
    const w = Math.max(1, Math.round(s * f(o.dirty)));
    ctx.fillStyle = o.hatchColour;
    ctx.fillRect(x, y + h, w, 1);
    ctx.fillStyle = o.dirtyColour ?? o.hatchColour;
    ctx.fillRect(x, y, w, h);
  }
}

/** Paints a grid of bins (g.cells x g.subPerCell of them) with its marks. */
export function paintGrid(
  ctx: CanvasRenderingContext2D,
  g: Grid,
  fr: Float32Array,
  classes: number,
  look: Look,
  marks: Marks,
): void {
  ctx.clearRect(0, 0, g.width, g.height);
  const s = g.cellPx - cellGap(g);
  if (g.subPerCell === 1 && g.cellPx < SMALL_CELL_PX) paintSmallCells(ctx, g, fr, classes, look);
  else {
    const css = Array.from(look.rgb, cssRgb);
    const sub = g.subPerCell;
    for (let i = 0; i < g.cells; i++) {
      const [x, y] = cellXY(g, i);
      if (sub === 1) {
        fillBox(ctx, fr, classes, look, css, i, x, y, s, s);
        overlays(ctx, fr, classes, look, i, x, y, s);
        continue;
      }
      // 32 subclusters as 8 columns x 4 rows, in guest order (extended L2 allows no compressed
      // clusters; overlays are left out there).
      for (let k = 0; k < sub; k++) {
        const sx = Math.round(x + ((k % 8) * s) / 8);
        const sy = Math.round(y + (Math.floor(k / 8) * s) / 4);
        const ex = Math.round(x + (((k % 8) + 1) * s) / 8);
        const ey = Math.round(y + ((Math.floor(k / 8) + 1) * s) / 4);
        fillBox(ctx, fr, classes, look, css, i * sub + k, sx, sy, ex - sx, ey - sy);
      }
    }
  }
  outline(ctx, g, s, marks);
}

/** The selection (thick, with an inner line so it shows on every fill), the cursor (dashed), a range. */
function outline(ctx: CanvasRenderingContext2D, g: Grid, s: number, m: Marks) {
  const box = (i: number, colour: string, w: number, dash: number[]) => {
    if (i < 0 || i >= g.cells) return;
    const [x, y] = cellXY(g, i);
    ctx.setLineDash(dash);
    ctx.strokeStyle = colour;
    ctx.lineWidth = w;
    ctx.strokeRect(x + w / 2, y + w / 2, Math.max(1, s - w), Math.max(1, s - w));
    ctx.setLineDash([]);
  };
  const w = Math.max(2, Math.min(3, s / 6));
  if (m.range) {
    const first = Math.max(0, cellOfOffset(g, Math.max(g.start, m.range.start)));
    const last = Math.min(g.cells - 1, cellOfOffset(g, m.range.end - 1));
    for (let i = first; i <= last && i - first < MAX_OUTLINED_CELLS; i++) box(i, m.selectionColour, w, []);
  }
  box(m.selected, m.selectionColour, w, []);
  if (s >= 10 && m.selected >= 0 && m.selected < g.cells) {
    const [x, y] = cellXY(g, m.selected);
    ctx.strokeStyle = m.backColour;
    ctx.lineWidth = 1;
    ctx.strokeRect(x + w + 0.5, y + w + 0.5, s - 2 * w - 1, s - 2 * w - 1);
  }
  box(m.cursor, m.cursorColour, Math.max(1, Math.min(2, s / 8)), [4, 3]);
}

/** Lane geometry: each lane LANE_H px tall, LANE_GAP between lanes. */
export const LANE_H = 14;
export const LANE_GAP = 6;
export const lanesHeight = (lanes: number) => lanes * (LANE_H + LANE_GAP);

/**
 * Paints lanes (`fractions`: lane, pixel column, class) into a canvas `px` CSS pixels wide: each
 * column of a lane one colour (blendOf), by the look of its lane.
 */
export function paintLanes(
  canvas: HTMLCanvasElement,
  fractions: Float32Array,
  lanes: number,
  px: number,
  classes: number,
  lookOf: (lane: number) => Look,
): void {
  const dpr = window.devicePixelRatio || 1;
  const W = Math.round(px * dpr);
  const H = Math.round(lanesHeight(lanes) * dpr);
  if (canvas.width !== W) canvas.width = W;
  if (canvas.height !== H) canvas.height = H;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { img, px: out } = frame(ctx);
  out.fill(0);
  for (let l = 0; l < lanes; l++) {
    const look = lookOf(l);
    const empty = rgbOf(look.empty);
    const y0 = Math.round(l * (LANE_H + LANE_GAP) * dpr);
    const y1 = Math.round((l * (LANE_H + LANE_GAP) + LANE_H) * dpr);
    const line = y0 * W;
    for (let p = 0; p < px; p++) {
      const c = pixel(binColour(fractions, classes, l * px + p, look, empty));
      const x1 = Math.min(W, Math.round((p + 1) * dpr));
      for (let x = Math.round(p * dpr); x < x1; x++) out[line + x] = c;
    }
    for (let y = y0 + 1; y < y1; y++) out.copyWithin(y * W, line, line + W);
  }
  ctx.putImageData(img, 0, 0);
}
