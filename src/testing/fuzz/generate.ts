/**
 * Structure-aware generated images: fast-check arbitraries describe a small qcow2 image
 * (header, extensions, L1, L2, data clusters, refcount table and blocks, snapshots, bitmaps,
 * optionally a backing file) and `buildImage` lays it out in memory. Most specs give an image
 * QEMU would open; the "raw" entries and refcount noise give the near misses fuzzing needs.
 */
import fc from 'fast-check';

export type L2EntrySpec =
  | { readonly t: 'unallocated' }
  | { readonly t: 'normal'; readonly copied: boolean; readonly sub: readonly [number, number] }
  | { readonly t: 'zero-plain' }
  | { readonly t: 'zero-alloc' }
  | { readonly t: 'compressed'; readonly sectors: number; readonly skew: number }
  | { readonly t: 'raw'; readonly hi: number; readonly lo: number };

export type L1EntrySpec =
  | null
  | readonly L2EntrySpec[]
  | { readonly rawHi: number; readonly rawLo: number }
  /** The L2 table of another L1 entry (index mod the L1's length): shared tables. */
  | { readonly share: number }
  /** A metadata cluster read as an L2 table: cross-linked tables. */
  | { readonly meta: 'l1' | 'reftable' | 'refblock' };

export interface SnapshotSpec {
  readonly name: string;
  readonly shareActive: boolean;
  readonly extra: number;
  readonly l1SizeDelta: number;
}

export interface BitmapSpec {
  readonly name: string;
  readonly granularityBits: number;
  readonly inUse: boolean;
  readonly tableDelta: number;
  readonly allOnes: boolean;
}

export interface ImageSpec {
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly extendedL2: boolean;
  readonly refcountOrder: number;
  /** Virtual size in units of 512 bytes. */
  readonly sectors: number;
  readonly l1: readonly L1EntrySpec[];
  /** Extra L1 entries beyond what the size needs (QEMU allows a larger L1). */
  readonly l1Slack: number;
  /**
   * More L1 entries after `l1`, each naming the first L2 table: huge extent counts from a small
   * file (issue 15's shared tables), the virtual size growing with them.
   */
  readonly repeat?: number;
  readonly refcounts: 'exact' | 'noisy' | 'zero';
  readonly snapshots: readonly SnapshotSpec[];
  readonly bitmaps: readonly BitmapSpec[];
  readonly unknownExtensions: readonly { readonly type: number; readonly length: number }[];
  readonly backing: 'none' | 'qcow2' | 'raw';
  readonly dirty: boolean;
  readonly seed: number;
}

const u32 = fc.nat({ max: 0xffffffff });

const l2Entry: fc.Arbitrary<L2EntrySpec> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ t: 'unallocated' } as const) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('normal' as const),
      copied: fc.boolean(),
      sub: fc.tuple(u32, u32),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ t: 'zero-plain' } as const) },
  { weight: 2, arbitrary: fc.constant({ t: 'zero-alloc' } as const) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('compressed' as const),
      sectors: fc.nat({ max: 8 }),
      skew: fc.nat({ max: 511 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('raw' as const), hi: u32, lo: u32 }) },
);

