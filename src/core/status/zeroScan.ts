/**
 * The opt-in content scan. QEMU also asks the host file system whether a data cluster sits in
 * a hole (SEEK_HOLE, via the metadata-preallocation heuristic, reference §3.5) and then adds
 * ZERO, giving `"zero": true, "data": true`. File contents cannot show holes, but an all-zero
 * range is what a hole reads as, so this scan reads the data and marks all-zero blocks
 * DATA|ZERO. It reads guest data (not just metadata), so it is never on by default.
 */
import type { Finding } from '../findings.ts';
import { MAX_READ_BYTES } from '../limits.ts';
import { ExtentBuilder } from './extents.ts';
import { BDRV_BLOCK_DATA, BDRV_BLOCK_OFFSET_VALID, BDRV_BLOCK_ZERO } from './flags.ts';
import { KIND_NORMAL, KIND_RAW_DATA } from './kinds.ts';
import type { Cancellation } from './layerStatus.ts';
import { CancelledError } from './layerStatus.ts';
import type { ChainStatus } from './resolve.ts';

/** Granularity of the scan: a host file-system block (ext4, xfs), the unit SEEK_HOLE reports in. */
export const ZERO_SCAN_BLOCK = 4096;

export interface ZeroScanOptions {
  readonly signal?: Cancellation;
  readonly onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

const isZero = (b: Uint8Array, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
};

export async function zeroScan(st: ChainStatus, opts: ZeroScanOptions = {}): Promise<ChainStatus> {
  const e = st.extents;
  const out = new ExtentBuilder(st.chain.layers[0]!.name);
  const findings: Finding[] = [...st.findings];
  const scannable = (i: number) =>
    (e.kind[i] === KIND_NORMAL || e.kind[i] === KIND_RAW_DATA) &&
    (e.flags[i]! & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID)) ===
      (BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
  let total = 0;
  for (let i = 0; i < e.count; i++) if (scannable(i)) total += e.length[i]!;
  let done = 0;
  for (let i = 0; i < e.count; i++) {
    const [start, len, kind, flags, layer, host] = [
      e.start[i]!,
      e.length[i]!,
      e.kind[i]!,
      e.flags[i]!,
      e.layer[i]!,
      e.host[i]!,
    ];
    const l = st.chain.layers[layer]!;
    if (!scannable(i) || (l.format === 'qcow2' && l.dataFileName !== undefined)) {
      if (scannable(i))
        findings.push({ file: l.name, structure: 'external data file', message: 'not read by --zero-scan' });
      out.push(start, len, kind, flags, layer, host);
      continue;
    }
    for (let off = 0; off < len; off += MAX_READ_BYTES) {
      if (opts.signal?.aborted) throw new CancelledError('cancelled');
      const n = Math.min(MAX_READ_BYTES, len - off);
      const bytes = await l.source.read(host + off, n);
      // Block boundaries follow the host offset, as host file-system blocks do.
      let p = 0;
      while (p < n) {
        const q = Math.min(n, p + ZERO_SCAN_BLOCK - ((host + off + p) % ZERO_SCAN_BLOCK));
        // Bytes past the end of the file read as zeroes in QEMU (file-posix pads short reads).
        const zero = p >= bytes.length || isZero(bytes, p, Math.min(q, bytes.length));
        out.push(start + off + p, q - p, kind, zero ? flags | BDRV_BLOCK_ZERO : flags, layer, host + off + p);
        p = q;
      }
      done += n;
      opts.onProgress?.(done, total);
    }
  }
  return { ...st, extents: out.finish(), findings };
}
