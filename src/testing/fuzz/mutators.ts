/**
 * Mutations of a qcow2 image aimed at its structures (layout.ts): header fields and table
 * entries set to values at their extremes, bit flips and byte sets inside one structure,
 * truncations at structure boundaries, extensions of the file. Each mutation says in words what
 * it did, so a failing input explains itself.
 */
import { hex } from '../../core/format.ts';
import { type Field, layout, type Region } from './layout.ts';
import type { Rng } from './prng.ts';

export interface Mutation {
  readonly bytes: Uint8Array;
  /** What was done, e.g. "L2 table at 0x50000: entry 3 = 0x8000000000000201". */
  readonly what: string;
}

function writeBig(b: Uint8Array, at: number, width: number, v: bigint): void {
  for (let i = width - 1; i >= 0; i--) {
    if (at + i < b.length) b[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function readBig(b: Uint8Array, at: number, width: number): bigint {
  let v = 0n;
  for (let i = 0; i < width; i++) v = (v << 8n) | BigInt(b[at + i] ?? 0);
  return v;
}

/** Values at the edges: zero, one, all ones, the sign bit, 2^53 and its neighbours, the file size. */
function extremeValue(r: Rng, width: number, current: bigint, fileSize: number, clusterSize: number): bigint {
  const max = (1n << BigInt(width * 8)) - 1n;
  const fs = BigInt(fileSize);
  const cs = BigInt(clusterSize);
  const choices: bigint[] = [
    0n,
    1n,
    max,
    max >> 1n,
    (max >> 1n) + 1n,
    current + 1n,
    current - 1n,
    current * 2n,
    current ^ (1n << BigInt(r.int(width * 8))),
    BigInt(r.int(256)),
    BigInt(Math.floor(r.next() * 2 ** 32)),
  ];
  if (width >= 4) choices.push(fs, fs + cs, (fs / cs) * cs, fs - 8n, 0x200000n, 0x400000n, 0x10000n);
  if (width === 8)
    choices.push(1n << 53n, (1n << 53n) - 1n, (1n << 53n) - cs, 1n << 63n, 1n << 62n, 1n << 56n);
  const v = r.pick(choices);
  return v < 0n ? 0n : v & max;
}

/** Interesting L1/L2/refcount/bitmap table entries (spec "Cluster mapping"). */
function entryValue(r: Rng, b: Uint8Array, cs: number, regions: readonly Region[]): bigint {
  const clusters = Math.max(1, Math.ceil(b.length / cs));
  const inFile = BigInt(r.int(clusters) * cs);
  const region = r.pick(regions);
  const COPIED = 1n << 63n;
  const COMPRESSED = 1n << 62n;
  return r.pick([
    0n,
    COPIED | inFile,
    inFile,
    COPIED | BigInt(region.offset - (region.offset % cs)), // points into another structure
    COPIED | (inFile + 512n), // unaligned
    COPIED | BigInt(clusters * cs), // just past EOF
    COPIED | BigInt((clusters + 1 + r.int(1000)) * cs), // far past EOF
    COPIED | ((1n << 56n) - BigInt(cs)), // the largest offset the entry holds
    1n, // zero flag alone (ZERO_PLAIN)
    COPIED | inFile | 1n, // ZERO_ALLOC
    COMPRESSED | BigInt(Math.floor(r.next() * 2 ** 32)) | (BigInt(r.int(2 ** 20)) << 32n),
    COPIED | COMPRESSED | inFile,
    (BigInt(Math.floor(r.next() * 2 ** 32)) << 32n) | BigInt(Math.floor(r.next() * 2 ** 32)),
    inFile | 0x1fen, // reserved bits
    (0x7fn << 56n) | inFile, // reserved high bits
  ]);
}

const clusterSizeOf = (b: Uint8Array): number => {
  const cb = ((b[20] ?? 0) << 24) | ((b[21] ?? 0) << 16) | ((b[22] ?? 0) << 8) | (b[23] ?? 0);
  return cb >= 9 && cb <= 21 ? 2 ** cb : 65536;
};

export type MutatorName =
  | 'field'
  | 'entry'
  | 'bitflip'
  | 'byteset'
  | 'truncate'
  | 'extend'
  | 'swap-entries'
  | 'zero-region'
  | 'share-tables'
  | 'cross-link';

export const MUTATORS: readonly MutatorName[] = [
  'field',
  'field',
  'field',
  'entry',
  'entry',
  'entry',
  'bitflip',
  'bitflip',
  'byteset',
  'truncate',
  'extend',
  'swap-entries',
  'zero-region',
  'share-tables',
  'share-tables',
  'cross-link',
];

/** L1 entries a share-tables mutation points at one table: up to 64 x 8192 extents at 64 KiB. */
export const MAX_SHARED_L1_ENTRIES = 64;

/** One mutation of `input` (never modified), of the given kind or a random one. */
export function mutateOnce(input: Uint8Array, r: Rng, kind: MutatorName = r.pick(MUTATORS)): Mutation {
  const regions = layout(input);
  const cs = clusterSizeOf(input);
  const b = input.slice();
  const region = r.pick(regions);
  const at = (rg: Region) => `${rg.name} at ${hex(rg.offset)}`;
  switch (kind) {
    case 'field': {
      const withFields = regions.filter((x) => x.fields?.length);
      const rg = r.pick(withFields.length ? withFields : regions);
      const f: Field = rg.fields?.length ? r.pick(rg.fields) : { name: 'u32', at: rg.offset, width: 4 };
      const v = extremeValue(r, f.width, readBig(b, f.at, f.width), input.length, cs);
      writeBig(b, f.at, f.width, v);
      return { bytes: b, what: `${at(rg)}: ${f.name} = ${hex(v)}` };
    }
    case 'entry': {
      const tables = regions.filter((x) => x.entryBytes && x.length >= 8);
      if (!tables.length) return mutateOnce(input, r, 'field');
      const rg = r.pick(tables);
      const n = Math.floor(rg.length / rg.entryBytes!);
      const i = r.chance(0.5) ? r.int(Math.min(n, 8)) : r.int(n);
      const v = entryValue(r, input, cs, regions);
      writeBig(b, rg.offset + i * rg.entryBytes!, 8, v);
      let extra = '';
      if (rg.entryBytes === 16 && r.chance(0.5)) {
        // Extended L2: the subcluster bitmap (zero bits high, allocation bits low).
        const bm = BigInt(Math.floor(r.next() * 2 ** 32)) << BigInt(r.pick([0, 32]));
        writeBig(b, rg.offset + i * 16 + 8, 8, bm);
        extra = `, bitmap ${hex(bm)}`;
      }
      return { bytes: b, what: `${at(rg)}: entry ${i} = ${hex(v)}${extra}` };
    }
    case 'bitflip': {
      const o = region.offset + r.int(Math.max(1, region.length));
      if (o >= b.length) return mutateOnce(input, r, 'field');
      const bit = r.int(8);
      b[o] = b[o]! ^ (1 << bit);
      return { bytes: b, what: `${at(region)}: bit ${bit} of byte ${hex(o)} flipped` };
    }
    case 'byteset': {
      const o = region.offset + r.int(Math.max(1, region.length));
      if (o >= b.length) return mutateOnce(input, r, 'field');
      const v = r.pick([0, 0xff, 0x80, 0x7f, r.int(256)]);
      b[o] = v;
      return { bytes: b, what: `${at(region)}: byte ${hex(o)} = ${hex(v)}` };
    }
    case 'truncate': {
      const cut = r.pick([
        region.offset,
        region.offset + Math.floor(region.length / 2),
        region.offset + region.length - 1,
        r.int(input.length),
        input.length - r.int(Math.min(input.length, cs)),
      ]);
      const len = Math.max(0, Math.min(input.length, cut));
      return { bytes: input.slice(0, len), what: `truncated to ${hex(len)} (inside ${at(region)})` };
    }
    case 'extend': {
      const add = r.pick([1, 511, cs, cs * 3 + 7]);
      const out = new Uint8Array(input.length + add);
      out.set(input);
      if (r.chance(0.5)) for (let i = input.length; i < out.length; i++) out[i] = r.int(256);
      return { bytes: out, what: `extended by ${add} bytes` };
    }
    case 'swap-entries': {
      // Two table entries share a target: an L2 table or data cluster referenced twice.
      const tables = regions.filter((x) => x.entryBytes && x.length >= 16);
      if (!tables.length) return mutateOnce(input, r, 'entry');
      const rg = r.pick(tables);
      const n = Math.floor(rg.length / 8);
      const i = r.int(n);
      const j = r.int(n);
      b.copyWithin(rg.offset + 8 * j, rg.offset + 8 * i, rg.offset + 8 * i + 8);
      return { bytes: b, what: `${at(rg)}: entry ${j} copied from entry ${i}` };
    }
    case 'share-tables': {
      // Many L1 entries name one L2 table (the hostile 384 KiB image of issue 15 made 31 M
      // extents so): the L1 grows to `n` entries within its cluster, the virtual size with it,
      // and each entry names the table of L1[0] (or another table, or the L1 table itself).
      const l1 = regions.find((x) => x.name === 'L1 table');
      const l2 = regions.filter((x) => x.name === 'L2 table');
      if (!l1 || input.length < 112) return mutateOnce(input, r, 'entry');
      const l2Bits = Math.log2(cs) - (l2.length && l2[0]!.entryBytes === 16 ? 4 : 3);
      // Within the L1 table's cluster, so nothing past it is overwritten.
      const n = 1 + r.int(Math.min(MAX_SHARED_L1_ENTRIES, cs / 8));
      const target = r.chance(0.8) && l2.length ? r.pick(l2).offset : l1.offset;
      writeBig(b, 36, 4, BigInt(n));
      writeBig(b, 24, 8, BigInt(n) << BigInt(Math.log2(cs) + l2Bits));
      for (let i = 0; i < n; i++) writeBig(b, l1.offset + 8 * i, 8, (1n << 63n) | BigInt(target));
      return {
        bytes: b,
        what: `L1 table at ${hex(l1.offset)}: ${n} entries = L2 table ${hex(target)}, size ${n} L2 spans`,
      };
    }
    case 'cross-link': {
      // A table entry naming a metadata cluster: the header, the refcount table or a block,
      // the L1 table, another L2 table; read as an L2 table or a data cluster.
      const tables = regions.filter((x) => x.entryBytes && x.length >= 8);
      const meta = regions.filter((x) => !x.name.startsWith('header extension'));
      if (!tables.length || !meta.length) return mutateOnce(input, r, 'entry');
      const rg = r.pick(tables);
      const to = r.pick(meta);
      const i = r.int(Math.max(1, Math.min(8, Math.floor(rg.length / rg.entryBytes!))));
      const v = (1n << 63n) | BigInt(to.offset - (to.offset % cs));
      writeBig(b, rg.offset + i * rg.entryBytes!, 8, v);
      return { bytes: b, what: `${at(rg)}: entry ${i} = ${hex(v)} (the ${to.name})` };
    }
    case 'zero-region': {
      const end = Math.min(b.length, region.offset + region.length);
      const v = r.pick([0, 0xff]);
      b.fill(v, region.offset, end);
      return { bytes: b, what: `${at(region)}: filled with ${hex(v)}` };
    }
  }
}

/** One to `max` mutations in a row (a second mutation often meets the first one's damage). */
export function mutate(input: Uint8Array, r: Rng, max = 3): Mutation {
  const n = 1 + (r.chance(0.6) ? 0 : r.int(max));
  let cur: Mutation = { bytes: input, what: '' };
  const whats: string[] = [];
  for (let i = 0; i < n; i++) {
    cur = mutateOnce(cur.bytes, r);
    whats.push(cur.what);
  }
  return { bytes: cur.bytes, what: whats.join('; ') };
}
