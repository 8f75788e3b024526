/**
 * Running real QEMU from tests (the live oracles): qemu-img and friends as child processes,
 * and nbdinfo --map against a qemu-nbd started for the call. Node-only test tooling.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command in `cwd` and returns its standard output; throws when it fails. */
export const run = (cmd: string, args: string[], cwd: string): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });

/** `nbdinfo --map=CONTEXT` against `qemu-nbd -r -t -A SPEC...` on a fresh socket in `dir`. */
export async function nbdinfo(dir: string, spec: string[], context: string): Promise<string> {
  const sock = join(dir, `nbd-${Math.random().toString(36).slice(2)}.sock`);
  const srv = spawn('qemu-nbd', ['-r', '-t', '-A', '-k', sock, ...spec], { cwd: dir, stdio: 'ignore' });
  try {
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((res) => setTimeout(res, 10));
    // qemu-nbd creates the socket before it listens: on a loaded machine the first connection
    // can be refused, so try again for a while (a real failure fails every time).
    for (let attempt = 0; ; attempt++) {
      try {
        return run('nbdinfo', [`--map=${context}`, `nbd+unix:///?socket=${sock}`], dir);
      } catch (e) {
        if (attempt >= 20 || !/connect|refused/i.test(String((e as { stderr?: string }).stderr ?? e)))
          throw e;
        await new Promise((res) => setTimeout(res, 50));
      }
    }
  } finally {
    srv.kill();
  }
}
