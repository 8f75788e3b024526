/**
 * The one id scheme for interpretations: lower-case words, digits, '.' and '-' (unreserved in
 * RFC 3986, and never the '@' and ',' of the `INTERP@VIEW` syntax, viewSource.ts). A qemu-img
 * map id names the release whose field set it prints (6.0: no "present"; 7.2: 6.1 to 8.1; 8.2:
 * "compressed" too); an NBD base:allocation id names the release whose HOLE rule it follows.
 * A qemu:dirty-bitmap id is `nbd-dirty-bitmap-` and the bitmap's name, whose bytes (UTF-8) are
 * kept where they are lower-case letters, digits or '-' and otherwise written as '.' and two
 * lower-case hex digits ("Daily.2" -> `nbd-dirty-bitmap-.44aily.2e2`): names may hold any
 * character, and this spelling is one to one.
 * The catalogue, the URL, link maps, imported map files and the CLI all use these; an id, once
 * shipped, never changes meaning.
 */
import { QEMU_6_0, QEMU_6_1, QEMU_8_2, type Release } from './releases.ts';

export const qemuImgMapId = (release: Release): string =>
  release < QEMU_6_1 ? 'qemu-img-map-6.0' : release < QEMU_8_2 ? 'qemu-img-map-7.2' : 'qemu-img-map-8.2';

export const baseAllocationId = (release: Release): string =>
  release >= QEMU_6_0 ? 'nbd-base-allocation-6.0' : 'nbd-base-allocation-5.2';

export const ALLOCATION_DEPTH_ID = 'nbd-allocation-depth';

export const DIRTY_BITMAP_ID_PREFIX = 'nbd-dirty-bitmap-';

const KEEP = /^[a-z0-9-]$/;

export function dirtyBitmapId(name: string): string {
  let out = DIRTY_BITMAP_ID_PREFIX;
  for (const byte of new TextEncoder().encode(name)) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && KEEP.test(c) ? c : `.${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The bitmap name an id spells, or undefined when it is not a dirty-bitmap id in its one spelling. */
export function dirtyBitmapName(id: string): string | undefined {
  if (!id.startsWith(DIRTY_BITMAP_ID_PREFIX)) return undefined;
  const rest = id.slice(DIRTY_BITMAP_ID_PREFIX.length);
  const bytes: number[] = [];
  for (let i = 0; i < rest.length; ) {
    const c = rest[i]!;
    if (c === '.') {
      const hx = rest.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hx)) return undefined;
      bytes.push(Number.parseInt(hx, 16));
      i += 3;
    } else if (KEEP.test(c)) {
      bytes.push(c.charCodeAt(0));
      i++;
    } else return undefined;
  }
  if (bytes.length === 0) return undefined;
  let name: string;
  try {
    name = new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
  return dirtyBitmapId(name) === id ? name : undefined;
}

/**
 * Ids written before the scheme was one (link maps of URL format 2 carried `qemu-img-map@10.2`
 * and `nbd-base-allocation@6.0`, where '@' is also the INTERP@VIEW separator): the id of today
 * that means the same, or the id unchanged.
 */
export function upgradeInterpretationId(id: string): string {
  const map = /^qemu-img-map@(\d+)\.(\d+)$/.exec(id);
  if (map) return qemuImgMapId(Number(map[1]) * 1000 + Number(map[2]));
  const nbd = /^nbd-base-allocation@(\d+)\.(\d+)$/.exec(id);
  if (nbd) return baseAllocationId(Number(nbd[1]) * 1000 + Number(nbd[2]));
  return id;
}
