/**
 * A map carried inside a permalink ("Copy link with map", issue 5): the extents of a few
 * interpretations, without host offsets, as varints, DEFLATE-compressed (fflate, raw deflate),
 * in base64url. Extents are contiguous from 0, so only lengths and values are stored; lengths
 * are stored in units of their largest common power of two (a cluster, usually).
 *
 * Layout before deflate: "CSM" version(1) varint(guestLength) varint(layerCount) varint(maps),
 * then per map: varint(idLength) id(UTF-8) varint(shift) varint(count) count x
 * (varint(length >> shift), varint(value)).
 *
 * An id names an interpretation: a map's own ("qemu-img-map-8.2") or a diff side in the CLI's
 * INTERP@VIEW form ("nbd-base-allocation-5.2@backing-null,snapshot:before upgrade"). Ids were
 * ASCII-only before diff sides travelled; ASCII ids encode the same either way. Ids of the older
 * scheme ("qemu-img-map@10.2", interpret/ids.ts) are read as today's.
 *
 * Decoding takes untrusted text from a URL: every size is capped (constants below), inflation
 * stops at MAX_LINK_MAP_INFLATED (a deflate bomb of a few KiB once kept fflate busy for 233 s
 * of CPU), every number is exact, every value fits the interpretation it is said to be, and
 * every refusal is a LinkMapError with a sentence a person can act on.
 */
import { deflateSync, Inflate } from 'fflate';
import { upgradeInterpretationId } from '../interpret/ids.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import { MAP_DEPTH_SHIFT } from '../interpret/qemuImgMap.ts';
import { MAX_CHAIN_DEPTH } from '../limits.ts';

export const LINK_MAP_VERSION = 1;
/** Longest encoded map accepted from a link (the whole link is kept under 32 KiB). */
export const MAX_LINK_MAP_CHARS = 32 * 1024;
/**
 * Longest encoded map accepted from a downloaded map file, offered exactly when the map is too
 * long for a link: its bounds are MAX_LINK_MAP_INFLATED and MAX_LINK_EXTENTS, and base64 of a
 * deflated 8 MiB is below 12 MiB.
 */
export const MAX_MAP_FILE_MAP_CHARS = 12 * 1024 * 1024;
/** Longest interpretation id (UTF-8 bytes): a diff side's INTERP@VIEW with a snapshot name of 255. */
export const MAX_LINK_MAP_ID_BYTES = 512;
/** Inflated size cap: stops a small hostile payload expanding into gigabytes. */
export const MAX_LINK_MAP_INFLATED = 8 * 1024 * 1024;
/** At most this many interpretations and extents in one link. */
export const MAX_LINK_MAPS = 8;
export const MAX_LINK_EXTENTS = 1 << 20;
/** Deepest chain a link may describe: the deepest clusterscope opens (MAX_CHAIN_DEPTH). */
export const MAX_LINK_LAYERS = MAX_CHAIN_DEPTH;
/**
 * Compressed bytes inflated at a time: each step can add at most ~1 MiB (deflate expands
 * 1032:1 at most), so the output is checked against MAX_LINK_MAP_INFLATED every MiB.
 */
const INFLATE_STEP = 1024;

export interface LinkMapEntry {
  /** Interpretation id (interpret/ids.ts, e.g. "qemu-img-map-8.2"), or a diff side's INTERP@VIEW. */
  readonly id: string;
  readonly extents: Interpreted;
}

export interface LinkMap {
  readonly length: number;
  readonly layerCount: number;
  readonly maps: readonly LinkMapEntry[];
}

export class LinkMapError extends Error {
  override name = 'LinkMapError';
}

const MAGIC = [0x43, 0x53, 0x4d];

