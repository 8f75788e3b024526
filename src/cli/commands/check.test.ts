/**
 * `clusterscope check` and checkImage() against `qemu-img check --output=json` recorded from
 * QEMU 7.2.22 (fixtures/make-fixtures.sh -> fixtures/golden/<case>/check.json, check.exit).
 * `filename` is host-dependent only where the golden was recorded with --image-opts (LUKS).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkImage } from '../../core/check/checkImage.ts';
import { qemuCheckExitStatus, toQemuCheckJson } from '../../core/check/result.ts';
import { openQcow2 } from '../../core/qcow2/image.ts';
import { runCli } from '../../testing/cli.ts';
import { allCases, FIXTURES, type FixtureCase, golden, imageDir } from '../../testing/fixtures.ts';
import { NodeFileSource } from '../nodeSource.ts';

/**
 * Every case with a recorded check.json: those in cases.json, plus golden directories not (yet)
 * listed there, whose image is top.qcow2 (the recorder's default name).
 */
function checkCases(): FixtureCase[] {
  const listed = existsSync(join(FIXTURES, 'cases.json')) ? allCases() : [];
  const names = new Set(listed.map((c) => c.name));
  const dir = join(FIXTURES, 'golden');
  const extra = existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => !names.has(n) && existsSync(join(FIXTURES, 'images', n, 'top.qcow2')))
        .map(
          (name): FixtureCase => ({
            name,
            top: 'top.qcow2',
            description: '',
            covers: [],
            hostSparse: false,
            error: null,
          }),
        )
    : [];
  return [...listed, ...extra]
    .filter((c) => golden(c, 'check.json') !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

const withCheck = checkCases();

function goldenCheck(c: FixtureCase): { json: Record<string, unknown>; exit: number | undefined } {
  const exit = golden(c, 'check.exit');
  return {
    json: JSON.parse(golden(c, 'check.json')!) as Record<string, unknown>,
    exit: exit === undefined ? undefined : Number(exit.trim()),
  };
}

describe('checkImage() gives qemu-img 7.2 check --output=json answers', () => {
  it('has golden check cases to compare with', () => {
    expect(withCheck.length).toBeGreaterThan(0);
  });

  for (const c of withCheck) {
    it(`${c.name}: same counts, image end offset and exit status as qemu-img check`, async () => {
      const g = goldenCheck(c);
      const source = await NodeFileSource.open(`${imageDir(c)}/${c.top}`, c.top);
      try {
        const result = await checkImage(await openQcow2(source, { check: true }), { filename: c.top });
        const ours: Record<string, unknown> = toQemuCheckJson(result);
        if (g.json.filename !== c.top) ours.filename = g.json.filename;
        expect(ours).toEqual(g.json);
        if (g.exit !== undefined) expect(qemuCheckExitStatus(result)).toBe(g.exit);
      } finally {
        await source.close();
      }
    });
  }
});

describe('clusterscope check prints what qemu-img check prints', () => {
  for (const c of withCheck) {
    it(`${c.name}: --output=json parses to the golden object and exits like qemu-img`, async () => {
      const g = goldenCheck(c);
      const r = await runCli(['check', '--output=json', c.top], imageDir(c));
      const ours = JSON.parse(r.stdout) as Record<string, unknown>;
      if (g.json.filename !== c.top) ours.filename = g.json.filename;
      expect(ours).toEqual(g.json);
      if (g.exit !== undefined) expect(r.code).toBe(g.exit);
    });
  }

  it('prints the JSON with QEMU 7.2 key order and 4-space indent', async () => {
    const c = withCheck.find((x) => x.name === 'compressed-zlib') ?? withCheck[0]!;
    const r = await runCli(['check', '--output=json', c.top], imageDir(c));
    expect(`${r.stdout}`).toBe(`${golden(c, 'check.json')!.trimEnd()}\n`);
  });

  it('human output of a clean image says no errors and gives the allocation summary', async () => {
    const c = withCheck.find((x) => x.name === 'compressed-zlib') ?? withCheck[0]!;
    const r = await runCli(['check', c.top], imageDir(c));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^No errors were found on the image\.\n\d+\/\d+ = [\d.]+% allocated, [\d.]+% fragmented, [\d.]+% compressed clusters\nImage end offset: \d+\n$/,
    );
  });

  it('rejects an unknown --output value with a usage error (exit 1)', async () => {
    const c = withCheck[0]!;
    const r = await runCli(['check', '--output=xml', c.top], imageDir(c));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--output must be used with human or json as argument.');
  });
});