const l1Entry: fc.Arbitrary<L1EntrySpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 6, arbitrary: fc.array(l2Entry, { maxLength: 24 }) },
  { weight: 1, arbitrary: fc.record({ rawHi: u32, rawLo: u32 }) },
  { weight: 2, arbitrary: fc.record({ share: fc.nat({ max: 7 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ meta: fc.constantFrom('l1' as const, 'reftable' as const, 'refblock' as const) }),
  },
);

const name = fc.string({ minLength: 1, maxLength: 12 });

export const imageSpec: fc.Arbitrary<ImageSpec> = fc
  .record({
    version: fc.constantFrom(2 as const, 3 as const),
    clusterBits: fc.integer({ min: 9, max: 16 }),
    extendedL2: fc.boolean(),
    refcountOrder: fc.integer({ min: 0, max: 6 }),
    sectors: fc.integer({ min: 0, max: 1 << 16 }),
    l1: fc.array(l1Entry, { maxLength: 6 }),
    l1Slack: fc.nat({ max: 3 }),
    repeat: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.nat({ max: 64 })),
    refcounts: fc.constantFrom('exact' as const, 'exact' as const, 'noisy' as const, 'zero' as const),
    snapshots: fc.array(
      fc.record({
        name,
        shareActive: fc.boolean(),
        extra: fc.constantFrom(0, 8, 16, 24, 32),
        l1SizeDelta: fc.integer({ min: -2, max: 2 }),
      }),
      { maxLength: 3 },
    ),
    bitmaps: fc.array(
      fc.record({
        name,
        granularityBits: fc.oneof(
          { weight: 9, arbitrary: fc.integer({ min: 9, max: 31 }) },
          fc.constantFrom(8, 32),
        ),
        inUse: fc.boolean(),
        tableDelta: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.constantFrom(-1, 1)),
        allOnes: fc.boolean(),
      }),
      { maxLength: 2 },
    ),
    unknownExtensions: fc.array(fc.record({ type: u32, length: fc.nat({ max: 64 }) }), { maxLength: 2 }),
    backing: fc.constantFrom('none' as const, 'none' as const, 'qcow2' as const, 'raw' as const),
    dirty: fc.boolean(),
    seed: u32,
  })
  .map((s) => ({
    ...s,
    // Subclusters need 16 KiB clusters or more; v2 has neither them nor extensions.
    extendedL2: s.version === 3 && s.extendedL2 && s.clusterBits >= 14,
    refcountOrder: s.version === 2 ? 4 : s.refcountOrder,
    // v2 has no zero flag: keep one zero entry in eight as the near miss QEMU refuses.
    l1:
      s.version === 2 && s.seed % 8
        ? s.l1.map((e) =>
            Array.isArray(e)
              ? e.map(
                  (x: L2EntrySpec): L2EntrySpec =>
                    x.t === 'zero-plain' || x.t === 'zero-alloc' ? { t: 'unallocated' } : x,
                )
              : e,
          )
        : s.l1,
    bitmaps: s.version === 2 ? [] : s.bitmaps,
    unknownExtensions: s.version === 2 ? [] : s.unknownExtensions,
  }));

/** A set of named files: the top image first, then what its backing name resolves to. */
export interface GeneratedChain {
  readonly top: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** The specs it was built from (buildChain() builds it again): a regression's recipe. */
  readonly specs?: readonly [ImageSpec, ImageSpec];
}

/** The chain of a top spec and a base spec, as generatedChain makes it. */
export function buildChain(top: ImageSpec, base: ImageSpec): GeneratedChain {
  const specs = [top, base] as const;
  if (top.backing === 'none')
    return { top: 'top.qcow2', files: new Map([['top.qcow2', buildImage(top)]]), specs };
  const baseName = top.backing === 'raw' ? 'base.raw' : 'base.qcow2';
  const baseBytes =
    top.backing === 'raw'
      ? new Uint8Array(Math.min(base.sectors, 2048) * 512 + (base.seed % 700)).fill(0x42)
      : buildImage({ ...base, backing: 'none' });
  return {
    top: 'top.qcow2',
    files: new Map([
      ['top.qcow2', buildImage(top, baseName)],
      [baseName, baseBytes],
    ]),
    specs,
  };
}

class Writer {
  bytes: Uint8Array;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  u8(at: number, v: number): void {
    this.bytes[at] = v & 0xff;
  }
  u16(at: number, v: number): void {
    this.u8(at, v >>> 8);
    this.u8(at + 1, v);
  }
  u32(at: number, v: number): void {
    this.u16(at, v >>> 16);
    this.u16(at + 2, v & 0xffff);
  }
  u64(at: number, v: number): void {
    this.u32(at, Math.floor(v / 0x100000000));
    this.u32(at + 4, v % 0x100000000);
  }
  bytesAt(at: number, b: Uint8Array): void {
    this.bytes.set(b.subarray(0, Math.max(0, this.bytes.length - at)), at);
  }
}

