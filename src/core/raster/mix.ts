/**
 * What one cell or pixel of any view shows, from its bin's class fractions (bins.ts). One rule
 * for the heatmap, the lanes, the diff and the host map: what is there is shown however small
 * its share, and the neutral class (absent on the map, agreement in a diff) gives way to it.
 *  - A cell large enough for bands (mixOf) shows the classes in view in drawing order, each with
 *    its share, a class present but small raised to VISIBLE_SHARE so it can be found, the neutral
 *    class taking what room is left.
 *  - A cell or pixel too small for bands (blendOf) is one colour: the classes other than the
 *    neutral one, blended by their shares, a small share weighing VISIBLE_SHARE as in a band;
 *    the neutral colour only where nothing else is. So a lane pixel with 1% data is
 *    data-coloured, not the neutral grey; 0.05% data among NBD holes still tints the hole
 *    colour; and one differing cluster in a 1 TiB cell colours its cell.
 * Labels state the true fractions. Runs tens of thousands of times per frame: no objects.
 */

/**
 * A class present in a bin but covering a tiny share of it (64 KiB of data in a 166 GiB cell) is
 * drawn at this share of the pixel, so it can be found.
 */
export const VISIBLE_SHARE = 0.3;
/** Fractions below this are float noise from the bin arithmetic, not bytes. */
export const MIN_FRACTION = 1e-6;

export class Mix {
  /** Class indices and shares, `n` in use, in drawing order. */
  cls = new Int32Array(16);
  share = new Float64Array(16);
  n = 0;

  push(c: number, s: number): void {
    if (this.n === this.cls.length) {
      const cls = new Int32Array(this.n * 2);
      const share = new Float64Array(this.n * 2);
      cls.set(this.cls);
      share.set(this.share);
      this.cls = cls;
      this.share = share;
    }
    this.cls[this.n] = c;
    this.share[this.n] = s;
    this.n++;
  }
}

/**
 * The mix of bin `bin`: classes `show` in order (those with a share), small shares raised to
 * VISIBLE_SHARE; `neutral` (a class index, or -1) is shown last with what room is left, and
 * dropped when the others need it all. Shares sum to at most 1; the rest is empty.
 */
export function mixOf(
  fr: Float32Array,
  classes: number,
  bin: number,
  show: ArrayLike<number>,
  neutral: number,
  out: Mix,
): Mix {
  const base = bin * classes;
  out.n = 0;
  let others = 0;
  for (let k = 0; k < show.length; k++) {
    const c = show[k]!;
    if (c === neutral) continue;
    const f = fr[base + c]!;
    if (f > MIN_FRACTION) {
      const s = Math.min(1, Math.max(f, VISIBLE_SHARE));
      out.push(c, s);
      others += s;
    }
  }
  if (others > 1) {
    for (let i = 0; i < out.n; i++) out.share[i]! /= others;
    return out;
  }
  if (neutral >= 0) {
    const f = fr[base + neutral]!;
    if (f > MIN_FRACTION) out.push(neutral, Math.min(f, 1 - others));
  }
  return out;
}

/**
 * The one colour (0xRRGGBB) of bin `bin` when it is too small for bands: the classes of `show`
 * other than `neutral` blended by their fractions over the share of the bin they cover together
 * with the neutral class; the neutral colour alone when nothing else is there; `empty` for the
 * share no class covers (past the end of the image, or a hidden class).
 */
export function blendOf(
  fr: Float32Array,
  classes: number,
  bin: number,
  show: ArrayLike<number>,
  neutral: number,
  rgb: ArrayLike<number>,
  empty: number,
): number {
  const base = bin * classes;
  let cover = 0;
  let other = 0;
  let r = 0;
  let g = 0;
  let b = 0;
  for (let k = 0; k < show.length; k++) {
    const c = show[k]!;
    const f = fr[base + c]!;
    if (!(f > MIN_FRACTION)) continue;
    cover += f;
    if (c === neutral) continue;
    const x = rgb[c]!;
    // As in mixOf: a class present is weighed at least VISIBLE_SHARE, so it shows in the blend.
    const w = Math.max(f, VISIBLE_SHARE);
    r += ((x >> 16) & 255) * w;
    g += ((x >> 8) & 255) * w;
    b += (x & 255) * w;
    other += w;
  }
  cover = Math.min(1, cover);
  if (other > 0) {
    const k = cover / other;
    r *= k;
    g *= k;
    b *= k;
  } else if (cover > 0) {
    const x = rgb[neutral]!;
    r = ((x >> 16) & 255) * cover;
    g = ((x >> 8) & 255) * cover;
    b = (x & 255) * cover;
  }
  const rest = 1 - cover;
  return (
    (Math.round(r + ((empty >> 16) & 255) * rest) << 16) |
    (Math.round(g + ((empty >> 8) & 255) * rest) << 8) |
    Math.round(b + (empty & 255) * rest)
  );
}
