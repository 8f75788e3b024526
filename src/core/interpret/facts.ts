/**
 * What an interpretation's values mean, as facts about each byte. Two tools can encode one
 * answer differently: `qemu-img map` 7.2 prints "depth 0, present, data" where NBD
 * base:allocation 6.0+ sends 0 ("data"); in QEMU 7.2 the two agree everywhere (`data` is
 * not HOLE, `zero` is ZERO). Comparing values would call every byte different; comparing the
 * facts both sides state finds none (issue 11.1). So each interpretation declares the facts it
 * tells (`facts`) and a function from one of its values to those facts (`factsOf`), and the
 * diff (core/diff) compares facts, not values.
 *
 * A fact's value is a small integer: 0/1 for yes/no facts, a layer index for `depth`, and
 * UNKNOWN where this value does not tell (qemu-img map 6.0 prints `"zero": true` the same for a
 * zero cluster and an unallocated one, so it does not tell `present` there). Facts are named by
 * string ids, so facts beyond the fixed ones (a dirty bitmap's, dirtyFact) need no registry.
 */

export const UNKNOWN = -1;

export interface Fact {
  /** Stable id: 'present', 'zero', ...; a parameterised fact is `kind:NAME` (e.g. `dirty:b1`). */
  readonly id: string;
  /** Short words, as a column heading: "present in the chain". */
  readonly label: string;
  /** What yes (or the number) means, and which QEMU flag it is. */
  readonly description: string;
  /** Words for a value of this fact. */
  words(v: number): string;
}

/** What an interpretation tells about each byte (Interpretation extends this). */
export interface Meaning {
  /** The facts its values can tell, in a fixed order. */
  readonly facts: readonly Fact[];
  /**
   * The facts one value tells, in `facts` order, UNKNOWN where it does not. `hasHost`: the extent
   * carries a host offset (qemu-img map's "offset"), which the value alone does not encode.
   * Called once per distinct (value, hasHost) in a diff, never per cluster.
   */
  factsOf(value: number, hasHost: boolean): readonly number[];
}

const yesNo = (v: number): string => (v === UNKNOWN ? 'does not tell' : v ? 'yes' : 'no');

const flag = (id: string, label: string, description: string): Fact => ({
  id,
  label,
  description,
  words: yesNo,
});

/** BDRV_BLOCK_ALLOCATED after the chain walk: some layer owns the range (qemu-img map "present"). */
export const FACT_PRESENT = flag(
  'present',
  'present in the chain',
  'a layer of the backing chain owns the range (block status ALLOCATED; qemu-img map "present", allocation-depth not 0); no means attaching a deeper backing file could change what it reads',
);

/** The top layer itself owns the range (allocation-depth 1; qemu-img map present at depth 0). */
export const FACT_LOCAL = flag(
  'local',
  'allocated in this layer',
  'the top layer itself owns the range (qemu:allocation-depth 1; qemu-img map "present" at "depth" 0)',
);

/** The layer that owned the range, 0 = top (qemu-img map "depth"; allocation-depth minus 1). */
export const FACT_DEPTH: Fact = {
  id: 'depth',
  label: 'owning layer',
  description:
    'the layer whose answer decided the range, 0 = the top (qemu-img map "depth"; qemu:allocation-depth minus 1 where it is not 0)',
  words: (v) => (v === UNKNOWN ? 'does not tell' : `layer ${v}`),
};

/** BDRV_BLOCK_ZERO: the range reads as zeroes (qemu-img map "zero", NBD_STATE_ZERO, or content). */
export const FACT_ZERO = flag(
  'zero',
  'reads as zero',
  'the range reads as zeroes (block status ZERO: qemu-img map "zero", NBD_STATE_ZERO; or, for the content scan, its bytes)',
);

/** BDRV_BLOCK_DATA: host storage backs the range (qemu-img map "data"; NBD 6.0+ no HOLE). */
export const FACT_DATA = flag(
  'data',
  'has data in host storage',
  'the range is read from host storage, not synthesised (block status DATA: qemu-img map "data"; NBD 6.0+ base:allocation without HOLE)',
);

/** BDRV_BLOCK_OFFSET_VALID: the range has a known host offset (qemu-img map "offset"). */
export const FACT_OFFSET = flag(
  'offset',
  'has a host offset',
  'the range has a known offset in a host file (block status OFFSET_VALID: qemu-img map prints "offset")',
);

/** BDRV_BLOCK_COMPRESSED (QEMU 8.2+): the range is in a compressed cluster. */
export const FACT_COMPRESSED = flag(
  'compressed',
  'compressed',
  'the range lies in a compressed cluster (block status COMPRESSED, qemu-img map 8.2+ "compressed")',
);

/**
 * NBD_STATE_HOLE as the client receives it. One bit on the wire, two definitions: qemu-nbd 5.2
 * and older set it where no layer owns the range (not ALLOCATED), 6.0 and newer where no host
 * storage backs it (not DATA; commit 0da9856851). Only NBD base:allocation states it, so two
 * servers that send different bits for one range differ here even where the facts behind the
 * bits agree: that difference is what clients saw change (reference §5.2).
 */
export const FACT_HOLE = flag(
  'hole',
  'NBD HOLE bit',
  'the NBD_STATE_HOLE bit a client receives for the range (qemu-nbd 5.2 and older: not ALLOCATED; 6.0 and newer: not DATA)',
);

/** Facts that need no parameter, in the order reports list them. */
export const FIXED_FACTS: readonly Fact[] = [
  FACT_PRESENT,
  FACT_LOCAL,
  FACT_DEPTH,
  FACT_ZERO,
  FACT_DATA,
  FACT_OFFSET,
  FACT_COMPRESSED,
  FACT_HOLE,
];

export const bit = (b: boolean): number => (b ? 1 : 0);

/**
 * Dirty: the range was written (data, zeroes or a discard) while a persistent bitmap was enabled
 * (qemu:dirty-bitmap:NAME). One fact for every bitmap, so a diff of bitmap A against bitmap B
 * compares their bits ("dirty since checkpoint 1 but not since checkpoint 2"); the name is in
 * the words.
 */
export const dirtyFact = (name: string): Fact => ({
  id: 'dirty',
  label: `dirty in ${name}`,
  description: `the range's bit is set in persistent bitmap ${name} (written while it was enabled)`,
  words: yesNo,
});
