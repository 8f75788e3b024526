/**
 * `clusterscope check [--output=json|human] [-f qcow2] FILE`: qemu-img check's report and exit
 * status (QEMU 7.2 img_check()). QEMU's diagnostic lines go to stderr as qemu-img prints them.
 */

import { openLayer } from '../../core/chain/layer.ts';
import { checkImage } from '../../core/check/checkImage.ts';
import { formatHumanCheck, formatQemuCheckJson, qemuCheckExitStatus } from '../../core/check/result.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { NodeFileSource } from '../nodeSource.ts';
import { openDataFile } from '../openChain.ts';

export async function runCheck(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['output', 'format']));
  const output = options.get('output') ?? 'human';
  if (output !== 'json' && output !== 'human') {
    throw new UsageError('--output must be used with human or json as argument.');
  }
  const fmt = options.get('format') ?? options.get('f');
  if (positionals.length !== 1) throw new UsageError('Expecting one image file name');
  const path = positionals[0]!;
  const source = await NodeFileSource.open(path);
  try {
    const layer = await openLayer(source, typeof fmt === 'string' ? fmt : undefined, { check: true });
    if (layer.format !== 'qcow2') {
      // img_check(): bdrv_check() returns -ENOTSUP for formats without a check.
      io.err('clusterscope: This image format does not support checks\n');
      return 63;
    }
    // qcow2_do_open() opens the external data file with the image: without it there is no check.
    if (layer.dataFileName !== undefined) await (await openDataFile(layer, layer.dataFileName)).close();
    const result = await checkImage(layer, { filename: path });
    for (const m of result.messages) io.err(`${m}\n`);
    if (result.messagesDropped) io.err(`(${result.messagesDropped} more messages not shown)\n`);
    if (result.failure !== undefined) {
      io.err(`clusterscope: Check failed: ${result.failure}\n`);
      return 1;
    }
    io.out(output === 'json' ? `${formatQemuCheckJson(result)}\n` : formatHumanCheck(result));
    if (result.checkErrors) io.err('clusterscope: Check failed\n');
    return qemuCheckExitStatus(result);
  } finally {
    await source.close();
  }
}
