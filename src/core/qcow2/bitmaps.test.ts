/**
 * Persistent bitmaps as QEMU 7.2 loads them on open. Answers come from the bitmaps fixture's
 * `qemu-img info` and `nbdinfo --map=qemu:dirty-bitmap:bN` goldens; each refusal was checked
 * against qemu-img 7.2 on a patched copy (messages quoted from its stderr).
 */
import { describe, expect, it } from 'vitest';
import { fixtureBytes } from '../../testing/fixtureChain.ts';
import { golden, parseNbdinfo } from '../../testing/fixtures.ts';
import { layerInfo } from '../info/info.ts';
import { MemorySource } from '../io/byteSource.ts';
import { readBitmaps, readBitmapTable, readDirtyExtents } from './bitmaps.ts';
import { openQcow2 } from './image.ts';

/**
 * The bitmaps fixture: extension head at 0x1f8 (nb_bitmaps at 0x200, directory size at 0x208),
 * directory at 0x180000 with entries b1, b2, b3, b4 every 0x20 bytes; b1's table at 0xb0000.
 */
const EXT = 0x1f8;
const DIR = 0x180000;
const B1_TABLE = 0xb0000;

const be32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
function open(edits: [offset: number, bytes: number[]][] = []) {
  const b = fixtureBytes('bitmaps', 'top.qcow2').slice();
  for (const [off, bytes] of edits) b.set(bytes, off);
  return openQcow2(new MemorySource('top.qcow2', b));
}

describe('readBitmaps on a qemu-img made image', () => {
  it('returns names, granularities and flags as qemu-img info lists them', async () => {
    const img = await open();
    const bitmaps = await readBitmaps(img);
    const info = JSON.parse(golden('bitmaps', 'info.json')!) as {
      'format-specific': { data: { bitmaps: { name: string; granularity: number; flags: string[] }[] } };
    }[];
    const want = info[0]!['format-specific'].data.bitmaps;
    expect(
      bitmaps.map((b) => ({
        name: b.name,
        granularity: b.granularity,
        flags: [...(b.flags.inUse ? ['in-use'] : []), ...(b.flags.auto ? ['auto'] : [])],
      })),
    ).toEqual(want);
    expect(bitmaps.map((b) => [b.name, b.granularityBits, b.entryOffset])).toEqual([
      ['b1', 16, DIR],
      ['b2', 12, DIR + 0x20],
      ['b3', 9, DIR + 0x40],
      ['b4', 17, DIR + 0x60],
    ]);
  });

  for (const n of [1, 2, 3, 4]) {
    it(`b${n}: dirty ranges equal nbdinfo --map=qemu:dirty-bitmap:b${n}`, async () => {
      const img = await open();
      const bm = (await readBitmaps(img)).find((b) => b.name === `b${n}`)!;
      const ext = await readDirtyExtents(img, bm);
      const got: [number, number][] = [];
      for (let i = 0; i < ext.count; i++) got.push([ext.starts[i]!, ext.lengths[i]!]);
      const want = parseNbdinfo(golden('bitmaps', `nbd-bitmap-b${n}.txt`)!)
        .filter(([, , type]) => type === 1)
        .map(([o, l]) => [o, l]);
      expect(got).toEqual(want);
    });
  }

  it('ignores the extension with a finding when autoclear bit 0 is clear, as QEMU does (no bitmaps in info)', async () => {
    // Reserved field made non-zero too: QEMU does not even check it then.
    const img = await open([
      [95, [0]],
      [EXT + 12, [1]],
    ]);
    expect(await readBitmaps(img)).toEqual([]);
    expect(img.findings).toEqual([
      expect.objectContaining({
        structure: 'bitmaps header extension',
        message: expect.stringMatching(/autoclear bit 0/),
      }),
    ]);
    const info = await layerInfo(img);
    expect(info['format-specific']?.data).not.toHaveProperty('bitmaps');
  });
});

