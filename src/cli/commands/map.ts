/**
 * clusterscope map: qemu-img map, from the same engine as the inspector.
 * JSON equals `qemu-img map --output=json` of the chosen release; human equals `qemu-img map`.
 */
import { formatFinding } from '../../core/findings.ts';
import {
  formatMapHuman,
  formatMapJsonBytes,
  NEWEST_RELEASE,
  qemuImgMap,
} from '../../core/interpret/qemuImgMap.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { dataFileName, oneFile, releaseOption, statusFor } from './shared.ts';

export async function runMap(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['output', 'qemu', 'snapshot', 'format', 'f']));
  const output = options.get('output') ?? 'human';
  if (output !== 'json' && output !== 'human')
    throw new UsageError(`--output must be json or human, not '${output}'`);
  const release = releaseOption(options.get('qemu'), NEWEST_RELEASE);
  const snapshot = options.get('snapshot');
  const format = options.get('format') ?? options.get('f');
  const st = await statusFor({
    path: oneFile(positionals, 'map'),
    noBacking: options.has('no-backing'),
    snapshot: typeof snapshot === 'string' ? snapshot : undefined,
    format: typeof format === 'string' ? format : undefined,
    zeroScan: options.has('zero-scan'),
  });
  for (const f of st.findings) io.err(`clusterscope: warning: ${formatFinding(f)}\n`);
  const m = qemuImgMap(release).compute(st);
  if (output === 'json') {
    if (st.error) {
      // qemu-img stops with the array unclosed; print nothing partial that could parse as a map.
      io.err(`clusterscope: ${st.error.message}\n`);
      return 1;
    }
    io.out(formatMapJsonBytes(m, release));
    return 0;
  }
  const human = formatMapHuman(m, (layer) => dataFileName(st, layer), st.error !== undefined);
  io.out(human.text);
  if (human.error) {
    io.err(`clusterscope: ${st.chain.layers[0]!.name}: ${human.error}\n`);
    return 1;
  }
  if (st.error) {
    io.err(`clusterscope: ${st.error.message}\n`);
    return 1;
  }
  return 0;
}
