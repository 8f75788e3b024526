/**
 * `qemu-img map` (qemu-img.c get_block_status(), entry_mergeable(), dump_map_entry()),
 * reference §4. Depth is 0-based: the index of the layer that answered. The field set depends
 * on the release: `present` since 6.1, `compressed` since 8.2.
 */

import { hostFileName } from '../chain/describe.ts';
import { decimal, escapeControls, hex } from '../format.ts';
import { describeResolved, resolvedAt } from '../status/describe.ts';
import {
  BDRV_BLOCK_ALLOCATED,
  BDRV_BLOCK_COMPRESSED,
  BDRV_BLOCK_DATA,
  BDRV_BLOCK_ZERO,
} from '../status/flags.ts';
import type { ChainStatus } from '../status/resolve.ts';
import { AsciiWriter, ascii } from './asciiWriter.ts';
import {
  bit,
  FACT_COMPRESSED,
  FACT_DATA,
  FACT_DEPTH,
  FACT_LOCAL,
  FACT_OFFSET,
  FACT_PRESENT,
  FACT_ZERO,
  UNKNOWN,
} from './facts.ts';
import { qemuImgMapId } from './ids.ts';
import { collapseBy, type Interpretation, type Interpreted } from './interpretation.ts';
import { QEMU_6_1, QEMU_8_2, QEMU_NEWEST, releaseName } from './releases.ts';

export const RELEASE_PRESENT = QEMU_6_1;
export const RELEASE_COMPRESSED = QEMU_8_2;
export const NEWEST_RELEASE = QEMU_NEWEST;

/** Bits of an interpreted value; the depth sits above them. */
export const MAP_DATA = 1;
export const MAP_ZERO = 2;
export const MAP_PRESENT = 4;
export const MAP_COMPRESSED = 8;
export const MAP_DEPTH_SHIFT = 8;

export interface MapEntry {
  start: number;
  length: number;
  depth: number;
  present?: boolean;
  zero: boolean;
  data: boolean;
  compressed?: boolean;
  offset?: number;
}

/** " in data.raw" where the layer keeps its data in an external data file (qemu-img's "File" column). */
const inFile = (st: ChainStatus, layer: number): string => {
  const l = st.chain.layers[layer];
  return l && hostFileName(l) !== l.name ? ` in ${hostFileName(l)}` : '';
};

/** The value of a resolved extent (its flags and deciding layer) in qemu-img map of `release`. */
export function mapValue(f: number, layer: number, release: number): number {
  return (
    ((f & BDRV_BLOCK_DATA ? MAP_DATA : 0) |
      (f & BDRV_BLOCK_ZERO ? MAP_ZERO : 0) |
      (release >= RELEASE_PRESENT && f & BDRV_BLOCK_ALLOCATED ? MAP_PRESENT : 0) |
      (release >= RELEASE_COMPRESSED && f & BDRV_BLOCK_COMPRESSED ? MAP_COMPRESSED : 0) |
      (layer << MAP_DEPTH_SHIFT)) >>>
    0
  );
}