describe('bitmap directories QEMU refuses (check_dir_entry, bitmap_list_load)', () => {
  const cases: [string, [number, number[]][], string, string][] = [
    ['a reserved flag bit', [[DIR + 12, be32(6)]], 'corrupt', "Bitmap 'b1' doesn't satisfy the constraints"],
    ['granularity_bits 8', [[DIR + 17, [8]]], 'corrupt', "Bitmap 'b1' doesn't satisfy the constraints"],
    ['type 2', [[DIR + 16, [2]]], 'corrupt', "Bitmap 'b1' doesn't satisfy the constraints"],
    ['a zero name size', [[DIR + 18, [0, 0]]], 'corrupt', "Bitmap '' doesn't satisfy the constraints"],
    [
      'a zero table offset',
      [[DIR, [0, 0, 0, 0, 0, 0, 0, 0]]],
      'corrupt',
      "Bitmap 'b1' doesn't satisfy the constraints",
    ],
    ['a zero table size', [[DIR + 8, be32(0)]], 'corrupt', "Bitmap 'b1' doesn't satisfy the constraints"],
    ['extra data', [[DIR + 20, be32(8)]], 'unsupported', 'Bitmap extra data is not supported'],
    [
      'nb_bitmaps 3 for 4 entries',
      [[EXT + 8, be32(3)]],
      'corrupt',
      'More bitmaps found than specified in header extension',
    ],
    [
      'nb_bitmaps 5 for 4 entries',
      [[EXT + 8, be32(5)]],
      'corrupt',
      'Less bitmaps found than specified in header extension',
    ],
    ['a directory size cut inside an entry', [[EXT + 20, be32(120)]], 'corrupt', 'Broken bitmap directory'],
    ['a directory size past the last entry', [[EXT + 20, be32(136)]], 'corrupt', 'Broken bitmap directory'],
  ];
  for (const [what, edits, kind, message] of cases) {
    it(`refuses ${what} ("${message}")`, async () => {
      const img = await open(edits);
      await expect(readBitmaps(img)).rejects.toMatchObject({
        kind,
        message: expect.stringContaining(message),
      });
    });
  }

  it('names the directory entry and its offset in the error', async () => {
    const img = await open([[DIR + 0x20 + 12, be32(4)]]);
    await expect(readBitmaps(img)).rejects.toMatchObject({
      structure: 'bitmap directory entry 1',
      offset: DIR + 0x20,
    });
  });
});

describe('bitmap tables QEMU refuses when it loads a bitmap', () => {
  it('refuses a table entry with a reserved bit ("Could not read bitmap_table table from image for bitmap \'b1\'")', async () => {
    const img = await open([[B1_TABLE + 7, [0x02]]]);
    const [b1] = await readBitmaps(img);
    await expect(readBitmapTable(img, b1!)).rejects.toMatchObject({
      kind: 'corrupt',
      structure: "bitmap table entry 0 of 'b1'",
      offset: B1_TABLE,
      message: expect.stringContaining("Could not read bitmap_table table from image for bitmap 'b1'"),
    });
  });

  it('refuses a table whose size does not match the disk for a bitmap not in use ("Could not read bitmap \'b1\' from image")', async () => {
    const img = await open([[DIR + 8, be32(2)]]);
    const [b1] = await readBitmaps(img);
    await expect(readBitmapTable(img, b1!)).rejects.toMatchObject({
      message: expect.stringContaining("Could not read bitmap 'b1' from image"),
    });
    // imageInfo opens like QEMU, so `info` fails on it too.
    await expect(layerInfo(img)).rejects.toMatchObject({ kind: 'corrupt' });
  });

  it('accepts that size mismatch for an in-use bitmap, whose data QEMU never reads, and lists it as in-use', async () => {
    const img = await open([
      [DIR + 8, be32(2)],
      [DIR + 12, be32(3)],
    ]);
    const info = await layerInfo(img);
    expect(info['format-specific']?.data.bitmaps?.[0]).toEqual({
      flags: ['in-use', 'auto'],
      name: 'b1',
      granularity: 65536,
    });
  });
});
