/** Runs the CLI in-process with captured output and a working directory, for tests. */
import { main } from '../cli/main.ts';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: string[], cwd?: string): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const prev = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const code = await main(args, {
      out: (t) => {
        stdout += typeof t === 'string' ? t : new TextDecoder().decode(t);
      },
      err: (t) => {
        stderr += t;
      },
    });
    return { code, stdout, stderr };
  } finally {
    if (cwd) process.chdir(prev);
  }
}
