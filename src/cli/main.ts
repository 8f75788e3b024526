/**
 * clusterscope CLI: qemu-img map / nbdinfo --map / qemu-img info / qemu-img check answers
 * computed by the same engine as the browser inspector.
 */
import { isClusterscopeError } from '../core/errors.ts';
import { escapeControls } from '../core/format.ts';
import { HELP } from './help.ts';
import { type CliIo, EXIT_OUTPUT_CLOSED, OutputClosed, processIo, UsageError } from './io.ts';

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  map: async () => (await import('./commands/map.ts')).runMap,
  'nbd-map': async () => (await import('./commands/nbdMap.ts')).runNbdMap,
  info: async () => (await import('./commands/info.ts')).runInfo,
  check: async () => (await import('./commands/check.ts')).runCheck,
  diff: async () => (await import('./commands/diff.ts')).runDiff,
  compare: async () => (await import('./commands/compare.ts')).runCompare,
  measure: async () => (await import('./commands/measure.ts')).runMeasure,
  'map-file': async () => (await import('./commands/mapFile.ts')).runMapFile,
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    return quietly(() => io.out(HELP), name === undefined ? 1 : 0);
  }
  const load = COMMANDS[name];
  if (!load) {
    io.err(`clusterscope: unknown command '${name}' (try: clusterscope --help)\n`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) return quietly(() => io.out(HELP), 0);
  try {
    return await (await load())(rest, io);
  } catch (e) {
    if (e instanceof OutputClosed) return EXIT_OUTPUT_CLOSED;
    if (isClusterscopeError(e) || e instanceof UsageError) {
      // Usage errors quote names from the image too (snapshot names): one line, always.
      io.err(`clusterscope: ${escapeControls(e.message)}\n`);
      return 1;
    }
    // An engine bug, not bad input: still one line, never a stack trace for the user.
    io.err(`clusterscope: internal error: ${escapeControls(e instanceof Error ? e.message : String(e))}\n`);
    return 2;
  }
}

/** Runs `f`; a reader that closed standard output ends the CLI quietly (see OutputClosed). */
function quietly(f: () => void, status: number): number {
  try {
    f();
    return status;
  } catch (e) {
    if (e instanceof OutputClosed) return EXIT_OUTPUT_CLOSED;
    throw e;
  }
}