const enc = new TextEncoder();

/** Lays out `spec` as a qcow2 file: header cluster, refcount table, blocks, L1, L2s, data, metadata. */
export function buildImage(spec: ImageSpec, backingName?: string): Uint8Array {
  const cs = 2 ** spec.clusterBits;
  const ext = spec.extendedL2;
  const l2EntryBytes = ext ? 16 : 8;
  const l2Entries = cs / l2EntryBytes;
  const repeat = spec.repeat ?? 0;
  const size = repeat ? (spec.l1.length + repeat) * cs * l2Entries : spec.sectors * 512;
  const l1Needed = Math.ceil(size / (cs * l2Entries));
  const l1Size = Math.max(l1Needed, spec.l1.length + repeat) + spec.l1Slack;

  // Cluster allocation, in file order.
  let next = 1;
  const alloc = (n: number): number => {
    const at = next * cs;
    next += n;
    return at;
  };
  const reftableAt = alloc(1);
  const l1At = alloc(Math.max(1, Math.ceil((l1Size * 8) / cs)));
  const l2At: (number | undefined)[] = spec.l1.map((e) => (Array.isArray(e) ? alloc(1) : undefined));
  const dataAt: number[][] = spec.l1.map((e) =>
    Array.isArray(e)
      ? e.map((x) => (x.t === 'normal' || x.t === 'zero-alloc' || x.t === 'compressed' ? alloc(1) : 0))
      : [],
  );
  const snapL1At = spec.snapshots.map((s) =>
    s.shareActive ? l1At : alloc(Math.max(1, Math.ceil((l1Size * 8) / cs))),
  );
  const snapTableBytes = spec.snapshots.reduce(
    (n, s) => n + Math.ceil((40 + s.extra + 4 + enc.encode(s.name).length) / 8) * 8,
    0,
  );
  const snapTableAt = spec.snapshots.length ? alloc(Math.ceil(snapTableBytes / cs)) : 0;
  const dirBytes = spec.bitmaps.reduce((n, b) => n + Math.ceil((24 + enc.encode(b.name).length) / 8) * 8, 0);
  const dirAt = spec.bitmaps.length ? alloc(Math.ceil(dirBytes / cs)) : 0;
  const bitmapTables = spec.bitmaps.map((b) => {
    const bits = Math.ceil(size / 2 ** Math.min(b.granularityBits, 31));
    const entries = Math.max(0, Math.ceil((Math.ceil(bits / 64) * 8) / cs) + b.tableDelta);
    return { entries, at: entries ? alloc(Math.ceil((entries * 8) / cs)) : 0, data: entries ? alloc(1) : 0 };
  });
  const refBits = 2 ** spec.refcountOrder;
  const perBlock = (cs * 8) / refBits;
  // Refcount blocks cover every cluster including themselves.
  let blocks = 1;
  while (blocks * perBlock < next + blocks) blocks++;
  const blocksAt = alloc(blocks);
  const total = next;

  const w = new Writer(total * cs);
  const r = spec.seed;
  // Header (spec "Header").
  w.u32(0, 0x514649fb);
  w.u32(4, spec.version);
  w.u32(20, spec.clusterBits);
  w.u64(24, size);
  w.u32(36, l1Size);
  w.u64(40, l1At);
  w.u64(48, reftableAt);
  w.u32(56, 1);
  w.u32(60, spec.snapshots.length);
  w.u64(64, snapTableAt);
  let pos = 72;
  if (spec.version === 3) {
    w.u32(76, (spec.dirty ? 1 : 0) | (ext ? 16 : 0));
    w.u32(92, spec.bitmaps.length ? 1 : 0);
    w.u32(96, spec.refcountOrder);
    w.u32(100, 112);
    pos = 112;
    if (spec.bitmaps.length) {
      w.u32(pos, 0x23852875);
      w.u32(pos + 4, 24);
      w.u32(pos + 8, spec.bitmaps.length);
      w.u64(pos + 16, dirBytes);
      w.u64(pos + 24, dirAt);
      pos += 32;
    }
    for (const x of spec.unknownExtensions) {
      // Unknown types are skipped by QEMU; keep clear of the ones it knows.
      w.u32(pos, (x.type | 0x10) >>> 0 === 0x23852875 ? 0x10 : (x.type | 0x10) >>> 0);
      w.u32(pos + 4, x.length);
      pos += 8 + Math.ceil(x.length / 8) * 8;
    }
    pos += 8; // end marker
  }
  if (backingName !== undefined) {
    const nb = enc.encode(backingName);
    w.u64(8, pos);
    w.u32(16, nb.length);
    w.bytesAt(pos, nb);
  }

  // L1 and L2 tables, data clusters.
  const refs = new Uint32Array(total);
  const ref = (at: number, n = 1) => {
    for (let i = 0; i < n; i++) if (at / cs + i < total) refs[at / cs + i]!++;
  };
  ref(0);
  ref(reftableAt);
  ref(l1At, Math.ceil((l1Size * 8) / cs));
  const firstL2 = l2At.find((x) => x !== undefined);
  for (let k = 0; k < repeat && firstL2 !== undefined; k++) {
    w.u64(l1At + 8 * (spec.l1.length + k), firstL2);
    w.u8(l1At + 8 * (spec.l1.length + k), 0x80);
  }
  spec.l1.forEach((e, i) => {
    const at = l1At + 8 * i;
    if (e === null) return;
    if (!Array.isArray(e)) {
      if ('share' in e) {
        const shared = l2At[e.share % spec.l1.length];
        if (shared !== undefined) {
          w.u64(at, shared);
          w.u8(at, 0x80);
        }
        return;
      }
      if ('meta' in e) {
        w.u64(at, e.meta === 'l1' ? l1At : e.meta === 'reftable' ? reftableAt : blocksAt);
        w.u8(at, 0x80);
        return;
      }
      const raw = e as { rawHi: number; rawLo: number };
      w.u32(at, raw.rawHi);
      w.u32(at + 4, raw.rawLo);
      return;
    }
    const l2 = l2At[i]!;
    w.u64(at, l2);
    w.u8(at, 0x80); // copied
    ref(l2);
    (e as readonly L2EntrySpec[]).forEach((x, j) => {
      const ea = l2 + j * l2EntryBytes;
      const d = dataAt[i]![j]!;
      switch (x.t) {
        case 'unallocated':
          return;
        case 'normal':
          w.u64(ea, d);
          if (x.copied) w.u8(ea, 0x80);
          if (ext) {
            // Allocation bits (low word) must not overlap zero bits (high word).
            w.u32(ea + 8, x.sub[0] & ~x.sub[1]);
            w.u32(ea + 12, x.sub[1]);
          }
          w.bytes.fill((r + i * 31 + j) & 0xff || 1, d, d + cs);
          ref(d);
          return;
        case 'zero-plain':
          if (ext) w.u32(ea + 8, 0xffffffff);
          else w.u32(ea + 4, 1);
          return;
        case 'zero-alloc':
          w.u64(ea, d);
          w.u8(ea, 0x80);
          if (ext) w.u32(ea + 8, 0xffffffff);
          else w.u8(ea + 7, 1);
          ref(d);
          return;
        case 'compressed': {
          // Compressed descriptor: x = 62 - (cluster_bits - 8) offset bits, then sector count.
          const xBits = 62 - (spec.clusterBits - 8);
          const v = (1n << 62n) | (BigInt(x.sectors) << BigInt(xBits)) | BigInt(d + x.skew);
          w.u32(ea, Number(v >> 32n));
          w.u32(ea + 4, Number(v & 0xffffffffn));
          for (let k = d; k < d + cs; k++) w.bytes[k] = (k * 7 + r) & 0xff;
          ref(d);
          return;
        }
        case 'raw':
          w.u32(ea, x.hi);
          w.u32(ea + 4, x.lo);
          return;
      }
    });
  });

  // Snapshots: a copy of the active L1 (or the active L1 itself), table entries with extra data.
  let sp = snapTableAt;
  spec.snapshots.forEach((s, k) => {
    const l1 = snapL1At[k]!;
    if (!s.shareActive) {
      w.bytes.copyWithin(l1, l1At, l1At + l1Size * 8);
      ref(l1, Math.ceil((l1Size * 8) / cs));
    }
    for (const at of l2At) if (at !== undefined) ref(at);
    const id = enc.encode(String(k + 1));
    const nm = enc.encode(s.name);
    w.u64(sp, l1);
    w.u32(sp + 8, Math.max(0, l1Size + s.l1SizeDelta));
    w.u16(sp + 12, id.length);
    w.u16(sp + 14, nm.length);
    w.u32(sp + 16, 1700000000 + k);
    w.u32(sp + 36, s.extra);
    if (s.extra >= 16) w.u64(sp + 48, size);
    if (s.extra >= 24) w.u64(sp + 56, 0xffffffff * 0x100000000 + 0xffffffff);
    w.bytesAt(sp + 40 + s.extra, id);
    w.bytesAt(sp + 40 + s.extra + id.length, nm);
    sp = Math.ceil((sp + 40 + s.extra + id.length + nm.length) / 8) * 8;
  });
  if (snapTableAt) ref(snapTableAt, Math.ceil(snapTableBytes / cs));

  // Bitmap directory and tables.
  let dp = dirAt;
  spec.bitmaps.forEach((b, k) => {
    const t = bitmapTables[k]!;
    const nm = enc.encode(b.name);
    w.u64(dp, t.at);
    w.u32(dp + 8, t.entries);
    w.u32(dp + 12, (b.inUse ? 1 : 0) | 2);
    w.u8(dp + 16, 1);
    w.u8(dp + 17, b.granularityBits);
    w.u16(dp + 18, nm.length);
    w.bytesAt(dp + 24, nm);
    dp += Math.ceil((24 + nm.length) / 8) * 8;
    if (t.entries) {
      ref(t.at, Math.ceil((t.entries * 8) / cs));
      w.u64(t.at, b.allOnes ? 0 : t.data);
      if (b.allOnes) w.u8(t.at + 7, 1);
      else ref(t.data);
      w.bytes.fill(0xa5, t.data, t.data + cs);
    }
  });
  if (dirAt) ref(dirAt, Math.ceil(dirBytes / cs));

  // Refcount table and blocks.
  ref(blocksAt, blocks);
  for (let k = 0; k < blocks; k++) w.u64(reftableAt + 8 * k, blocksAt + k * cs);
  const max = refBits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** refBits - 1;
  for (let c = 0; c < total; c++) {
    let v = spec.refcounts === 'zero' ? 0 : refs[c]!;
    if (spec.refcounts === 'noisy' && (c * 2654435761 + r) % 5 === 0) v = (v + 1) % (max + 1);
    writeRefcount(
      w,
      blocksAt + Math.floor(c / perBlock) * cs,
      spec.refcountOrder,
      c % perBlock,
      Math.min(v, max),
    );
  }
  return w.bytes;
}

/** Entry `i` of a refcount block, as refcount.ts refcountAt() reads it back. */
function writeRefcount(w: Writer, block: number, order: number, i: number, v: number): void {
  if (order <= 2) {
    const bits = 2 ** order;
    const at = block + Math.floor((i * bits) / 8);
    const shift = (i * bits) % 8;
    w.u8(at, (w.bytes[at]! & ~(((1 << bits) - 1) << shift)) | (v << shift));
  } else if (order === 3) w.u8(block + i, v);
  else if (order === 4) w.u16(block + 2 * i, v);
  else if (order === 5) w.u32(block + 4 * i, v);
  else w.u64(block + 8 * i, v);
}

/** A generated top image and, when the spec asks for one, a generated backing file. */
export const generatedChain: fc.Arbitrary<GeneratedChain> = fc
  .tuple(imageSpec, imageSpec)
  .map(([top, base]) => buildChain(top, base));
