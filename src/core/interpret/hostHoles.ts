/**
 * Where QEMU on the original host could answer differently from a dense copy (issue 11.3): the
 * parts of a chain that may sit on host holes, which a browser File cannot show. For an opened
 * chain's status it names, per layer and per rule, the guest ranges, what QEMU would likely
 * answer there instead (in words), and what the content scan (status/zeroScan.ts) would read
 * to find out. The page shows it beside the map; nothing here reads file data.
 *
 * The rules (reference §3.5, §3.8; tested against QEMU on sparse files in zeroScan.test.ts):
 *  - raw layer: a hole is `"zero": true, "data": false` with its offset (NBD `3 hole,zero`);
 *  - qcow2 data cluster: over a hole, `"zero": true, "data": true` (NBD `2 zero`), but only if
 *    the metadata-preallocation heuristic fires for that file; otherwise still data;
 *  - data cluster past the end of its file: it reads as zeroes; QEMU says data, or
 *    `"zero": true, "data": true` when the heuristic fires.
 */
import { BDRV_BLOCK_DATA, BDRV_BLOCK_OFFSET_VALID, BDRV_BLOCK_ZERO } from '../status/flags.ts';
import {
  KIND_NORMAL,
  KIND_RAW_DATA,
  KIND_UNALLOCATED_ALLOC,
  KIND_UNALLOCATED_PLAIN,
  KIND_ZERO_PLAIN,
} from '../status/kinds.ts';
import type { ChainStatus } from '../status/resolve.ts';
import { planZeroScan, type ZeroScanPlan } from '../status/zeroScan.ts';

export type HostHoleRule = 'raw-hole' | 'qcow2-data' | 'past-eof';

/** One layer's ranges under one rule. */
export interface HostHoleExposure {
  readonly rule: HostHoleRule;
  readonly layer: number;
  /** The layer's name, and the file its bytes are in (an external data file, or the layer itself). */
  readonly layerName: string;
  readonly file: string;
  /** Guest ranges, ascending and disjoint, merged where adjacent. */
  readonly count: number;
  readonly start: Float64Array;
  readonly length: Float64Array;
  readonly bytes: number;
  /** What clusterscope says there without a scan, and what QEMU on the original host would likely say. */
  readonly clusterscopeSays: string;
  readonly qemuWould: string;
  /** Whether the difference is likely (see `why`), not only possible. */
  readonly likely: boolean;
  readonly why: string;
}

export interface HostHoleReport {
  readonly exposures: readonly HostHoleExposure[];
  /** Guest bytes under any rule. */
  readonly bytes: number;
  /** What a content scan would read (bytes for certain, at most maxExtraBytes more). */
  readonly scan: ZeroScanPlan;
  /** One sentence for the page's banner; '' when nothing may differ. */
  readonly summary: string;
}

class RunList {
  start: number[] = [];
  length: number[] = [];
  bytes = 0;
  add(s: number, len: number): void {
    const n = this.start.length;
    this.bytes += len;
    if (n && this.start[n - 1]! + this.length[n - 1]! === s) this.length[n - 1]! += len;
    else {
      this.start.push(s);
      this.length.push(len);
    }
  }
}

/**
 * Whether every guest cluster of a qcow2 layer has a host cluster of its own, as
 * `preallocation=metadata` (or falloc/full) leaves an image: the case where QEMU's heuristic
 * is meant to fire.
 */
function preallocated(st: ChainStatus, layer: number): boolean {
  const ls = st.layerStatus[layer];
  if (!ls || ls.extents.count === 0) return false;
  const e = ls.extents;
  for (let i = 0; i < e.count; i++) {
    const k = e.kind[i]!;
    if (k === KIND_UNALLOCATED_PLAIN || k === KIND_ZERO_PLAIN || k === KIND_UNALLOCATED_ALLOC) return false;
  }
  return true;
}