/**
 * clusterscope's stderr as qemu-img's: the program's name, and no file, structure and offset
 * before "Check failed" (clusterscope names them, QEMU does not).
 */
const asQemu = (stderr: string): string =>
  stderr
    .replace(/^clusterscope: (?:[^\n]*?: )?Check failed/gm, 'qemu-img: Check failed')
    .replace(/^clusterscope: /gm, 'qemu-img: ');

/**
 * Every recorded `qemu-img check --output=json -f qcow2` (check.exit, check.json.err): the same
 * exit status, and the same stderr. Where QEMU could not open the image ("qemu-img: Could not
 * open 'top.qcow2': SENTENCE"), clusterscope prints one line naming the file, the structure and
 * the offset, then QEMU's sentence. Not compared: over-2p53 (refused on purpose, see above) and
 * backing-loop (qemu-img check never returns: exit 124 after the recorder's timeout).
 */
describe('clusterscope check prints what qemu-img check printed, and exits the same', () => {
  const recorded = allCases().filter(
    (c) => golden(c, 'check.exit') !== undefined && c.name !== 'backing-loop',
  );
  it('has recorded check runs of damaged images to compare with', () => {
    expect(recorded.filter((c) => golden(c, 'check.json.err')).length).toBeGreaterThan(20);
  });
  for (const c of recorded) {
    it(`${c.name}: stderr and exit status`, async () => {
      const qemuErr = golden(c, 'check.json.err') ?? '';
      const r = await runCli(['check', '--output=json', '-f', 'qcow2', c.top], imageDir(c));
      expect(r.code).toBe(Number(golden(c, 'check.exit')!.trim()));
      const open = new RegExp(`^qemu-img: Could not open '${c.top}': (.*)$`, 'm').exec(qemuErr);
      if (open) {
        const lines = r.stderr.split('\n').filter(Boolean);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^clusterscope: \S+: .+: /);
        expect(lines[0]!.endsWith(`: ${open[1]}`) || lines[0]!.includes(`: ${open[1]} (`)).toBe(true);
        return;
      }
      expect(asQemu(r.stderr)).toBe(qemuErr);
    });
  }
});

/**
 * Live oracle for damaged images (the goldens are all sound images): each scenario is made with
 * qemu-img/qemu-io, patched byte-wise, then checked by qemu-img 7.2 and by clusterscope. The
 * report, QEMU's diagnostic lines on stderr and the exit status must be identical (only the
 * program-name prefix of "Check failed" differs).
 */
