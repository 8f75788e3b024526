/**
 * Words for a diff of two images whose virtual sizes differ (issue 4: "compared cluster by
 * cluster where their virtual sizes overlap"). The CLI and the diff view print the same
 * sentence; each passes its own way of writing a byte count.
 */
import type { Diff } from './diff.ts';

type Sizes = Pick<Diff, 'lengthA' | 'lengthB' | 'overlap'>;

const plainBytes = (n: number): string => `${n} bytes`;

/** undefined when both sides have one size; else what was compared and what was not. */
export function sizeNote(d: Sizes, bytes: (n: number) => string = plainBytes): string | undefined {
  if (d.lengthA === d.lengthB) return undefined;
  const longer = d.lengthA > d.lengthB ? 'A' : 'B';
  return `Virtual sizes differ (A ${bytes(d.lengthA)}, B ${bytes(d.lengthB)}): compared where both reach, the first ${bytes(d.overlap)}; the remaining ${bytes(Math.abs(d.lengthA - d.lengthB))} are only in ${longer}.`;
}