export function qemuImgMap(release = NEWEST_RELEASE): Interpretation {
  const hasPresent = release >= RELEASE_PRESENT;
  const hasCompressed = release >= RELEASE_COMPRESSED;
  const extentValue = (flags: number, layer: number) => mapValue(flags, layer, release);
  const label = (v: number) =>
    [
      `depth ${v >>> MAP_DEPTH_SHIFT}`,
      ...(hasPresent ? [v & MAP_PRESENT ? 'present' : 'absent'] : []),
      v & MAP_DATA ? 'data' : '',
      v & MAP_ZERO ? 'zero' : '',
      v & MAP_COMPRESSED ? 'compressed' : '',
    ]
      .filter(Boolean)
      .join(', ');
  /**
   * Every field is a fact. Before 6.1 there is no "present": "data" implies it (DATA makes the
   * generic layer add ALLOCATED, reference §3.6), but `"zero": true` alone is printed the same
   * for a zero cluster the layer owns and for a range no layer owns, so there it is unknown.
   */
  const factsOf = (v: number, hasHost: boolean): number[] => {
    const depth = v >>> MAP_DEPTH_SHIFT;
    const data = (v & MAP_DATA) !== 0;
    const present = hasPresent ? bit((v & MAP_PRESENT) !== 0) : data ? 1 : UNKNOWN;
    // A depth above 0 means the top answered neither DATA nor ZERO: it does not own the range.
    const local = depth > 0 ? 0 : present === UNKNOWN ? UNKNOWN : present;
    return [
      depth,
      present,
      local,
      bit((v & MAP_ZERO) !== 0),
      bit(data),
      bit(hasHost),
      ...(hasCompressed ? [bit((v & MAP_COMPRESSED) !== 0)] : []),
    ];
  };
  return {
    id: qemuImgMapId(release),
    title: `qemu-img map (QEMU ${releaseName(release)})`,
    facts: [
      FACT_DEPTH,
      FACT_PRESENT,
      FACT_LOCAL,
      FACT_ZERO,
      FACT_DATA,
      FACT_OFFSET,
      ...(hasCompressed ? [FACT_COMPRESSED] : []),
    ],
    factsOf,
    legend: [
      {
        value: MAP_DATA | MAP_PRESENT,
        label: 'data',
        description: '"data": true: read from host storage at "offset"',
      },
      {
        value: MAP_ZERO | MAP_PRESENT,
        label: 'zero',
        description: '"zero": true: reads as zeroes, owned by the layer at "depth"',
      },
      ...(hasPresent
        ? [
            {
              value: MAP_ZERO,
              label: 'absent',
              description: '"present": false: found in no layer; reads as zero',
            },
          ]
        : []),
      ...(hasCompressed
        ? [
            {
              value: MAP_DATA | MAP_PRESENT | MAP_COMPRESSED,
              label: 'compressed',
              description: '"compressed": true (8.2+)',
            },
          ]
        : []),
    ],
    label,
    extentValue,
    keepsHost: true,
    compute: (st) => collapseBy(st.extents, extentValue, true),
    explain(st, offset) {
      const r = resolvedAt(st, offset);
      if (!r) return describeResolved(st, offset);
      const f = r.flags;
      const fields = [
        `"depth": ${r.layer}`,
        ...(hasPresent ? [`"present": ${(f & BDRV_BLOCK_ALLOCATED) !== 0}`] : []),
        `"zero": ${(f & BDRV_BLOCK_ZERO) !== 0}`,
        `"data": ${(f & BDRV_BLOCK_DATA) !== 0}`,
        ...(hasCompressed ? [`"compressed": ${(f & BDRV_BLOCK_COMPRESSED) !== 0}`] : []),
        ...(r.host >= 0 ? [`"offset": ${decimal(r.host)} (${hex(r.host)}${inFile(st, r.layer)})`] : []),
      ];
      const depthWhy =
        r.layer === 0
          ? 'depth 0: the top answered with DATA or ZERO'
          : `depth ${r.layer}: qemu-img map walks down until a layer answers DATA or ZERO, and ${r.layerName} did`;
      return `qemu-img map ${releaseName(release)}: ${fields.join(', ')}. ${describeResolved(st, offset)} ${depthWhy}.`;
    },
  };
}

/** The interpretation's extents as qemu-img map's JSON objects, in qemu-img's member order. */
export function mapEntries(m: Interpreted, release = NEWEST_RELEASE): MapEntry[] {
  const out: MapEntry[] = [];
  for (let i = 0; i < m.count; i++) {
    const v = m.value[i]!;
    const e: MapEntry = {
      start: m.start[i]!,
      length: m.length[i]!,
      depth: v >>> MAP_DEPTH_SHIFT,
      zero: false,
      data: false,
    };
    // Rebuild in member order: start, length, depth, [present], zero, data, [compressed], [offset].
    const o: MapEntry = { start: e.start, length: e.length, depth: e.depth } as MapEntry;
    if (release >= RELEASE_PRESENT) o.present = (v & MAP_PRESENT) !== 0;
    o.zero = (v & MAP_ZERO) !== 0;
    o.data = (v & MAP_DATA) !== 0;
    if (release >= RELEASE_COMPRESSED) o.compressed = (v & MAP_COMPRESSED) !== 0;
    if (m.host[i]! >= 0) o.offset = m.host[i]!;
    out.push(o);
  }
  return out;
}

const J_START = ascii('{ "start": ');
const J_LENGTH = ascii(', "length": ');
const J_DEPTH = ascii(', "depth": ');
const J_PRESENT = [ascii(', "present": false'), ascii(', "present": true')] as const;
const J_ZERO = [ascii(', "zero": false'), ascii(', "zero": true')] as const;
const J_DATA = [ascii(', "data": false'), ascii(', "data": true')] as const;
const J_COMPRESSED = [ascii(', "compressed": false'), ascii(', "compressed": true')] as const;
const J_OFFSET = ascii(', "offset": ');
const J_CLOSE = ascii('}');
const J_SEP = ascii(',\n');
const J_OPEN = ascii('[');
const J_END = ascii(']\n');

/**
 * qemu-img map --output=json, entry by entry (dump_map_entry() OFORMAT_JSON, reference §4.2):
 * each entry is followed by ",\n" when another follows, the array closed by end(). Writes into
 * an AsciiWriter straight from the numbers: no object or string per entry. The streamed map
 * (mapStream.ts) and formatMapJsonBytes() both write through it.
 */
export class MapJsonWriter {
  private readonly present: boolean;
  private readonly compressed: boolean;
  constructor(
    readonly w: AsciiWriter,
    release = NEWEST_RELEASE,
  ) {
    this.present = release >= RELEASE_PRESENT;
    this.compressed = release >= RELEASE_COMPRESSED;
  }

  begin(): void {
    this.w.bytes(J_OPEN);
  }

