/**
 * `clusterscope check [--output=json|human] [-f qcow2] FILE`: qemu-img check's report and exit
 * status (QEMU 7.2 img_check()). QEMU's diagnostic lines go to stderr as qemu-img prints them.
 */

import { closeChain } from '../../core/chain/chain.ts';
import { checkImage } from '../../core/check/checkImage.ts';
import { formatHumanCheck, formatQemuCheckJson, qemuCheckExitStatus } from '../../core/check/result.ts';
import { hex } from '../../core/format.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { openChainFromPath } from '../openChain.ts';

export async function runCheck(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['output', 'format', 'f']));
  const output = options.get('output') ?? 'human';
  if (output !== 'json' && output !== 'human') {
    throw new UsageError('--output must be used with human or json as argument.');
  }
  const fmt = options.get('format') ?? options.get('f');
  if (positionals.length !== 1) throw new UsageError('Expecting one image file name');
  const path = positionals[0]!;
  // qemu-img check opens the image with its backing chain and data file (BDRV_O_CHECK): a
  // missing one fails the open (exit 1) before anything is checked.
  const chain = await openChainFromPath(path, {
    mode: { check: true },
    ...(typeof fmt === 'string' && { format: fmt }),
  });
  try {
    const layer = chain.layers[0]!;
    if (layer.format !== 'qcow2') {
      // img_check(): bdrv_check() returns -ENOTSUP for formats without a check.
      io.err('clusterscope: This image format does not support checks\n');
      return 63;
    }
    const result = await checkImage(layer, { filename: path });
    // QEMU prints some lines through error_report(), after the program's name.
    const reported = new Set(result.reported);
    for (const [i, m] of result.messages.entries())
      io.err(`${reported.has(i) ? 'clusterscope: ' : ''}${m}\n`);
    if (result.messagesDropped) io.err(`(${result.messagesDropped} more messages not shown)\n`);
    if (result.failure !== undefined) {
      const w = result.failureWhere;
      const at = w
        ? `${w.file}: ${w.structure}${w.offset === undefined ? '' : ` at ${hex(w.offset)}`}: `
        : '';
      io.err(`clusterscope: ${at}Check failed: ${result.failure}\n`);
      return 1;
    }
    io.out(output === 'json' ? `${formatQemuCheckJson(result)}\n` : formatHumanCheck(result));
    if (result.checkErrors) io.err('clusterscope: Check failed\n');
    return qemuCheckExitStatus(result);
  } finally {
    await closeChain(chain);
  }
}
