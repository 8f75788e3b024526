/**
 * `clusterscope measure [--output=json|human] [-O qcow2|raw] [-o OPTIONS] [-f FMT] FILE`: what
 * `qemu-img measure` prints (core/measure/measure.ts). qemu-img's default output format is raw.
 */
import {
  formatMeasure,
  MeasureOptionError,
  measureImage,
  measureOptions,
} from '../../core/measure/measure.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { oneFile, withStatus } from './shared.ts';

export async function runMeasure(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['output', 'O', 'o', 'f', 'format']));
  const output = options.get('output') ?? 'human';
  if (output !== 'json' && output !== 'human') {
    throw new UsageError('--output must be used with human or json as argument.');
  }
  const str = (k: string): string | undefined => {
    const v = options.get(k);
    if (v === true) throw new UsageError(`-${k} needs a value`);
    return v;
  };
  let opts: ReturnType<typeof measureOptions>;
  try {
    opts = measureOptions(str('O') ?? 'raw', str('o'));
  } catch (e) {
    if (e instanceof MeasureOptionError) throw new UsageError(e.message);
    throw e;
  }
  const path = oneFile(positionals, 'measure');
  return withStatus(
    { path, format: str('f') ?? str('format'), noBacking: false, zeroScan: false },
    async (st) => {
      if (st.error) {
        io.err(`clusterscope: ${st.error.message}\n`);
        return 1;
      }
      try {
        io.out(formatMeasure(await measureImage(st, opts), output === 'json'));
      } catch (e) {
        if (e instanceof MeasureOptionError) throw new UsageError(e.message);
        throw e;
      }
      return 0;
    },
  );
}
