/**
 * clusterscope info [--output=json|human] [--backing-chain] [-f FMT] FILE
 * The answer of `qemu-img info` (QEMU 7.2), computed from the file's bytes. "actual-size" (disk
 * size) is the one host-dependent member: the file's allocated blocks, as QEMU reports it.
 */
import { stat } from 'node:fs/promises';
import { closeChain } from '../../core/chain/chain.ts';
import { escapeControls } from '../../core/format.ts';
import { formatInfoHuman } from '../../core/info/human.ts';
import { imageInfo } from '../../core/info/info.ts';
import { toQemuJson } from '../../core/info/qemuJson.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { openChainFromPath } from '../openChain.ts';
import { probeNote } from './shared.ts';

/** qemu-img info's options that apply here; -U/--force-share is accepted and has nothing to do. */
const KNOWN = new Set(['output', 'backing-chain', 'format', 'f', 'U', 'force-share']);

export async function runInfo(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['output', 'format', 'f']));
  for (const k of options.keys()) {
    if (!KNOWN.has(k)) throw new UsageError(`info: unknown option '${k.length === 1 ? '-' : '--'}${k}'`);
  }
  const output = options.get('output') ?? 'human';
  if (output !== 'json' && output !== 'human')
    throw new UsageError(`--output must be json or human, not '${output}'`);
  const format = options.get('format') ?? options.get('f');
  if (format === true) throw new UsageError('--format needs a format name (qcow2, raw)');
  if (positionals.length !== 1)
    throw new UsageError('info takes exactly one FILE (try: clusterscope --help)');
  const chainWanted = options.has('backing-chain');
  // Without --backing-chain qemu-img opens the image alone (BDRV_O_NO_BACKING): a missing
  // backing file is no error.
  // qemu-img info opens without I/O (BDRV_O_NO_IO): QEMU 7.2 prints the header of an image
  // whose data file is missing (fixtures/golden/datafile-missing/info.json).
  const chain = await openChainFromPath(positionals[0]!, {
    noBacking: !chainWanted,
    purpose: 'info',
    ...(format !== undefined && { format }),
  });
  try {
    if (format === undefined) {
      const note = await probeNote(chain);
      if (note) io.err(`clusterscope: note: ${escapeControls(note)}\n`);
    }
    const infos = await imageInfo(chain, {
      async actualSize(layer) {
        const path = (layer.source as { path?: string }).path ?? layer.name;
        try {
          return (await stat(path)).blocks * 512;
        } catch {
          return undefined;
        }
      },
    });
    if (output === 'json') {
      io.out(`${toQemuJson(chainWanted ? infos : infos[0]!)}\n`);
    } else {
      io.out(formatInfoHuman(chainWanted ? infos : infos.slice(0, 1)));
    }
    return 0;
  } finally {
    await closeChain(chain);
  }
}
