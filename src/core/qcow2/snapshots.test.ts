/**
 * The snapshot table as QEMU 7.2 reads it (qcow2_do_read_snapshots()). The fixture's answers
 * come from `qemu-img info` / `qemu-img snapshot -l`; the refusals and tolerances were checked
 * against qemu-img 7.2 on patched copies (messages quoted from its stderr).
 */
import { describe, expect, it } from 'vitest';
import { fixtureBytes } from '../../testing/fixtureChain.ts';
import { golden } from '../../testing/fixtures.ts';
import type { ByteSource } from '../io/byteSource.ts';
import { MemorySource } from '../io/byteSource.ts';
import { openQcow2 } from './image.ts';
import { readSnapshotL1, readSnapshots } from './snapshots.ts';

/** The snapshots fixture: s1 and s2, table at 0xd0000 (entries at 0xd0000 and 0xd0048). */
const TABLE = 0xd0000;
const ENTRY1 = 0xd0048;

function patched(edits: [offset: number, bytes: number[]][]): MemorySource {
  const b = fixtureBytes('snapshots', 'top.qcow2').slice();
  for (const [off, bytes] of edits) b.set(bytes, off);
  return new MemorySource('top.qcow2', b);
}
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const be64 = (v: number) => [...be32(Math.floor(v / 2 ** 32)), ...be32(v >>> 0)];
const open = (src: ByteSource) => openQcow2(src);

describe('readSnapshots on a qemu-img made image', () => {
  it('returns the ids, names, dates and icount that qemu-img info reports, in table order', async () => {
    const img = await open(patched([]));
    const snaps = await readSnapshots(img);
    const info = JSON.parse(golden('snapshots', 'info.json')!) as { snapshots: Record<string, unknown>[] }[];
    expect(
      snaps.map((s) => ({
        id: s.id,
        name: s.name,
        'date-sec': s.dateSec,
        'date-nsec': s.dateNsec,
        'vm-state-size': s.vmStateSize,
        'vm-clock-sec': s.vmClockSec,
        'vm-clock-nsec': s.vmClockNsec,
        icount: s.icount,
      })),
    ).toEqual(info[0]!.snapshots);
    // qemu-img snapshot -l lists the same tags.
    expect(golden('snapshots', 'snapshot-list.txt')).toMatch(/^1\s+s1\s/m);
    expect(snaps.map((s) => s.name)).toEqual(['s1', 's2']);
  });

  it('reads each entry at its 8-byte aligned offset with its L1 table and the full 24 bytes of extra data', async () => {
    const img = await open(patched([]));
    const snaps = await readSnapshots(img);
    expect(snaps.map((s) => [s.entryOffset, s.l1TableOffset, s.l1Size, s.extraDataSize, s.diskSize])).toEqual(
      [
        [TABLE, 0x70000, 1, 24, img.length],
        [ENTRY1, 0xc0000, 1, 24, img.length],
      ],
    );
    expect(img.findings).toEqual([]);
  });

  it("reads a snapshot's L1 table as (hi, lo) pairs like the active L1", async () => {
    const img = await open(patched([]));
    const [s1] = await readSnapshots(img);
    const l1 = await readSnapshotL1(img, s1!);
    expect(l1.length).toBe(2);
    // The entry points at a cluster-aligned L2 table (bit 63, "copied", may be set: §2.9).
    const off = (l1[0]! & 0x00ffffff) * 2 ** 32 + (l1[1]! & 0xfffffe00);
    expect(off).toBeGreaterThan(0);
    expect(off % img.header.clusterSize).toBe(0);
  });

  it('reads the table once per image and shares the answer', async () => {
    const img = await open(patched([]));
    expect(await readSnapshots(img)).toBe(await readSnapshots(img));
  });
});

