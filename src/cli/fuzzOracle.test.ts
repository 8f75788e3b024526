/**
 * Live QEMU oracle on fuzzed images (issue 6): seeded mutations of the fixtures (the same
 * inputs as fuzz.test.ts) written to a temp dir, mapped by `qemu-img map --output=json -f qcow2`
 * and by `clusterscope map` in-process. Required, never skipped: `npm test` runs
 * scripts/preflight.mjs first, which installs QEMU or stops.
 *
 * - QEMU maps the image: clusterscope's JSON equals QEMU's, or clusterscope flags the map as
 *   suspect (a warning finding giving the reason), or refuses with a typed error.
 * - QEMU refuses: clusterscope refuses with an error of the matching class, or prints a map
 *   with a warning finding giving the reason.
 * Anything else is a disagreement; the message quotes both outputs and the seed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import { runInput } from '../testing/fuzz/harness.ts';
import { mutatedInput, seedCorpus } from '../testing/fuzzCorpus.ts';

const RUNS = Number(process.env.CS_FUZZ_ORACLE_RUNS ?? 40);
const START = Number(process.env.CS_FUZZ_ORACLE_START ?? 5000);
const work = mkdtempSync(join(tmpdir(), 'cs-fuzz-oracle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The error classes clusterscope may answer for a QEMU refusal, read from qemu-img's message. */
function classesForQemuError(stderr: string): string[] {
  // A backing file QEMU could not open: classify the reason it gives after the colon.
  const backing = /Could not open backing file: (.*)/.exec(stderr);
  if (backing && !/No such file/.test(backing[1]!)) return classesForQemuError(backing[1]!);
  if (/not in qcow2 format|Unsupported qcow2 version/.test(stderr)) return ['format'];
  if (
    /[Uu]nsupported|not supported|Unknown driver|unknown compression type|Missing CRYPTO|entry width too large/.test(
      stderr,
    )
  )
    return ['unsupported'];
  if (/Could not open backing|No such file/.test(stderr)) return ['io'];
  // QEMU's size refusals ("Active L1 table too large", "Too many snapshots") are clusterscope's limits.
  if (/too large|Too many|too big/.test(stderr)) return ['limit', 'corrupt'];
  // Everything else is EINVAL/EIO on metadata that contradicts itself (or a read QEMU refuses).
  return ['corrupt', 'io', 'limit'];
}

/**
 * Disagreements understood but not resolved, each with its reason; anything else fails.
 * clusterscope's map reads no snapshot table (shared.ts: mapping the active L1 never reads
 * it), while QEMU's open reads and validates it, so a damaged snapshot table makes QEMU refuse
 * an image whose active map clusterscope prints. Seen at oracle seeds 10018, 10050, 10086.
 */
const KNOWN: readonly { readonly qemu: RegExp; readonly reason: string }[] = [
  // Empty since the engine validates the snapshot table and bitmaps on open and the CLI opens
  // external data files, as qcow2_do_open() does. Add an entry only with its reason.
];

const tally: Record<string, number> = {};
afterAll(() => console.log(`fuzz oracle: ${JSON.stringify(tally)}`));

describe('live oracle: qemu-img map on fuzzed fixtures', () => {
  it(`${RUNS} seeded mutations from seed ${START}: clusterscope agrees, refuses alike, or flags the map as suspect`, async () => {
    // luks: qemu-img cannot open it without the key secret (its goldens use --image-opts).
    const cases = seedCorpus().filter((c) => c.top.endsWith('.qcow2') && c.name !== 'luks');
    const disagreements: string[] = [];
    for (let seed = START; seed < START + RUNS; seed++) {
      const input = mutatedInput(seed, cases);
      const dir = join(work, `s${seed}`);
      mkdirSync(dir);
      for (const [f, b] of input.files) writeFileSync(join(dir, f), b);
      const q = spawnSync('qemu-img', ['map', '--output=json', '-f', 'qcow2', input.top], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const ours = await runCli(['map', '--output=json', '--qemu=7.2', '--format=qcow2', input.top], dir);
      const engine = await runInput(input);
      const warned = /clusterscope: warning: /.test(ours.stderr);
      const ctx = [
        `seed ${seed}: ${input.origin} (${input.mutated}): ${input.what}`,
        `qemu-img (exit ${q.status}): ${q.stdout.slice(0, 600)} ${q.stderr.trim()}`,
        `clusterscope (exit ${ours.code}, engine ${engine.outcome}): ${ours.stdout.slice(0, 600)} ${ours.stderr.trim()}`,
      ].join('\n  ');
      let verdict: string;
      expect(ours.code, `no internal error\n  ${ctx}`).not.toBe(2);
      if (q.status === 0) {
        if (ours.code === 0) {
          const same = JSON.stringify(JSON.parse(ours.stdout)) === JSON.stringify(JSON.parse(q.stdout));
          verdict = same ? 'equal' : warned ? 'differs, flagged suspect' : 'DISAGREE';
        } else {
          verdict = `qemu maps, clusterscope refuses (${engine.outcome})`;
          console.log(`fuzz oracle: ${verdict}\n  ${ctx}`);
        }
      } else {
        const want = classesForQemuError(q.stderr);
        // The in-memory harness has no file system, so a refusal only the CLI can make (a missing
        // external data file) leaves the engine 'ok' while the CLI refuses, as QEMU does.
        // The CLI says QEMU's own sentence (after its prefix naming file, structure, offset): the
        // harness's engine, which opens no data file, may meet other damage first.
        const sentence = /Could not open '[^']*': (.*)$/m.exec(q.stderr)?.[1]?.trim();
        const saysQemu = sentence !== undefined && ours.stderr.includes(sentence);
        if (ours.code !== 0) {
          verdict =
            want.includes(engine.outcome) || engine.outcome === 'ok' || saysQemu ? 'both refuse' : 'DISAGREE';
        } else verdict = warned ? 'qemu refuses, map flagged suspect' : 'DISAGREE';
      }
      const known = verdict === 'DISAGREE' ? KNOWN.find((k) => k.qemu.test(q.stderr)) : undefined;
      if (known) {
        verdict = `known: ${known.reason}`;
        console.log(`fuzz oracle: known disagreement\n  ${ctx}`);
      }
      tally[verdict] = (tally[verdict] ?? 0) + 1;
      if (verdict === 'DISAGREE') disagreements.push(ctx);
    }
    expect(disagreements).toEqual([]);
  }, 300_000);
});
