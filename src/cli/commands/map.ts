/**
 * clusterscope map: qemu-img map, from the same engine as the inspector.
 * JSON equals `qemu-img map --output=json` of the chosen release; human equals `qemu-img map`.
 * The map is written while it is computed (status/stream.ts, interpret/mapStream.ts), so a
 * map of any number of extents needs the same few MiB, as qemu-img's does.
 */
import type { Chain } from '../../core/chain/chain.ts';
import { MapStream } from '../../core/interpret/mapStream.ts';
import { NEWEST_RELEASE, qemuImgMap } from '../../core/interpret/qemuImgMap.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { dataFileName, oneFile, releaseOption, stderrHooks, streamStatus } from './shared.ts';

export async function runMap(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['output', 'qemu', 'snapshot', 'format', 'f']));
  const output = options.get('output') ?? 'human';
  if (output !== 'json' && output !== 'human')
    throw new UsageError(`--output must be json or human, not '${output}'`);
  const release = releaseOption(options.get('qemu'), NEWEST_RELEASE);
  const snapshot = options.get('snapshot');
  const format = options.get('format') ?? options.get('f');
  // File names are known once the chain is open; the stream asks for them only after that.
  let chain: Chain | undefined;
  const stream = new MapStream(
    qemuImgMap(release),
    output === 'json' ? 'qemu-img-map-json' : 'qemu-img-map-human',
    {
      release,
      fileName: (layer) => (chain ? dataFileName({ chain }, layer) : ''),
      write: (b) => io.out(b),
    },
  );
  const r = await streamStatus(
    {
      path: oneFile(positionals, 'map'),
      noBacking: options.has('no-backing'),
      snapshot: typeof snapshot === 'string' ? snapshot : undefined,
      format: typeof format === 'string' ? format : undefined,
      zeroScan: options.has('zero-scan'),
    },
    stream,
    {
      ...stderrHooks(io),
      onOpen: (c) => {
        chain = c;
      },
      stopped: () => stream.stopped,
    },
  );
  if (r.error) {
    stream.fail();
    io.err(`clusterscope: ${r.error.message}\n`);
    return 1;
  }
  const end = stream.finish();
  if (end.error !== undefined) {
    io.err(`clusterscope: ${r.chain.layers[0]!.name}: ${end.error}\n`);
    return 1;
  }
  return 0;
}
