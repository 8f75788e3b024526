/**
 * What is highlighted across the coupled views (heatmap, lanes, table, legend): a guest range
 * (a table row, the stretch of one class in a lane) or a class (a legend entry). Each view marks
 * it in its own way; picking in any of them sets it, and it goes with a new load.
 */
export type Highlight =
  | {
      readonly kind: 'range';
      readonly start: number;
      readonly end: number;
      /** Where it was picked and what it is, in words (the highlight bar says it). */
      readonly label: string;
    }
  | {
      readonly kind: 'class';
      /** A class key (core/raster/classes.ts, or a diff's kind-N). */
      readonly key: string;
      readonly label: string;
    };

/** True when a selection at `offset` keeps the highlight (a range holds it; a class always). */
export const keepsHighlight = (h: Highlight | undefined, offset: number | undefined): boolean =>
  h !== undefined && (h.kind === 'class' || (offset !== undefined && offset >= h.start && offset < h.end));
