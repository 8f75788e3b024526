/**
 * `qemu-img compare` of two opened images in the worker (core/compare): first what it reads,
 * without reading (planCompare), then every differing range, reading guest data only where
 * block status says it must, with progress and cancel; qemu-img's own lines come from the first
 * differing range, which is where img_compare() stops (both walk the same plan in order).
 */
import {
  COMPARE_SECTOR,
  type CompareResult as CoreCompareResult,
  compareReport,
  differingRanges,
  planCompare,
} from '../core/compare/compare.ts';
import type { ComparePlan, CompareResult } from '../protocol/results.ts';
import type { ImageSource } from './imageSource.ts';
import { SourceError } from './source.ts';

const complete = (s: ImageSource, tag: string) => {
  if (!s.info().complete) throw new SourceError(`image ${tag} is still opening`);
  return s.status;
};

export async function comparePlanOf(a: ImageSource, b: ImageSource): Promise<ComparePlan> {
  const sa = complete(a, 'A');
  const sb = complete(b, 'B');
  const plan = await planCompare(sa, sb);
  return { bytes: plan.bytes, lengths: [sa.length, sb.length] };
}

export async function compareSources(
  a: ImageSource,
  b: ImageSource,
  signal: AbortSignal,
  progress: (done: number, total: number) => void,
): Promise<CompareResult> {
  const sa = complete(a, 'A');
  const sb = complete(b, 'B');
  const plan = await planCompare(sa, sb);
  const total = plan.bytes[0] + plan.bytes[1];
  progress(0, total);
  const sizeWarning = sa.length !== sb.length;
  const tailStart = Math.min(sa.length, sb.length);
  try {
    const r = await differingRanges(sa, sb, { signal, onRead: (done) => progress(done, total) });
    const first = r.count ? r.start[0]! : -1;
    const core: CoreCompareResult = {
      outcome:
        first < 0
          ? { kind: 'identical' }
          : { kind: 'content-mismatch', offset: first - (first % COMPARE_SECTOR) },
      sizeWarning,
      tailStart,
      bytesRead: r.bytesRead,
    };
    const { lines, exit } = compareReport(core);
    return {
      lines,
      exit,
      count: r.count,
      start: r.start,
      length: r.length,
      bytes: r.bytes,
      bytesRead: r.bytesRead,
    };
  } catch (e) {
    // Block status failed on a side: qemu-img compare says so and exits 3 (compareReport()).
    if (!(e instanceof Error) || (e as { kind?: string }).kind === undefined) throw e;
    const side = plan.stopsAt === 1 ? 'B' : 'A';
    return {
      lines: [],
      exit: 3,
      count: 0,
      start: new Float64Array(0),
      length: new Float64Array(0),
      bytes: 0,
      bytesRead: [0, 0],
      error: `QEMU stops reading ${side}: ${e.message}`,
    };
  }
}