class Writer {
  buf = new Uint8Array(1024);
  n = 0;
  byte(b: number) {
    if (this.n === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = b;
  }
  /** Unsigned LEB128 of an exact integer up to 2^53 (arithmetic, not 32-bit shifts). */
  varint(v: number) {
    let x = v;
    while (x >= 0x80) {
      this.byte((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    this.byte(x);
  }
}

class Reader {
  i = 0;
  constructor(readonly b: Uint8Array) {}
  byte(): number {
    if (this.i >= this.b.length) throw new LinkMapError('the map in the link is cut short');
    return this.b[this.i++]!;
  }
  /**
   * An unsigned LEB128 number, exactly: past 2^53 only multiples of 512 (qcow2 sizes past 2^53
   * are) read back as the integer written, so the digits are summed as a BigInt there.
   */
  varint(): number {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if (v >= 1n << 62n) throw new LinkMapError('a number in the map in the link is too large');
      if (!(b & 0x80)) {
        const n = Number(v);
        if (BigInt(n) !== v) throw new LinkMapError('a number in the map in the link is not exact');
        return n;
      }
    }
  }
}

const commonShift = (m: Interpreted): number => {
  let s = 30;
  for (let i = 0; i < m.count && s > 0; i++) {
    while (s > 0 && m.length[i]! % 2 ** s !== 0) s--;
  }
  return s;
};

export function encodeLinkMap(map: LinkMap): string {
  const w = new Writer();
  for (const b of MAGIC) w.byte(b);
  w.byte(LINK_MAP_VERSION);
  w.varint(map.length);
  w.varint(map.layerCount);
  w.varint(map.maps.length);
  for (const { id, extents: m } of map.maps) {
    const idBytes = new TextEncoder().encode(id);
    w.varint(idBytes.length);
    for (const b of idBytes) w.byte(b);
    const shift = commonShift(m);
    w.varint(shift);
    w.varint(m.count);
    for (let i = 0; i < m.count; i++) {
      w.varint(m.length[i]! / 2 ** shift);
      w.varint(m.value[i]!);
    }
  }
  return toBase64Url(deflateSync(w.buf.subarray(0, w.n), { level: 9 }));
}

/** `maxChars`: MAX_LINK_MAP_CHARS for a link, MAX_MAP_FILE_MAP_CHARS for a map file. */
export function decodeLinkMap(text: string, maxChars = MAX_LINK_MAP_CHARS): LinkMap {
  if (text.length > maxChars) {
    throw new LinkMapError(`the map in the link is longer than ${maxChars} characters`);
  }
  const raw = inflateBounded(fromBase64Url(text), MAX_LINK_MAP_INFLATED);
  const r = new Reader(raw);
  for (const b of MAGIC) {
    if (r.byte() !== b) throw new LinkMapError('the map in the link is not a clusterscope map');
  }
  const version = r.byte();
  if (version !== LINK_MAP_VERSION) {
    throw new LinkMapError(`the map in the link has version ${version}; this page reads ${LINK_MAP_VERSION}`);
  }
  const length = r.varint();
  const layerCount = r.varint();
  if (layerCount > MAX_LINK_LAYERS) throw new LinkMapError('the map in the link names too many layers');
  const nMaps = r.varint();
  if (nMaps > MAX_LINK_MAPS) throw new LinkMapError(`the link carries more than ${MAX_LINK_MAPS} maps`);
  const maps: LinkMapEntry[] = [];
  let total = 0;
  for (let k = 0; k < nMaps; k++) {
    const idLen = r.varint();
    if (idLen > MAX_LINK_MAP_ID_BYTES) throw new LinkMapError('an interpretation id in the link is too long');
    const idBytes = new Uint8Array(idLen);
    for (let i = 0; i < idLen; i++) idBytes[i] = r.byte();
    let id: string;
    try {
      id = new TextDecoder('utf-8', { fatal: true }).decode(idBytes);
    } catch {
      throw new LinkMapError('an interpretation id in the link is not UTF-8 text');
    }
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (id === '' || /[\u0000-\u001f\u007f]/.test(id))
      throw new LinkMapError('an interpretation id in the link is malformed');
    const shift = r.varint();
    if (shift > 30) throw new LinkMapError('the map in the link has a bad length unit');
    const count = r.varint();
    total += count;
    if (total > MAX_LINK_EXTENTS)
      throw new LinkMapError(`the link carries more than ${MAX_LINK_EXTENTS} extents`);
    // Each extent takes two bytes at least: a count the bytes cannot hold is cut short, found
    // before arrays of its size are made.
    if (count * 2 > raw.length - r.i) throw new LinkMapError('the map in the link is cut short');
    const valueOk = valueCheck(upgradeInterpretationId(id), layerCount);
    const start = new Float64Array(count);
    const len = new Float64Array(count);
    const value = new Uint32Array(count);
    let pos = 0;
    for (let i = 0; i < count; i++) {
      const l = r.varint() * 2 ** shift;
      const v = r.varint();
      if (l === 0 || v > 0xffffffff) throw new LinkMapError('the map in the link has a malformed extent');
      if (!valueOk(v)) {
        throw new LinkMapError(
          `the map in the link gives ${id} the value ${v}, which it never has${layerCount ? ` in a chain of ${layerCount} layers` : ''}`,
        );
      }
      start[i] = pos;
      len[i] = l;
      value[i] = v;
      pos += l;
      if (pos > length) throw new LinkMapError('the map in the link runs past the image length it states');
    }
    maps.push({
      id: upgradeInterpretationId(id),
      extents: {
        count,
        start,
        length: len,
        value,
        host: new Float64Array(count).fill(-1),
        layer: new Uint16Array(count),
      },
    });
  }
  if (r.i !== raw.length) throw new LinkMapError('the map in the link has trailing bytes');
  return { length, layerCount, maps };
}

/**
 * Inflates raw DEFLATE data step by step and stops as soon as the output passes `limit`, so a
 * bomb costs at most `limit` plus one step of work. Empty or truncated data is damaged.
 */
function inflateBounded(packed: Uint8Array, limit: number): Uint8Array {
  if (packed.length === 0) throw new LinkMapError('the map in the link is empty');
  const parts: Uint8Array[] = [];
  let total = 0;
  const inf = new Inflate((chunk) => {
    total += chunk.length;
    if (total <= limit) parts.push(chunk.slice());
  });
  try {
    for (let i = 0; i < packed.length && total <= limit; i += INFLATE_STEP) {
      inf.push(packed.subarray(i, i + INFLATE_STEP), i + INFLATE_STEP >= packed.length);
    }
  } catch {
    if (total <= limit) throw new LinkMapError('the map in the link is damaged (it does not decompress)');
  }
  if (total > limit) {
    throw new LinkMapError(`the map in the link expands past ${limit} bytes (MAX_LINK_MAP_INFLATED)`);
  }
  if (total === 0) throw new LinkMapError('the map in the link is empty');
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * What values an interpretation can have (interpret/qemuImgMap.ts, nbd.ts), so that a link
 * cannot make the page build a view per depth of a depth no chain has. A diff side's id
 * (INTERP@VIEW) is judged by its interpretation; ids this page does not know take any value.
 */
function valueCheck(id: string, layers: number): (v: number) => boolean {
  const interp = id.split('@')[0]!;
  if (interp.startsWith('qemu-img-map-'))
    return (v) => (v & 0xf0) === 0 && v >>> MAP_DEPTH_SHIFT < Math.max(1, layers);
  if (interp.startsWith('nbd-base-allocation')) return (v) => v <= 3;
  if (interp === 'nbd-allocation-depth') return (v) => v <= Math.max(1, layers);
  return () => true;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function toBase64Url(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    const k = Math.min(3, b.length - i);
    s += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    if (k > 1) s += B64[(n >> 6) & 63]!;
    if (k > 2) s += B64[n & 63]!;
  }
  return s;
}

export function fromBase64Url(s: string): Uint8Array {
  if (!/^[\w-]*$/.test(s) || s.length % 4 === 1) {
    throw new LinkMapError('the map in the link is not base64url text (was it cut or re-encoded?)');
  }
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    const k = Math.min(4, s.length - i);
    for (let j = 0; j < 4; j++) n = (n << 6) | (j < k ? B64.indexOf(s[i + j]!) : 0);
    out[o++] = (n >> 16) & 255;
    if (k > 2) out[o++] = (n >> 8) & 255;
    if (k > 3) out[o++] = n & 255;
  }
  return out.subarray(0, o);
}
