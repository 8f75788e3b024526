/**
 * What is not a regular file, as FILE, as a backing file or as an external data file, against
 * live QEMU 7.2: a directory, a FIFO, /proc/self/mem, a character device, a block device.
 * clusterscope refuses what qemu-img refuses, with qemu-img's sentence naming the file and its
 * exit status, and opens what it opens. Before, a directory gave exit 2 "internal error:
 * EISDIR", a FIFO hung for ever and /proc/self/mem was read.
 *
 * The one difference: qemu-img waits for ever on a FIFO (open(2) blocks until a writer comes);
 * clusterscope refuses it as QEMU refuses every other non-regular file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Qemu {
  readonly code: number;
  readonly stdout: string;
  /** qemu-img's last stderr line without its "qemu-img: " prefix. */
  readonly said: string;
}

/** qemu-img ARGS in the test directory (a FIFO makes it wait: 3 s, then exit 124). */
function qemuImg(args: string[]): Qemu {
  const r = spawnSync('timeout', ['3', 'qemu-img', ...args], { cwd: dir, encoding: 'utf8' });
  const line = r.stderr.trim().split('\n').at(-1) ?? '';
  return { code: r.status ?? -1, stdout: r.stdout, said: line.replace(/^qemu-img: /, '') };
}

const qcow2 = (name: string, extra: string[] = []) =>
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', ...extra, name, '1M'], { cwd: dir });

beforeAll(() => {
  mkdirSync(join(dir, 'dir'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  qcow2('dir-backing.qcow2', ['-u', '-b', 'dir', '-F', 'qcow2']);
  qcow2('fifo-backing.qcow2', ['-u', '-b', 'fifo', '-F', 'raw']);
  qcow2('mem-backing.qcow2', ['-u', '-b', '/proc/self/mem', '-F', 'raw']);
  qcow2('null-backing.qcow2', ['-u', '-b', '/dev/null', '-F', 'raw']);
  // A data file that is a directory, and one that is missing.
  qcow2('dir-data.qcow2', ['-o', 'data_file=dir-data.raw']);
  rmSync(join(dir, 'dir-data.raw'));
  mkdirSync(join(dir, 'dir-data.raw'));
  qcow2('no-data.qcow2', ['-o', 'data_file=no-data.raw']);
  rmSync(join(dir, 'no-data.raw'));
});

/** The sentence clusterscope printed, and its exit status, for comparison with qemu-img's. */
async function ours(args: string[]) {
  const r = await runCli(args, dir);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

describe('refused as qemu-img refuses them', () => {
  const cases: [string, string[]][] = [
    ['a directory as FILE (map)', ['map', 'dir']],
    ['a directory as FILE (map --output=json)', ['map', '--output=json', 'dir']],
    ['a directory as FILE (info)', ['info', 'dir']],
    ['a directory as FILE (check)', ['check', 'dir']],
    ['a directory as FILE with -f qcow2', ['map', '-f', 'qcow2', 'dir']],
    ['a directory as backing file', ['map', 'dir-backing.qcow2']],
    ['a directory as external data file (map)', ['map', 'dir-data.qcow2']],
    ['a directory as external data file (check)', ['check', 'dir-data.qcow2']],
    ['a missing external data file (map)', ['map', 'no-data.qcow2']],
    ['a missing external data file (check)', ['check', 'no-data.qcow2']],
    ['/proc/self/mem as backing file', ['map', 'mem-backing.qcow2']],
    ['/proc/self/mem as FILE', ['info', '-f', 'raw', '/proc/self/mem']],
  ];
  it.each(cases)('%s: exit status and sentence of qemu-img', async (_, args) => {
    const q = qemuImg(args);
    const o = await ours(args);
    expect(q.code).toBe(1);
    expect(o.code).toBe(q.code);
    // qemu-img prefixes "Could not open 'TOP': " for the image it opened; the sentence about
    // the offending file is the same words.
    const sentence = q.said.replace(/^Could not open '[^']*': (?=.*(driver requires|Could not|refresh))/, '');
    expect(o.stderr).toContain(sentence);
    expect(o.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(o.stderr).not.toMatch(/internal error/);
  });
});

describe('a FIFO, on which qemu-img waits for ever', () => {
  it.each([
    ['as FILE', ['map', 'fifo']],
    ['as backing file', ['map', 'fifo-backing.qcow2']],
  ])('%s is refused at once, naming it', async (_, args) => {
    expect(qemuImg(args).code).toBe(124); // qemu-img was still waiting after 3 s
    const t0 = Date.now();
    const o = await ours(args);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(o.code).toBe(1);
    expect(o.stderr).toContain("'file' driver requires 'fifo' to be a regular file");
  });
});

describe('opened as qemu-img opens them', () => {
  it('a missing external data file is no error for info (qemu-img info opens without I/O)', async () => {
    const q = qemuImg(['info', '--output=json', 'no-data.qcow2']);
    const o = await ours(['info', '--output=json', 'no-data.qcow2']);
    expect(q.code).toBe(0);
    expect(o.code).toBe(0);
    const strip = (t: string) => {
      const j = JSON.parse(t) as Record<string, unknown>;
      delete j['actual-size'];
      return j;
    };
    expect(strip(o.stdout)).toEqual(strip(q.stdout));
  });

  it('/dev/null as backing file: an empty raw layer, never read', async () => {
    const q = qemuImg(['map', '--output=json', 'null-backing.qcow2']);
    const o = await ours(['map', '--output=json', '--qemu=7.2', 'null-backing.qcow2']);
    expect(q.code).toBe(0);
    expect(o.code).toBe(0);
    expect(JSON.parse(o.stdout)).toEqual(JSON.parse(q.stdout));
  });

  it('/dev/null as FILE: raw, virtual size 0', async () => {
    const q = qemuImg(['info', '--output=json', '/dev/null']);
    const o = await ours(['info', '--output=json', '/dev/null']);
    expect(o.code).toBe(q.code);
    expect(JSON.parse(o.stdout)).toMatchObject({
      format: 'raw',
      'virtual-size': JSON.parse(q.stdout)['virtual-size'],
    });
  });

  const loop = '/dev/loop0';
  it.runIf(existsSync(loop) && statSync(loop).isBlockDevice())(
    'a block device: its size as the kernel reports it',
    async () => {
      const q = qemuImg(['info', '--output=json', '-f', 'raw', loop]);
      const o = await ours(['info', '--output=json', '-f', 'raw', loop]);
      expect(o.code).toBe(q.code);
      if (q.code === 0)
        expect(JSON.parse(o.stdout)['virtual-size']).toBe(JSON.parse(q.stdout)['virtual-size']);
    },
  );
});