describe('clusterscope check agrees with live qemu-img check on damaged images', () => {
  const work = mkdtempSync(join(tmpdir(), 'cs-check-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const sh = (cmd: string, args: string[]) =>
    execFileSync(cmd, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  const putU64 = (file: string, at: number, value: bigint) => {
    const fd = openSync(join(work, file), 'r+');
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(value);
    writeSync(fd, b, 0, 8, at);
    closeSync(fd);
  };
  const putU16 = (file: string, at: number, value: number) => {
    const fd = openSync(join(work, file), 'r+');
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value);
    writeSync(fd, b, 0, 2, at);
    closeSync(fd);
  };
  const create = (file: string, opts: string[] = [], ...io: string[]) => {
    sh('qemu-img', ['create', '-f', 'qcow2', ...opts, file, '1M']);
    if (io.length) sh('qemu-io', io.flatMap((c) => ['-c', c]).concat([file]));
  };

  // Layout of a fresh 64 KiB-cluster image (reference §1.5): reftable 0x10000, refblock
  // 0x20000, L1 0x30000, first L2 0x40000, first data cluster 0x50000.
  const scenarios: Record<string, (f: string) => void> = {
    'refcount too high on a data cluster is a leak plus an OFLAG_COPIED error': (f) => {
      create(f, [], 'write 0 64k', 'write -c 128k 64k', 'write 512k 64k');
      putU16(f, 0x20000 + 2 * 5, 2);
    },
    'refcount too low on a data cluster is a corruption': (f) => {
      create(f, [], 'write 0 128k');
      putU16(f, 0x20000 + 2 * 5, 0);
    },
    'two L2 entries sharing a cluster are a corruption': (f) => {
      create(f, [], 'write 0 128k');
      putU64(f, 0x40008, 0x8000000000050000n);
    },
    'a shared cluster overflows 1-bit refcounts': (f) => {
      create(f, ['-o', 'refcount_bits=1'], 'write 0 128k');
      putU64(f, 0x40008, 0x8000000000050000n);
    },
    'a data cluster far past EOF is counted as a region exceeding the file': (f) => {
      create(f, [], 'write 0 64k');
      putU64(f, 0x40000, 0x8000000010000000n);
    },
    'reserved bits in L1 and L2 entries are corruptions': (f) => {
      create(f, [], 'write 0 64k');
      putU64(f, 0x30000, 0x8100000000040001n);
      putU64(f, 0x40000, 0x8100000000050000n);
    },
    'an unaligned refcount block makes refcount lookups fail (check errors, exit 1)': (f) => {
      create(f, [], 'write 0 64k');
      putU64(f, 0x10000, 0x20200n);
    },
    'an unaligned data cluster offset is a corruption': (f) => {
      create(f, [], 'write 0 64k', 'write 64k 64k');
      putU64(f, 0x40008, 0x8000000000060200n);
    },
    'a missing copied flag on an L1 entry is a corruption': (f) => {
      create(f, [], 'write 0 64k');
      putU64(f, 0x30000, 0x40000n);
    },
    'a refcount block referenced twice is a corruption': (f) => {
      create(f, [], 'write 0 64k');
      putU64(f, 0x10008, 0x20000n);
    },
    'a refcount block outside the image is a corruption': (f) => {
      create(f, [], 'write 0 64k');
      putU64(f, 0x10008, 0x900000n);
    },
    'the copied flag on a compressed cluster is a corruption': (f) => {
      create(f, [], 'write -c 0 64k');
      putU64(f, 0x40000, 0xc000000000050000n);
    },
    'snapshots share clusters without errors': (f) => {
      create(f, [], 'write 0 128k');
      sh('qemu-img', ['snapshot', '-c', 's1', f]);
      sh('qemu-io', ['-c', 'write 0 64k', f]);
    },
    'a truncated file reads as zeros and leaves only leaks': (f) => {
      create(f, [], 'write 0 64k', 'write 256k 64k');
      sh('truncate', ['-s', String(0x58000), f]);
    },
    'bitmap directory and tables are referenced': (f) => {
      create(f, []);
      sh('qemu-img', ['bitmap', '--add', f, 'b0']);
      sh('qemu-io', ['-c', 'write 0 64k', f]);
      sh('qemu-img', ['bitmap', '--add', '-g', '128k', f, 'b1']);
    },
  };

  let n = 0;
  for (const [title, make] of Object.entries(scenarios)) {
    const file = `s${n++}.qcow2`;
    it(title, async () => {
      make(file);
      const q = spawnSync('qemu-img', ['check', '--output=json', file], { cwd: work, encoding: 'utf8' });
      const r = await runCli(['check', '--output=json', file], work);
      expect({
        report: r.stdout.trim() ? JSON.parse(r.stdout) : null,
        stderr: asQemu(r.stderr),
        exit: r.code,
      }).toEqual({ report: q.stdout.trim() ? JSON.parse(q.stdout) : null, stderr: q.stderr, exit: q.status });
    });
  }
});
