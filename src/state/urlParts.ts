/**
 * The small parts every link field is read with (url.ts and diff.ts share them): byte offsets
 * as a person types them, and the base names a link may carry.
 */

/** Most chain file names a link may carry, and the longest name (NAME_MAX on Linux). */
export const MAX_LINK_FILES = 64;
export const MAX_FILE_NAME_CHARS = 255;

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
  p: 2 ** 50,
  pib: 2 ** 50,
};

/** A byte offset: 0x-hex, or decimal with an optional binary unit (64K, 1.5MiB, 2G). */
export function parseOffset(s: string): number | undefined {
  const t = s.trim();
  if (t.length > 24) return undefined;
  let v: number;
  const hex = /^0x([0-9a-f]{1,14})$/i.exec(t);
  if (hex) v = Number.parseInt(hex[1]!, 16);
  else {
    const dec = /^(\d{1,16}(?:\.\d{1,6})?)\s*([a-z]*)$/i.exec(t);
    const unit = dec ? UNITS[dec[2]!.toLowerCase()] : undefined;
    if (!dec || unit === undefined) return undefined;
    v = Number(dec[1]) * unit;
  }
  return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** A base name a link may carry: no path separators, no control characters, not "." or "..". */
export const isSafeFileName = (n: string): boolean =>
  n.length > 0 &&
  n.length <= MAX_FILE_NAME_CHARS &&
  n !== '.' &&
  n !== '..' &&
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  !/[/\\\u0000-\u001f\u007f]/.test(n);
