/**
 * C strings as QEMU shows them in its JSON output. qcow2 stores names (snapshot ids and names,
 * file names) as bytes; QEMU reads them into C strings (a NUL ends them) and its JSON writer
 * (qobject/qjson.c to_json()) decodes each as modified UTF-8 with mod_utf8_codepoint()
 * (util/unicode.c): a malformed or invalid sequence becomes one U+FFFD however many bytes it
 * spans, and the overlong "\xC0\x80" is U+0000. TextDecoder differs on exactly those cases
 * (it emits one U+FFFD per byte of a malformed sequence), checked against `qemu-img info
 * --output=json` 7.2 in cString.test.ts.
 */

/** First cp of each sequence length 2..6 that is not overlong (mod_utf8_codepoint()'s min_cp). */
const MIN_CP = [0x80, 0x800, 0x10000, 0x200000, 0x4000000];

/** Decodes `b` up to its first NUL the way `qemu-img info --output=json` prints it. */
export function cString(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length && b[i] !== 0) {
    const byte = b[i++]!;
    let cp: number;
    if (byte < 0x80) cp = byte;
    else if (byte >= 0xfe || (byte & 0x40) === 0) cp = -1;
    else {
      let len = 0;
      let mask = 0x80;
      for (; byte & mask; mask >>= 1) len++;
      cp = byte & (mask - 1);
      for (let k = 1; k < len; k++) {
        const next = i < b.length ? b[i]! : 0;
        if ((next & 0xc0) !== 0x80) {
          cp = -1;
          break;
        }
        i++;
        cp = cp * 64 + (next & 0x3f);
      }
      if (cp >= 0) {
        if (cp > 0x10ffff) cp = -1;
        else if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) cp = -1;
        else if (cp >= 0xd800 && cp <= 0xdfff) cp = -1;
        else if (cp < MIN_CP[len - 2]! && !(cp === 0 && len === 2)) cp = -1;
      }
    }
    out += String.fromCodePoint(cp < 0 ? 0xfffd : cp);
  }
  return out;
}
