/**
 * Every interpretation clusterscope offers, under a stable URL-safe id (letters, digits, '.',
 * '-': unreserved in RFC 3986, so an id needs no escaping in a URL and never contains the '@'
 * and ',' of the `INTERP@VIEW` syntax, viewSource.ts). The UI's pickers, the URL state and the
 * CLI's `diff --a/--b` all name interpretations by these ids; an id, once shipped, never changes
 * meaning.
 *
 * Provenance says how far to trust a view: `recorded` ones are tested against real QEMU output
 * (fixtures/golden), `derived` ones against the reference's rules for releases no QEMU here
 * runs, `proposed` ones against the mailing-list postings quoted in the reference.
 */
import type { Interpretation } from './interpretation.ts';
import { allocationDepth, baseAllocation } from './nbd.ts';
import { holeFromOffsetValid, jointAllocation } from './proposals.ts';
import { qemuImgMap } from './qemuImgMap.ts';
import { readsAsZero } from './readsAsZero.ts';
import { QEMU_5_2, QEMU_6_0, QEMU_7_2, QEMU_8_2 } from './releases.ts';
import { writtenInTop } from './topAllocation.ts';

export type Provenance =
  | 'recorded'
  | 'derived'
  | 'proposed, not merged'
  | 'proposed, never merged'
  | 'content';

/** Text forms a user can paste beside a real tool's output (native.ts). */
export type NativeFormat = 'qemu-img-map-json' | 'qemu-img-map-human' | 'nbdinfo' | 'nbdinfo-json';

export interface CatalogueEntry {
  readonly id: string;
  /** The interpretation, its `id` equal to the entry's. */
  readonly interpretation: Interpretation;
  readonly provenance: Provenance;
  /** Where the expectations come from, in words (a reference section or the goldens). */
  readonly basis: string;
  /** For qemu-img map: the release whose field set the native JSON uses (major * 1000 + minor). */
  readonly release?: number;
  readonly nativeFormats: readonly NativeFormat[];
  /** The view only means something over a zero-scanned status (viewSource.ts `zero-scan`). */
  readonly needsZeroScan: boolean;
}

const MAP: readonly NativeFormat[] = ['qemu-img-map-json', 'qemu-img-map-human'];
const NBD: readonly NativeFormat[] = ['nbdinfo', 'nbdinfo-json'];

const entry = (
  i: Interpretation,
  provenance: Provenance,
  basis: string,
  nativeFormats: readonly NativeFormat[],
  extra: { release?: number; needsZeroScan?: boolean } = {},
): CatalogueEntry => ({
  id: i.id,
  interpretation: i,
  provenance,
  basis,
  nativeFormats,
  needsZeroScan: extra.needsZeroScan ?? false,
  ...(extra.release !== undefined && { release: extra.release }),
});

export const CATALOGUE: readonly CatalogueEntry[] = [
  entry(
    qemuImgMap(QEMU_6_0),
    'derived',
    'qemu-img map 1.7-6.0 field set (no "present"), reference §4.2',
    MAP,
    { release: QEMU_6_0 },
  ),
  entry(
    qemuImgMap(QEMU_7_2),
    'recorded',
    'qemu-img map 6.1-8.1, recorded from QEMU 7.2 (fixtures/golden map.json)',
    MAP,
    { release: QEMU_7_2 },
  ),
  entry(qemuImgMap(QEMU_8_2), 'derived', 'qemu-img map 8.2+ ("compressed" added), reference §4.2', MAP, {
    release: QEMU_8_2,
  }),
  entry(
    baseAllocation(QEMU_6_0),
    'recorded',
    'qemu-nbd 6.0+ base:allocation, recorded from qemu-nbd 7.2 + nbdinfo 1.14 (fixtures/golden nbd-base.txt)',
    NBD,
  ),
  entry(
    baseAllocation(QEMU_5_2),
    'derived',
    'qemu-nbd 5.2 and older: HOLE = not ALLOCATED, reference §5.2',
    NBD,
  ),
  entry(
    holeFromOffsetValid,
    'proposed, not merged',
    'June 2021 proposal: HOLE = OFFSET_VALID ? !DATA : !ALLOCATED (issue 4; patch rejected, reference §5.2)',
    NBD,
  ),
  entry(
    allocationDepth,
    'recorded',
    'qemu:allocation-depth, recorded from qemu-nbd 7.2 -A + nbdinfo 1.14 (fixtures/golden nbd-depth.txt)',
    NBD,
  ),
  entry(
    jointAllocation,
    'proposed, never merged',
    'qemu:joint-allocation, Eric Blake 9 June 2021, dropped 14 June 2021, reference §5.3',
    NBD,
  ),
  entry(
    writtenInTop,
    'derived',
    'qemu:allocation-depth 1 (recorded, fixtures/golden nbd-depth.txt) read as "written since the top layer was made", to set against a dirty bitmap',
    [],
  ),
  entry(
    readsAsZero,
    'content',
    'the opt-in zero scan: data clusters read and all-zero 4 KiB blocks marked (status/zeroScan.ts)',
    [],
    { needsZeroScan: true },
  ),
];

export const CATALOGUE_IDS: readonly string[] = CATALOGUE.map((e) => e.id);

export const catalogueEntry = (id: string): CatalogueEntry | undefined => CATALOGUE.find((e) => e.id === id);
