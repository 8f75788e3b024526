// Wall time, CPU time and peak RSS of a command, with stdout to /dev/null (or a file).
// Wall time: performance.now() around the spawn. CPU time (user + sys) and peak RSS: GNU
// time's %U %S %M (rusage of the child; %M is ru_maxrss in KiB), written to a side file so
// the command's stderr stays its own. CPU time is the steadier number on a busy machine.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export function haveGnuTime() {
  if (!existsSync(GNU_TIME)) return false;
  const r = spawnSync(GNU_TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /^\d+\s*$/m.test(r.stderr);
}

/** Runs argv once; returns { seconds, cpuSeconds, maxRssKiB, status, stderr }. */
export function measure(argv, { stdoutFile = '/dev/null', cwd } = {}) {
  const side = join(tmpdir(), `clusterscope-bench-time-${process.pid}.txt`);
  const fd = openSync(stdoutFile, 'w');
  try {
    const t0 = performance.now();
    const r = spawnSync(GNU_TIME, ['-f', '%U %S %M', '-o', side, ...argv], {
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      cwd,
    });
    const seconds = (performance.now() - t0) / 1000;
    if (r.error) throw r.error;
    // The last line: GNU time prefixes "Command exited with non-zero status N" on failure.
    const [user, sys, rss] = readFileSync(side, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    return { seconds, cpuSeconds: user + sys, maxRssKiB: rss, status: r.status, stderr: r.stderr };
  } finally {
    closeSync(fd);
    rmSync(side, { force: true });
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
