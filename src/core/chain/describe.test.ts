/**
 * The chain's files in words, external data files included (reference §2.7), and the error for
 * a missing data file: QEMU's sentence (fixtures/golden/datafile-missing/map.json.err) plus the
 * file to supply.
 */
import { describe, expect, it } from 'vitest';
import { openFixtureChain, openFixtureChainWithDataFile } from '../../testing/fixtureChain.ts';
import { golden } from '../../testing/fixtures.ts';
import { qemuImgMap } from '../interpret/qemuImgMap.ts';
import { describeResolved } from '../status/describe.ts';
import { chainStatus } from '../status/resolve.ts';
import { MissingFileError } from './chain.ts';
import { chainWords, describeChain, hostFileName } from './describe.ts';

describe('chains with an external data file', () => {
  it('datafile: the data file is listed after its layer, opened, with its size', async () => {
    const chain = await openFixtureChainWithDataFile('datafile');
    expect(describeChain(chain).map((f) => [f.role, f.name, f.format, f.opened, f.size])).toEqual([
      ['top', 'top.qcow2', 'qcow2', true, 327680],
      ['data-file', 'data.raw', 'raw', true, 393216],
    ]);
    // qemu-img info: "data-file": "data.raw", "data-file-raw": false
    expect(golden('datafile', 'info.json')).toContain('"data-file": "data.raw"');
    expect(chainWords(chain)).toBe(
      'top.qcow2 (qcow2, the top; its guest data is in data.raw), data.raw (external data file of top.qcow2)',
    );
    expect(hostFileName(chain.layers[0]!)).toBe('data.raw');
  });

  it('datafile-raw: data_file_raw is said; a data file not opened is named as such', async () => {
    const chain = await openFixtureChain('datafile-raw');
    expect(golden('datafile-raw', 'info.json')).toContain('"data-file-raw": true');
    const files = describeChain(chain);
    expect(files[1]).toMatchObject({ role: 'data-file', name: 'data.raw', opened: false });
    expect(files[1]!.words).toContain('data_file_raw');
    expect(files[1]!.words).toContain('not opened');
  });

  it('explanations say the host offset is in the data file', async () => {
    const st = await chainStatus(await openFixtureChain('datafile'));
    // golden map.json: { "start": 0, ..., "data": true, "offset": 0} (map.txt: File data.raw)
    expect(golden('datafile', 'map.txt')).toContain(
      '0               0x10000         0               data.raw',
    );
    expect(describeResolved(st, 0)).toContain(
      'at host offset 0x0 in data.raw (the external data file of top.qcow2)',
    );
    expect(qemuImgMap(7002).explain(st, 0)).toContain('"offset": 0 (0x0 in data.raw)');
    const plain = await chainStatus(await openFixtureChain('zero-unmap'));
    expect(describeResolved(plain, 0)).toMatch(/at host offset 0x50000: /);
  });

  it('a missing data file: QEMU refuses the image; the error names the file to supply', async () => {
    const qemu = golden('datafile-missing', 'map.json.err')!;
    expect(qemu).toBe(
      "qemu-img: Could not open 'top.qcow2': Could not open 'data.raw': No such file or directory\n",
    );
    const err = await openFixtureChainWithDataFile('datafile-missing').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingFileError);
    const m = err as MissingFileError;
    expect(m).toMatchObject({ kind: 'io', file: 'top.qcow2', missing: 'data.raw', role: 'data file' });
    expect(m.detail).toContain("Could not open 'data.raw': No such file or directory");
    expect(m.detail).toBe("Could not open 'data.raw': No such file or directory");
    expect(m.hint).toBe(
      'top.qcow2 keeps its guest data in the external data file data.raw: supply data.raw with it',
    );
    expect(m.offset).toBeTypeOf('number');
  });
});
