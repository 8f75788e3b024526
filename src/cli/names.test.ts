/**
 * Control characters in names an image carries (backing and data-file names made by qemu-img
 * with newlines, ANSI and OSC escapes, a C1 CSI), against live QEMU 7.2: every human line and
 * every error is one line with those characters escaped exactly as qemu-img info --output=json
 * escapes them. qemu-img itself prints them raw in its human output (so an image can split an
 * error in two or drive the terminal); clusterscope differs there on purpose.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import { run } from '../testing/qemu.ts';

const dir = mkdtempSync(join(tmpdir(), 'cs-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Newline, ESC ] (OSC: set the window title) ... BEL, ESC [ 2 J (clear screen), tab, C1 CSI. */
const EVIL = 'evil\nline\x1b]0;pwned\x07\x1b[2J\t\u009b31m';
const MISSING = `${EVIL}-missing.raw`;
const BASE = `${EVIL}-base.raw`;
const DATA = `${EVIL}-data.raw`;

// biome-ignore lint/suspicious/noControlCharactersInRegex: the test is about them
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** The string member `key` of qemu-img's JSON exactly as qemu-img escaped it (no quote or backslash in it). */
const jsonMember = (json: string, key: string): string => {
  const m = new RegExp(`"${key}": "([^"]*)"`).exec(json);
  if (!m) throw new Error(`no "${key}" in ${json}`);
  return m[1]!;
};

beforeAll(() => {
  const q = (...a: string[]) => execFileSync('qemu-img', a, { cwd: dir });
  q('create', '-q', '-f', 'qcow2', '-u', '-b', MISSING, '-F', 'raw', 'missing.qcow2', '1M');
  q('create', '-q', '-f', 'raw', BASE, '1M');
  execFileSync('qemu-io', ['-f', 'raw', '-c', 'write -P 0x5a 0 1M', BASE], { cwd: dir });
  q('create', '-q', '-f', 'qcow2', '-b', BASE, '-F', 'raw', 'based.qcow2', '1M');
  q('create', '-q', '-f', 'qcow2', '-o', `data_file=${DATA}`, 'datafile.qcow2', '1M');
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5b 0 64K', 'datafile.qcow2'], { cwd: dir });
});

describe('names with control characters', () => {
  it('info: the backing file line shows the name as qemu-img info --output=json escapes it', async () => {
    const escaped = jsonMember(
      run('qemu-img', ['info', '--output=json', 'missing.qcow2'], dir),
      'backing-filename',
    );
    expect(escaped).toContain('\\n');
    expect(escaped).toContain('\\u001B]0;pwned\\u0007');
    expect(escaped).toContain('\\u009B');
    const r = await runCli(['info', 'missing.qcow2'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`backing file: ${escaped}\n`);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
  });

  it('info --output=json equals qemu-img info --output=json (names escaped by QEMU JSON rules)', async () => {
    const q = run('qemu-img', ['info', '--output=json', 'datafile.qcow2'], dir);
    const r = await runCli(['info', '--output=json', 'datafile.qcow2'], dir);
    expect(jsonMember(r.stdout, 'data-file')).toBe(jsonMember(q, 'data-file'));
  });

  it('a missing backing file named with control characters is a one-line error, escaped', async () => {
    const escaped = jsonMember(
      run('qemu-img', ['info', '--output=json', 'missing.qcow2'], dir),
      'backing-filename',
    );
    for (const args of [
      ['map', 'missing.qcow2'],
      ['map', '--output=json', 'missing.qcow2'],
      ['nbd-map', 'missing.qcow2'],
    ]) {
      const r = await runCli(args, dir);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n')).toEqual([expect.stringContaining(escaped), '']);
      expect(r.stderr).not.toMatch(RAW_CONTROL);
    }
  });

  it('map (human): the File column of a backing file and of a data file is escaped, the rest is qemu-img map', async () => {
    for (const [image, name] of [
      ['based.qcow2', BASE],
      ['datafile.qcow2', DATA],
    ] as const) {
      const q = run('qemu-img', ['map', image], dir);
      expect(q).toContain(name); // qemu-img prints it raw
      const r = await runCli(['map', '--qemu=7.2', image], dir);
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(RAW_CONTROL);
      const info = run('qemu-img', ['info', '--output=json', image], dir);
      const shown = jsonMember(info, image === 'based.qcow2' ? 'backing-filename' : 'data-file');
      expect(r.stdout).toBe(q.split(name).join(shown));
    }
  });
});
