/**
 * Snapshot names with non-ASCII bytes, decoded as `qemu-img info --output=json` 7.2 prints them
 * (fixtures/golden/snapshot-names/info.json; the names are in fixtures/make-fixtures.sh).
 * TextDecoder differs from QEMU on malformed sequences, which this test pins. `qemu-img snapshot
 * -l` prints the raw bytes (snapshot-list.txt): the same for well-formed UTF-8; malformed names
 * show U+FFFD in clusterscope, as in QEMU's JSON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureBytes } from '../../testing/fixtureChain.ts';
import { FIXTURES, golden } from '../../testing/fixtures.ts';
import { openQcow2 } from '../qcow2/image.ts';
import { readSnapshots } from '../qcow2/snapshots.ts';
import { MemorySource } from './byteSource.ts';
import { cString } from './cString.ts';

const qemuNames = () =>
  (
    JSON.parse(golden('snapshot-names', 'info.json')!) as { snapshots: { name: string }[] }[]
  )[0]!.snapshots.map((s) => s.name);

describe('cString decodes names as QEMU JSON output shows them', () => {
  it('every snapshot name of the snapshot-names fixture equals qemu-img info --output=json', async () => {
    const img = await openQcow2(new MemorySource('top.qcow2', fixtureBytes('snapshot-names', 'top.qcow2')));
    const names = (await readSnapshots(img)).map((s) => s.name);
    expect(names).toEqual(qemuNames());
    expect(names.length).toBe(15);
  });

  it('differs from TextDecoder where QEMU does (one U+FFFD per malformed sequence, C0 80 is NUL)', () => {
    const b = (...x: number[]) => Uint8Array.from(x);
    expect(cString(b(0x61, 0xe0, 0x80, 0x80, 0x62))).toBe('a\uFFFDb');
    expect(new TextDecoder().decode(b(0x61, 0xe0, 0x80, 0x80, 0x62))).toBe('a\uFFFD\uFFFD\uFFFDb');
    expect(cString(b(0x61, 0xc0, 0x80, 0x62))).toBe('a\u0000b');
    expect(qemuNames()).toContain('a\u0000b');
  });

  it('well-formed names are the bytes qemu-img snapshot -l prints (it prints names as raw bytes)', () => {
    const raw = readFileSync(join(FIXTURES, 'golden', 'snapshot-names', 'snapshot-list.txt'));
    const wellFormed = qemuNames().filter((n) => !n.includes('\uFFFD') && !n.includes('\u0000'));
    expect(wellFormed).toEqual(['caf\u00E9', 'ctl\u0001\u007F', 'a\uD83D\uDE00b']);
    for (const n of wellFormed) expect(raw.includes(Buffer.from(n, 'utf8'))).toBe(true);
  });

  it('ends at the first NUL byte, as QEMU reads the name into a C string', () => {
    expect(cString(Uint8Array.from([0x73, 0x31, 0, 0x78]))).toBe('s1');
  });
});
