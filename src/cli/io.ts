/** What a CLI command may touch: its arguments, its output streams. Tests pass their own. */
export interface CliIo {
  /** Standard output; large outputs come as bytes (ASCII) to spare building a string. */
  readonly out: (text: string | Uint8Array) => void;
  readonly err: (text: string) => void;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Parses `--name=value`, `--name value` and `--flag` options; the rest are positionals. */
export interface ParsedArgs {
  readonly options: Map<string, string | true>;
  readonly positionals: string[];
}

export function parseArgs(args: readonly string[], takesValue: ReadonlySet<string>): ParsedArgs {
  const options = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) options.set(a.slice(2, eq), a.slice(eq + 1));
      else if (takesValue.has(a.slice(2)) && i + 1 < args.length) options.set(a.slice(2), args[++i]!);
      else options.set(a.slice(2), true);
    } else if (a.startsWith('-') && a.length > 1) {
      const k = a.slice(1);
      options.set(k, takesValue.has(k) && i + 1 < args.length ? args[++i]! : true);
    } else positionals.push(a);
  }
  return { options, positionals };
}

/** A usage error: exit status 1 with one line on stderr. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
