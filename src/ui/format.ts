/** Offsets and sizes as a person reads them: hex for offsets, binary units for sizes. */
export const hexOffset = (n: number): string => `0x${n.toString(16)}`;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

export function binarySize(n: number): string {
  let u = 0;
  let v = n;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1).replace(/\.?0+$/, '');
  return `${s} ${UNITS[u]}`;
}

/** An axis tick: the offset in hex, and in binary units when it is a round number of them. */
export const offsetLabel = (n: number): string => `${hexOffset(n)}${n > 0 ? ` · ${binarySize(n)}` : ''}`;

export const rangeLabel = (start: number, end: number): string =>
  `${hexOffset(start)}–${hexOffset(end)} (${binarySize(end - start)})`;