  entry(start: number, length: number, v: number, host: number, last: boolean): void {
    const w = this.w;
    w.bytes(J_START)
      .uint(start)
      .bytes(J_LENGTH)
      .uint(length)
      .bytes(J_DEPTH)
      .uint(v >>> MAP_DEPTH_SHIFT);
    if (this.present) w.bytes(J_PRESENT[v & MAP_PRESENT ? 1 : 0]);
    w.bytes(J_ZERO[v & MAP_ZERO ? 1 : 0]).bytes(J_DATA[v & MAP_DATA ? 1 : 0]);
    if (this.compressed) w.bytes(J_COMPRESSED[v & MAP_COMPRESSED ? 1 : 0]);
    if (host >= 0) w.bytes(J_OFFSET).uint(host);
    w.bytes(J_CLOSE);
    if (!last) w.bytes(J_SEP);
  }

  /**
   * Closes the array after `count` entries. With none, the loop never ran and qemu-img prints
   * its initial zero-length entry at `start` (reference §4.5).
   */
  end(count: number, start = 0): void {
    if (count === 0) this.entry(start, 0, 0, -1, true);
    this.w.bytes(J_END);
  }
}

/** qemu-img map --output=json text, byte for byte (reference §4.2), as ASCII bytes. */
export function formatMapJsonBytes(m: Interpreted, release = NEWEST_RELEASE, start = 0): Uint8Array {
  const jw = new MapJsonWriter(new AsciiWriter(m.count * 96 + 128), release);
  jw.begin();
  for (let i = 0; i < m.count; i++)
    jw.entry(m.start[i]!, m.length[i]!, m.value[i]!, m.host[i]!, i === m.count - 1);
  jw.end(m.count, start);
  return jw.w.result();
}

/** qemu-img map --output=json text (see formatMapJsonBytes). */
export const formatMapJson = (m: Interpreted, release = NEWEST_RELEASE, start = 0): string =>
  new TextDecoder().decode(formatMapJsonBytes(m, release, start));

/** The words qemu-img map (human) stops with at an entry that has data but no offset. */
export const HUMAN_MAP_NO_OFFSET = 'File contains external, encrypted or compressed clusters.';

export interface HumanMapResult {
  readonly text: string;
  /** Set when qemu-img would stop: "File contains external, encrypted or compressed clusters." */
  readonly error?: string;
}

/**
 * qemu-img map's human output, entry by entry (dump_map_entry() OFORMAT_HUMAN, reference
 * §4.4): only data && !zero entries are printed, and an entry with data but no offset stops
 * the output (`error` is then set and later entries are ignored). `fileName(layer)` gives the
 * name qemu-img prints for the file that holds a layer's data, as the caller wants it shown.
 */
export class MapHumanWriter {
  error?: string;
  private readonly names: Uint8Array[] = [];
  constructor(
    readonly w: AsciiWriter,
    private readonly fileName: (layer: number) => string,
  ) {}

  begin(): void {
    this.w.text(`${'Offset'.padEnd(16)}${'Length'.padEnd(16)}${'Mapped to'.padEnd(16)}File\n`);
  }

  entry(start: number, length: number, v: number, host: number, layer: number): void {
    if (this.error !== undefined) return;
    const data = (v & MAP_DATA) !== 0;
    if (data && host < 0) {
      this.error = HUMAN_MAP_NO_OFFSET;
      return;
    }
    // Entries qemu-img rewrites to zero-only before merging (not data, or zero) are never
    // printed; the rewrite changes only how unprinted runs merge.
    // printf("%#-16"PRIx64"%#-16"PRIx64"%#-16"PRIx64"%s\n", start, length, offset, filename)
    if (data && !(v & MAP_ZERO))
      this.w.hexColumn(start).hexColumn(length).hexColumn(host).bytes(this.name(layer));
  }

  /**
   * The file name and newline, encoded once per layer. The name comes from the image (a backing
   * or data-file name): one line whatever it says.
   */
  private name(layer: number): Uint8Array {
    let n = this.names[layer];
    if (n === undefined) {
      n = new TextEncoder().encode(`${escapeControls(this.fileName(layer))}\n`);
      this.names[layer] = n;
    }
    return n;
  }
}

/**
 * qemu-img map's human output for a computed map. qemu-img prints an entry once the next,
 * unmergeable one is known; when a later query fails the pending entry is never printed
 * (reference §4.6), hence `stoppedByError`.
 */
export function formatMapHuman(
  m: Interpreted,
  fileName: (layer: number) => string,
  stoppedByError = false,
): HumanMapResult {
  const hw = new MapHumanWriter(new AsciiWriter(), fileName);
  hw.begin();
  const printable = stoppedByError ? m.count - 1 : m.count;
  for (let i = 0; i < printable && hw.error === undefined; i++) {
    hw.entry(m.start[i]!, m.length[i]!, m.value[i]!, m.host[i]!, m.layer[i]!);
  }
  const text = new TextDecoder().decode(hw.w.result());
  return hw.error === undefined ? { text } : { text, error: hw.error };
}
