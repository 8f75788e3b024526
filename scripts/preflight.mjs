#!/usr/bin/env node
// Makes sure the programs the tests compare against are here: QEMU (qemu-img, qemu-io,
// qemu-nbd), nbdinfo, and Debian's chromium for the browser tests. As root on Debian it
// installs what is missing with apt; otherwise it stops with one line naming what to install.
// It never lets the suite skip them silently.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NEEDS = [
  { bin: 'qemu-img', pkg: 'qemu-utils' },
  { bin: 'qemu-io', pkg: 'qemu-utils' },
  { bin: 'qemu-nbd', pkg: 'qemu-utils' },
  { bin: 'nbdinfo', pkg: 'libnbd-bin' },
  { bin: 'chromium', pkg: 'chromium' },
];

const have = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
const missing = NEEDS.filter((n) => !have(n.bin));
const pkgs = [...new Set(missing.map((n) => n.pkg))];
if (pkgs.length) {
  const isRoot = process.getuid?.() === 0;
  const debian = existsSync('/usr/bin/apt-get');
  if (!isRoot || !debian) {
    console.error(
      `preflight: missing ${missing.map((n) => n.bin).join(', ')}; install with: sudo apt-get install -y ${pkgs.join(' ')}`,
    );
    process.exit(1);
  }
  console.log(`preflight: installing ${pkgs.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env });
  const still = NEEDS.filter((n) => !have(n.bin));
  if (still.length) {
    console.error(`preflight: still missing after apt-get: ${still.map((n) => n.bin).join(', ')}`);
    process.exit(1);
  }
}
