/** Captions and axis labels built on core/format.ts's hex and binary units. */
import { binarySize, hex } from '../core/format.ts';

/** An axis tick: the offset in hex, and in binary units when it is a round number of them. */
export const offsetLabel = (n: number): string => `${hex(n)}${n > 0 ? ` · ${binarySize(n)}` : ''}`;

export const rangeLabel = (start: number, end: number): string =>
  `${hex(start)}–${hex(end)} (${binarySize(end - start)})`;

/** A size in binary units with its exact byte count: "1.5 MiB (1572864 bytes)". */
export const sizeAndBytes = (n: number): string =>
  n < 1024 ? `${n} bytes` : `${binarySize(n)} (${n} bytes)`;