describe('snapshot table entries QEMU refuses', () => {
  it('refuses extra data above 1024 bytes naming the entry (qemu-img: "Too much extra metadata in snapshot table entry 0")', async () => {
    const img = await open(patched([[TABLE + 36, be32(1025)]]));
    await expect(readSnapshots(img)).rejects.toMatchObject({
      kind: 'limit',
      structure: 'snapshot table entry 0',
      offset: TABLE,
      message: expect.stringContaining('Too much extra metadata in snapshot table entry 0'),
    });
  });

  it('refuses a table larger than 64 MiB at the entry that crosses the limit ("Snapshot table is too big")', async () => {
    // 520 entries of 40 + 65535 + 65535 bytes (131112 with padding) cross 64 MiB at entry 511.
    const base = fixtureBytes('snapshots', 'top.qcow2').slice();
    const T = 0x1000000;
    base.set(be32(520), 60);
    base.set(be64(T), 64);
    const stride = 131112;
    const src: ByteSource = {
      name: 'top.qcow2',
      size: T + 520 * stride,
      async read(offset, length) {
        const end = Math.min(offset + length, this.size);
        const out = new Uint8Array(Math.max(0, end - offset));
        out.set(base.subarray(Math.min(offset, base.length), Math.min(end, base.length)));
        // Each entry's id_size and name_size (bytes 12..15) are 0xffff.
        for (let e = Math.max(0, Math.floor((offset - T) / stride)); T + e * stride < end; e++) {
          for (let k = 12; k < 16; k++) {
            const p = T + e * stride + k;
            if (p >= offset && p < end) out[p - offset] = 0xff;
          }
        }
        return out;
      },
    };
    const img = await open(src);
    await expect(readSnapshots(img)).rejects.toMatchObject({
      kind: 'limit',
      structure: 'snapshot table entry 511',
      offset: T + 511 * stride,
      message: expect.stringContaining('Snapshot table is too big'),
    });
  });
});

describe('snapshot table entries QEMU opens but qemu-img check reports', () => {
  it('accepts an unaligned snapshot L1 offset with a finding, and refuses to load that L1 ("Snapshot L1 table offset invalid")', async () => {
    const img = await open(patched([[TABLE, be64(0x70200)]]));
    const [s1] = await readSnapshots(img);
    expect(img.findings).toEqual([
      expect.objectContaining({
        structure: 'snapshot table entry 0',
        offset: TABLE,
        message: expect.stringMatching(/not cluster-aligned/),
      }),
    ]);
    await expect(readSnapshotL1(img, s1!)).rejects.toMatchObject({
      kind: 'corrupt',
      message: expect.stringContaining('Snapshot L1 table offset invalid'),
    });
  });

  it('accepts an oversized snapshot L1 with a finding, and refuses to load it with a LimitError', async () => {
    const img = await open(patched([[TABLE + 8, be32(0x400001)]]));
    const [s1] = await readSnapshots(img);
    expect(img.findings[0]?.message).toMatch(/L1 table is too large/);
    await expect(readSnapshotL1(img, s1!)).rejects.toMatchObject({ kind: 'limit' });
  });

  it('accepts a v3 entry with only 8 bytes of extra data: no disk size, no icount, a finding (qemu-img 7.2 omits icount)', async () => {
    const img = await open(patched([[ENTRY1 + 36, be32(8)]]));
    const snaps = await readSnapshots(img);
    expect(snaps[1]).not.toHaveProperty('icount');
    expect(snaps[1]).not.toHaveProperty('diskSize');
    expect(img.findings).toEqual([
      expect.objectContaining({
        structure: 'snapshot table entry 1',
        message: expect.stringMatching(/version 3/),
      }),
    ]);
  });

  it('treats icount -1 (icount off) as absent', async () => {
    const img = await open(patched([[ENTRY1 + 40 + 16, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]]]));
    const snaps = await readSnapshots(img);
    expect(snaps[0]!.icount).toBe(0);
    expect(snaps[1]).not.toHaveProperty('icount');
  });

  it('ends an id at an embedded NUL, as QEMU reads it into a C string', async () => {
    // Entry 0's id "1" sits right after its 24 bytes of extra data.
    const img = await open(patched([[TABLE + 40 + 24, [0]]]));
    const snaps = await readSnapshots(img);
    expect(snaps[0]!.id).toBe('');
    expect(snaps[0]!.name).toBe('s1');
  });
});
