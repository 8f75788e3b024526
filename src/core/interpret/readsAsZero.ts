/**
 * "Reads as zero": content, not metadata. Over a status that went through the opt-in zero
 * scan (status/zeroScan.ts), every range is either known to read as zeroes — by metadata
 * (ZERO_PLAIN, ZERO_ALLOC, unallocated in the whole chain, past a short backing file, a raw
 * file's tail) or because its data bytes are all zero — or known to hold a non-zero byte.
 * Ranges the scan does not read (compressed clusters, external data files) and every data
 * range of an unscanned status are "not read": this view never guesses content.
 *
 * No QEMU tool prints this; it is the ground truth the other interpretations approximate
 * (QEMU's `"zero": true, "data": true` over host holes, reference §3.5).
 */
import { describeResolved, resolvedAt } from '../status/describe.ts';
import { BDRV_BLOCK_DATA, BDRV_BLOCK_ZERO } from '../status/flags.ts';
import { KIND_NORMAL, KIND_RAW_DATA } from '../status/kinds.ts';
import type { ChainStatus } from '../status/resolve.ts';
import {
  isZeroScanned,
  SCAN_ZERO_CONTENT,
  type ZeroScanOptions,
  zeroScan,
  zeroScanReport,
} from '../status/zeroScan.ts';
import { FACT_ZERO, UNKNOWN } from './facts.ts';
import { collapse, type Interpretation } from './interpretation.ts';

export const CONTENT_NONZERO = 0;
export const CONTENT_ZERO = 1;
export const CONTENT_ZERO_SCANNED = 2;
export const CONTENT_NOT_READ = 3;

const LABELS = ['non-zero', 'zero', 'zero (scanned)', 'not read'] as const;

/** Runs the zero scan (status/zeroScan.ts; the result knows it was scanned: isZeroScanned). */
export const zeroScanned = (st: ChainStatus, opts: ZeroScanOptions = {}): Promise<ChainStatus> =>
  zeroScan(st, opts);

export { isZeroScanned };

function contentValue(st: ChainStatus, i: number, wasScanned: boolean): number {
  const e = st.extents;
  const f = e.flags[i]!;
  const data = (f & BDRV_BLOCK_DATA) !== 0;
  // The scan read these bytes (or they lie past the end of the file) and found zeroes, whatever
  // QEMU's rule made of the flags (a raw hole, a data cluster with or without ZERO).
  if (f & SCAN_ZERO_CONTENT) return CONTENT_ZERO_SCANNED;
  if (f & BDRV_BLOCK_ZERO) return CONTENT_ZERO;
  if (!data) return CONTENT_ZERO; // not reached: a resolved extent has DATA or ZERO
  const k = e.kind[i]!;
  const layer = st.chain.layers[e.layer[i]!];
  const readable =
    (k === KIND_NORMAL || k === KIND_RAW_DATA) &&
    !(layer?.format === 'qcow2' && layer.dataFileName !== undefined);
  return wasScanned && readable ? CONTENT_NONZERO : CONTENT_NOT_READ;
}

/** What QEMU says over a host hole in this layer, given the scan's heuristic outcome. */
function holeWords(st: ChainStatus, layer: number): string {
  const l = st.chain.layers[layer];
  if (l?.format === 'raw')
    return 'on a sparse raw file QEMU sees a hole: "zero": true, "data": false (NBD 3 hole,zero)';
  const h = zeroScanReport(st)?.heuristics.find((x) => x.layer === layer);
  if (!h)
    return 'QEMU would say "zero": true, "data": true over a host hole if its metadata-preallocation heuristic fired';
  return h.fires
    ? `on a sparse copy QEMU's metadata-preallocation heuristic fires (${h.refcounted} refcounted clusters >= threshold ${h.threshold} from ${h.realClusters} allocated), so it says "zero": true, "data": true (NBD 2 zero)`
    : `on a sparse copy QEMU's metadata-preallocation heuristic does not fire (${h.refcounted < 0 ? 'a refcount could not be read' : `${h.refcounted} refcounted clusters < threshold ${h.threshold} from ${h.realClusters} allocated`}), so it still says "data": true, "zero": false`;
}

export const readsAsZero: Interpretation = {
  id: 'reads-as-zero',
  title: 'Reads as zero (content scan, opt-in)',
  legend: [
    {
      value: CONTENT_NONZERO,
      label: LABELS[0],
      description: 'data with a non-zero byte in this 4 KiB block',
    },
    { value: CONTENT_ZERO, label: LABELS[1], description: 'reads as zeroes by metadata alone' },
    { value: CONTENT_ZERO_SCANNED, label: LABELS[2], description: 'data clusters whose bytes are all zero' },
    {
      value: CONTENT_NOT_READ,
      label: LABELS[3],
      description: 'data not read (no scan, compressed, external data file)',
    },
  ],
  label: (v) => LABELS[v] ?? String(v),
  // Content, not block status: "zero" here is what the bytes read as; unread data tells nothing.
  facts: [FACT_ZERO],
  factsOf: (v) => [v === CONTENT_NOT_READ ? UNKNOWN : v === CONTENT_NONZERO ? 0 : 1],
  compute(st) {
    const s = isZeroScanned(st);
    return collapse(st.extents, (i) => contentValue(st, i, s), false);
  },
  explain(st, offset) {
    const r = resolvedAt(st, offset);
    if (!r) return describeResolved(st, offset);
    const wasScanned = isZeroScanned(st);
    const v = contentValue(st, r.index, wasScanned);
    const why =
      v === CONTENT_ZERO
        ? 'block status has ZERO without DATA: the metadata alone says it reads as zeroes'
        : v === CONTENT_ZERO_SCANNED
          ? `the zero scan read this data and found only zero bytes (or it lies past the end of its file); ${holeWords(st, r.layer)}`
          : v === CONTENT_NONZERO
            ? 'the zero scan read this data and found a non-zero byte in the 4 KiB block'
            : wasScanned
              ? 'the zero scan does not read compressed clusters or external data files'
              : 'the status was not zero-scanned, so data content is unknown';
    return `reads as zero: ${LABELS[v]}: ${why}. ${describeResolved(st, offset)}`;
  },
};
