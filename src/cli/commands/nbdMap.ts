/**
 * clusterscope nbd-map: what `nbdinfo --map[=CONTEXT]` prints against
 * `qemu-nbd -r -t -A -f qcow2 FILE`, with the server semantics of the chosen QEMU release.
 * Written while it is computed (status/stream.ts, interpret/mapStream.ts), in bounded memory.
 */
import { MapStream } from '../../core/interpret/mapStream.ts';
import { allocationDepth, baseAllocation } from '../../core/interpret/nbd.ts';
import { NEWEST_RELEASE } from '../../core/interpret/qemuImgMap.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { oneFile, releaseOption, stderrHooks, streamStatus } from './shared.ts';

export async function runNbdMap(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(
    args,
    new Set(['context', 'qemu', 'snapshot', 'output', 'format', 'f']),
  );
  const context = options.get('context') ?? 'base:allocation';
  const release = releaseOption(options.get('qemu'), NEWEST_RELEASE);
  const interp =
    context === 'base:allocation'
      ? baseAllocation(release)
      : context === 'qemu:allocation-depth'
        ? allocationDepth
        : undefined;
  if (!interp)
    throw new UsageError(`--context must be base:allocation or qemu:allocation-depth, not '${context}'`);
  const output = options.get('output') ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new UsageError(`--output must be text or json, not '${output}'`);
  const snapshot = options.get('snapshot');
  const format = options.get('format') ?? options.get('f');
  const stream = new MapStream(interp, output === 'json' ? 'nbdinfo-json' : 'nbdinfo', {
    write: (b) => io.out(b),
  });
  const r = await streamStatus(
    {
      format: typeof format === 'string' ? format : undefined,
      path: oneFile(positionals, 'nbd-map'),
      noBacking: options.has('no-backing'),
      snapshot: typeof snapshot === 'string' ? snapshot : undefined,
      zeroScan: options.has('zero-scan'),
    },
    stream,
    {
      ...stderrHooks(io),
    },
  );
  if (r.error) {
    stream.fail();
    io.err(`clusterscope: ${r.error.message}\n`);
    return 1;
  }
  stream.finish();
  return 0;
}
