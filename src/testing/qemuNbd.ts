/** nbdinfo --map against a qemu-nbd serving files of a folder, for the live oracles. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * `nbdinfo --map=CONTEXT` against `qemu-nbd -r -t -A SPEC...` run in `dir` (SPEC: `-f FMT FILE`,
 * `-B NAME`, ...); nbdinfo's stdout.
 */
export async function nbdinfo(dir: string, spec: string[], context: string): Promise<string> {
  const sock = join(dir, `nbd-${Math.random().toString(36).slice(2)}.sock`);
  const srv = spawn('qemu-nbd', ['-r', '-t', '-A', '-k', sock, ...spec], { cwd: dir, stdio: 'ignore' });
  try {
    for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((res) => setTimeout(res, 10));
    // qemu-nbd makes the socket before it has opened the image and listens: under load the
    // first connections can be refused, so try again for up to ~5 s.
    for (let tries = 0; ; tries++) {
      try {
        return run('nbdinfo', [`--map=${context}`, `nbd+unix:///?socket=${sock}`], dir);
      } catch (e) {
        if (tries >= 250 || !String((e as { stderr?: string }).stderr).includes('Connection refused'))
          throw e;
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  } finally {
    srv.kill();
  }
}
