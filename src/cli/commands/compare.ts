/**
 * `clusterscope compare [-s] [-f FMT] [-F FMT] [--ranges [--output=json]] FILE1 FILE2`: what
 * `qemu-img compare` prints and its exit status (QEMU 7.2 img_compare(): 0 identical, 1
 * different, 2 an image could not be opened, 3 block status failed). `--ranges` lists every
 * differing range instead of stopping at the first.
 */
import { compareImages, compareReport, differingRanges } from '../../core/compare/compare.ts';
import { isClusterscopeError } from '../../core/errors.ts';
import type { ChainStatus } from '../../core/status/resolve.ts';
import { type CliIo, parseArgs, UsageError } from '../io.ts';
import { withStatus } from './shared.ts';

/** img_compare(): an image that cannot be opened ends the command with status 2. */
const EXIT_OPEN_FAILED = 2;

export async function runCompare(args: string[], io: CliIo): Promise<number> {
  const { options, positionals } = parseArgs(args, new Set(['f', 'F', 'output']));
  if (positionals.length !== 2) throw new UsageError('Expecting two image file names');
  const [file1, file2] = positionals as [string, string];
  const fmt = (k: string) => {
    const v = options.get(k);
    if (v === true) throw new UsageError(`-${k} needs a format`);
    return v;
  };
  const output = options.get('output') ?? 'text';
  if (output !== 'text' && output !== 'json')
    throw new UsageError(`--output must be text or json, not '${output}'`);
  const strict = options.has('s');
  const ranges = options.has('ranges');
  const open = <T>(path: string, format: string | undefined, use: (st: ChainStatus) => Promise<T>) =>
    withStatus({ path, format, noBacking: false, zeroScan: false }, use);
  let opened = 0;
  try {
    return await open(file1, fmt('f'), async (a) => {
      opened = 1;
      return open(file2, fmt('F'), async (b) => {
        opened = 2;
        if (ranges) {
          const d = await differingRanges(a, b);
          const rows: string[] = [];
          for (let i = 0; i < d.count; i++) rows.push(`${d.start[i]}  ${d.length[i]}`);
          if (output === 'json') {
            const items = [];
            for (let i = 0; i < d.count; i++)
              items.push(`{ "offset": ${d.start[i]}, "length": ${d.length[i]} }`);
            io.out(`[\n${items.join(',\n')}\n]\n`);
          } else io.out(rows.map((r) => `${r}\n`).join(''));
          return d.count ? 1 : 0;
        }
        const r = await compareImages(a, b, { strict });
        const rep = compareReport(r);
        if (r.outcome.kind === 'status-error') {
          const st = r.outcome.side === 0 ? a : b;
          io.err(
            `clusterscope: Sector allocation test failed for ${r.outcome.side === 0 ? file1 : file2}${st.error ? ` (${st.error.message})` : ''}\n`,
          );
        }
        io.out(rep.lines.map((l) => `${l}\n`).join(''));
        return rep.exit;
      });
    });
  } catch (e) {
    // Opening either image failed: qemu-img's img_open() path, exit 2.
    if (opened < 2 && isClusterscopeError(e)) {
      io.err(`clusterscope: ${e.message}\n`);
      return EXIT_OPEN_FAILED;
    }
    throw e;
  }
}
