/**
 * clusterscope nbd-map: what `nbdinfo --map[=CONTEXT]` prints against
 * `qemu-nbd -r -t -A [-B NAME] -f qcow2 FILE`, with the server semantics of the chosen QEMU release.
 * base:allocation and allocation depth are written while they are computed (status/stream.ts,
 * interpret/mapStream.ts), in bounded memory; a dirty bitmap's map is the bitmap's own runs.
 */
import { dirtyBitmap, loadDirtyBitmap } from '../../core/interpret/bitmap.ts';
import type { Interpretation } from '../../core/interpret/interpretation.ts';
import { MapStream } from '../../core/interpret/mapStream.ts';
import {
  allocationDepth,
  baseAllocation,
  formatNbdinfo,
  formatNbdinfoJson,
} from '../../core/interpret/nbd.ts';
import { NEWEST_RELEASE } from '../../core/interpret/qemuImgMap.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { oneFile, releaseOption, stderrHooks, streamStatus, withStatus } from './shared.ts';

const DIRTY_BITMAP_CONTEXT = 'qemu:dirty-bitmap:';

export async function runNbdMap(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(
    args,
    new Set(['context', 'qemu', 'snapshot', 'output', 'format', 'f']),
  );
  const context = options.get('context') ?? 'base:allocation';
  if (context === true) throw new UsageError('--context needs a context name');
  const release = releaseOption(options.get('qemu'), NEWEST_RELEASE);
  const bitmapName = context.startsWith(DIRTY_BITMAP_CONTEXT)
    ? context.slice(DIRTY_BITMAP_CONTEXT.length)
    : undefined;
  const fixed: Interpretation | undefined =
    context === 'base:allocation'
      ? baseAllocation(release)
      : context === 'qemu:allocation-depth'
        ? allocationDepth
        : undefined;
  if (!fixed && !bitmapName)
    throw new UsageError(
      `--context must be base:allocation, qemu:allocation-depth or qemu:dirty-bitmap:NAME, not '${context}'`,
    );
  const output = options.get('output') ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new UsageError(`--output must be text or json, not '${output}'`);
  const snapshot = options.get('snapshot');
  const format = options.get('format') ?? options.get('f');
  const req = {
    format: typeof format === 'string' ? format : undefined,
    path: oneFile(positionals, 'nbd-map'),
    noBacking: options.has('no-backing'),
    snapshot: typeof snapshot === 'string' ? snapshot : undefined,
    zeroScan: options.has('zero-scan'),
  };
  if (bitmapName !== undefined)
    return withStatus(req, async (st) => {
      const hooks = stderrHooks(io);
      for (const x of st.findings) hooks.onFinding(x);
      // qemu-nbd -B NAME: nbd_export_create() refuses a missing or inconsistent bitmap. The
      // bitmap's map never reads L2 tables: it is the bitmap's runs, bounded by the bitmap.
      const loaded = await loadDirtyBitmap(st.chain, bitmapName);
      if (!loaded) throw new UsageError(`Bitmap '${bitmapName}' is not found`);
      const interp = dirtyBitmap(loaded);
      const m = interp.compute(st);
      io.out(output === 'json' ? formatNbdinfoJson(m, interp.label) : formatNbdinfo(m, interp.label));
      return 0;
    });
  const stream = new MapStream(fixed!, output === 'json' ? 'nbdinfo-json' : 'nbdinfo', {
    write: (b) => io.out(b),
  });
  const r = await streamStatus(req, stream, { ...stderrHooks(io) });
  if (r.error) {
    stream.fail();
    io.err(`clusterscope: ${r.error.message}\n`);
    return 1;
  }
  stream.finish();
  return 0;
}
