/**
 * What one heatmap cell shows: its fill classes in drawing order with their shares (a cell
 * shows its mix, not its majority), small shares raised so they can be found, and the blend
 * of them that small cells are painted with. Small cells run this tens of thousands of times
 * per frame, so the classes go through a reusable buffer and colours are packed integers: no
 * object is made per cell.
 */
import type { LayerToggles } from '../state/layers.ts';
import { BIN_ABSENT, BIN_DATA, BIN_DEPTH, BIN_ERROR, BIN_ZERO } from '../worker/protocol.ts';
import { depthColour, type Palette } from './palette.ts';

export interface CellInput {
  readonly fractions: Float32Array;
  readonly classes: number;
  readonly layers: LayerToggles;
  readonly palette: Palette;
  /** Chain layers; depths run 0 (absent) .. layerCount. */
  readonly layerCount: number;
}

export type Segment = readonly [string, number];

/** One cell's segments: colours (palette strings) and shares, `n` in use. */
export class SegmentBuffer {
  colours: string[] = [];
  shares: number[] = [];
  n = 0;

  push(colour: string, share: number): void {
    if (!(share > 1e-6)) return;
    this.colours[this.n] = colour;
    this.shares[this.n] = share;
    this.n++;
  }

  toArray(): Segment[] {
    const out: Segment[] = [];
    for (let i = 0; i < this.n; i++) out.push([this.colours[i]!, this.shares[i]!]);
    return out;
  }
}

/**
 * A class present in a cell but covering a tiny share of it (64 KiB of data in a 166 GiB cell)
 * is drawn at VISIBLE_SHARE so it can be found; the neutral "absent" gives up the room. The
 * tooltip states the true fractions.
 */
export const VISIBLE_SHARE = 0.3;

/** The fill classes of bin `bin` in drawing order, shares raised to be visible, into `buf`. */
export function cellSegments(d: CellInput, bin: number, buf: SegmentBuffer): SegmentBuffer {
  const base = bin * d.classes;
  const fr = d.fractions;
  const f = (c: number) => fr[base + c] ?? 0;
  const p = d.palette;
  const L = d.layers;
  buf.n = 0;
  if (L.depth) {
    for (let k = 1; k <= d.layerCount; k++) buf.push(depthColour(p, k), f(BIN_DEPTH + k));
    if (L.absent) buf.push(p.absent, f(BIN_DEPTH));
  } else {
    if (L.data) buf.push(p.data, f(BIN_DATA));
    if (L.zero) buf.push(p.zero, Math.max(0, f(BIN_ZERO) - f(BIN_ABSENT)));
    if (L.absent) buf.push(p.absent, f(BIN_ABSENT));
  }
  buf.push(p.error, f(BIN_ERROR));
  // Raise the shares of the non-neutral classes; absent shrinks to the rest, or goes.
  let others = 0;
  for (let i = 0; i < buf.n; i++) {
    if (buf.colours[i] === p.absent) continue;
    buf.shares[i] = Math.max(buf.shares[i]!, VISIBLE_SHARE);
    others += buf.shares[i]!;
  }
  if (others <= 1) {
    for (let i = 0; i < buf.n; i++)
      if (buf.colours[i] === p.absent) buf.shares[i] = Math.min(buf.shares[i]!, 1 - others);
    return buf;
  }
  let m = 0;
  for (let i = 0; i < buf.n; i++) {
    if (buf.colours[i] === p.absent) continue;
    buf.colours[m] = buf.colours[i]!;
    buf.shares[m] = buf.shares[i]! / others;
    m++;
  }
  buf.n = m;
  return buf;
}

const rgbCache = new Map<string, number>();
/** '#rrggbb' as 0xRRGGBB. */
export function rgbOf(hex: string): number {
  let c = rgbCache.get(hex);
  if (c === undefined) {
    c = Number.parseInt(hex.slice(1), 16);
    rgbCache.set(hex, c);
  }
  return c;
}

/** The segments blended over `empty` (for the share they leave), as 0xRRGGBB. */
export function blendSegments(buf: SegmentBuffer, empty: string): number {
  let r = 0;
  let g = 0;
  let b = 0;
  let total = 0;
  for (let i = 0; i < buf.n; i++) {
    const c = rgbOf(buf.colours[i]!);
    const w = buf.shares[i]!;
    r += ((c >> 16) & 255) * w;
    g += ((c >> 8) & 255) * w;
    b += (c & 255) * w;
    total += w;
  }
  const e = rgbOf(empty);
  const rest = Math.max(0, 1 - total);
  return (
    (Math.round(r + ((e >> 16) & 255) * rest) << 16) |
    (Math.round(g + ((e >> 8) & 255) * rest) << 8) |
    Math.round(b + (e & 255) * rest)
  );
}

export const cssRgb = (c: number): string => `rgb(${(c >> 16) & 255},${(c >> 8) & 255},${c & 255})`;