export function hostHoleReport(st: ChainStatus): HostHoleReport {
  const layers = st.chain.layers;
  const e = st.extents;
  const lists = new Map<string, { rule: HostHoleRule; layer: number; runs: RunList }>();
  const listFor = (rule: HostHoleRule, layer: number) => {
    const key = `${rule}:${layer}`;
    let l = lists.get(key);
    if (!l) {
      l = { rule, layer, runs: new RunList() };
      lists.set(key, l);
    }
    return l.runs;
  };
  for (let i = 0; i < e.count; i++) {
    const f = e.flags[i]!;
    const k = e.kind[i]!;
    // QEMU looks at the host file only for data with an offset (BDRV_BLOCK_RECURSE needs
    // OFFSET_VALID; file-posix answers for raw bytes); compressed and encrypted data never.
    if (
      (f & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID)) !==
      (BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID)
    )
      continue;
    if (k !== KIND_NORMAL && k !== KIND_RAW_DATA) continue;
    const li = e.layer[i]!;
    const l = layers[li]!;
    const s = e.start[i]!;
    const len = e.length[i]!;
    if (l.format === 'raw') {
      listFor('raw-hole', li).add(s, len);
      continue;
    }
    if (l.dataFileName !== undefined) {
      // The data file's size is not known here unless it was opened; its holes are what matter.
      listFor('qcow2-data', li).add(s, len);
      continue;
    }
    const size = l.source.size;
    const h = e.host[i]!;
    const inFile = Math.max(0, Math.min(len, size - h));
    if (inFile > 0) listFor('qcow2-data', li).add(s, inFile);
    if (inFile < len) listFor('past-eof', li).add(s + inFile, len - inFile);
  }

  const exposures: HostHoleExposure[] = [];
  for (const { rule, layer, runs } of lists.values()) {
    const l = layers[layer]!;
    const file =
      l.format === 'qcow2' && l.dataFileName !== undefined
        ? `${l.dataFileName} (data file of ${l.name})`
        : l.name;
    const pre = l.format === 'qcow2' && preallocated(st, layer);
    let qemuWould: string;
    let likely: boolean;
    let why: string;
    if (rule === 'raw-hole') {
      qemuWould = `where ${l.name} has holes, "zero": true, "data": false with the offset (NBD 3 hole,zero)`;
      likely = true;
      why = `raw files are often sparse (made with truncate or qemu-img create -f raw, or copied sparse); file-posix reports every hole (reference §3.8)`;
    } else if (rule === 'qcow2-data') {
      qemuWould = `where ${file} has holes, "zero": true, "data": true (NBD 2 zero), if QEMU's metadata-preallocation heuristic fires for ${l.name}; otherwise data, as here`;
      likely = pre;
      why = pre
        ? `every guest cluster of ${l.name} has a host cluster, as preallocation=metadata leaves an image, whose file is sparse until written: the heuristic was made for this case (reference §3.5, §6.7)`
        : `the heuristic fires only when the file has few allocated blocks for its refcounted clusters (preallocated images, small images whose metadata clusters are holes); ${l.name} does not look preallocated`;
    } else {
      qemuWould = `data (these clusters lie past the end of ${l.name} and read as zeroes), or "zero": true, "data": true (NBD 2 zero) if the heuristic fires`;
      likely = false;
      why = `QEMU reads zeroes past the end of a file (reference §6.9); whether it says so depends on the heuristic, which a sparse copy of a small image usually trips`;
    }
    exposures.push({
      rule,
      layer,
      layerName: l.name,
      file,
      count: runs.start.length,
      start: Float64Array.from(runs.start),
      length: Float64Array.from(runs.length),
      bytes: runs.bytes,
      clusterscopeSays: '"data": true, "zero": false (NBD 0 data)',
      qemuWould,
      likely,
      why,
    });
  }
  exposures.sort((a, b) => a.layer - b.layer || a.rule.localeCompare(b.rule));
  const bytes = exposures.reduce((s, x) => s + x.bytes, 0);
  const scan = planZeroScan(st);
  const summary = exposures.length
    ? `${exposures.some((x) => x.likely) ? 'QEMU on the original host likely answers' : 'QEMU on the original host may answer'} differently for ${bytes} bytes that may sit on host holes (${[
        ...new Set(exposures.map((x) => x.file)),
      ].join(', ')}), which a copy of the file cannot show; a content scan reads ${scan.bytes} bytes${
        scan.maxExtraBytes ? ` (at most ${scan.maxExtraBytes} more)` : ''
      } to emulate them.`
    : '';
  return { exposures, bytes, scan, summary };
}
