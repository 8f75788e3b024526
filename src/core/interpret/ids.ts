/**
 * The one id scheme for interpretations: lower-case words, digits, '.' and '-' (unreserved in
 * RFC 3986, and never the '@' and ',' of the `INTERP@VIEW` syntax, viewSource.ts). A qemu-img
 * map id names the release whose field set it prints (6.0: no "present"; 7.2: 6.1 to 8.1; 8.2:
 * "compressed" too); an NBD base:allocation id names the release whose HOLE rule it follows.
 * The catalogue, the URL, link maps, imported map files and the CLI all use these; an id, once
 * shipped, never changes meaning.
 */
import { QEMU_6_0, QEMU_6_1, QEMU_8_2, type Release } from './releases.ts';

export const qemuImgMapId = (release: Release): string =>
  release < QEMU_6_1 ? 'qemu-img-map-6.0' : release < QEMU_8_2 ? 'qemu-img-map-7.2' : 'qemu-img-map-8.2';

export const baseAllocationId = (release: Release): string =>
  release >= QEMU_6_0 ? 'nbd-base-allocation-6.0' : 'nbd-base-allocation-5.2';

export const ALLOCATION_DEPTH_ID = 'nbd-allocation-depth';

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
