import { describe, expect, it } from 'vitest';
import { DEFAULT_DIFF, parseSide, readDiffParams, writeDiffParams } from './diff.ts';

describe('diff URL state', () => {
  it('round-trips A and B through hash params in the CLI INTERP@VIEW form', () => {
    const p = new URLSearchParams();
    writeDiffParams(p, DEFAULT_DIFF);
    expect(p.get('a')).toBe('nbd-base-allocation-5.2@backing-null');
    const problems: string[] = [];
    expect(readDiffParams(new URLSearchParams(p.toString()), problems)).toEqual(DEFAULT_DIFF);
    expect(problems).toEqual([]);
  });

  it('canonicalises views and refuses unknown ids and views with a problem in words', () => {
    expect(parseSide('qemu-img-map-7.2@chain')).toEqual({ interp: 'qemu-img-map-7.2', view: '' });
    expect(parseSide('nope@backing-null')).toBeUndefined();
    const problems: string[] = [];
    expect(readDiffParams(new URLSearchParams('a=qemu-img-map-7.2&b=x@y'), problems)).toBeUndefined();
    expect(problems[0]).toContain('unknown interpretation');
  });

  it("takes a persistent bitmap's id in its one spelling, and refuses another spelling", () => {
    expect(parseSide('nbd-dirty-bitmap-.44aily.2e2@backing-null')).toEqual({
      interp: 'nbd-dirty-bitmap-.44aily.2e2',
      view: 'backing-null',
    });
    expect(parseSide('written-in-top')).toEqual({ interp: 'written-in-top', view: '' });
    expect(parseSide('nbd-dirty-bitmap-.62')).toBeUndefined();
  });
});

describe('diff URL state: image B', () => {
  const bImage = { files: ['vm-later.qcow2', 'base.raw'], size: 0xc0000, fingerprint: '0123456789abcdef' };

  it("names B's image by base names and identity, never by bytes or paths", () => {
    const p = new URLSearchParams();
    writeDiffParams(p, { ...DEFAULT_DIFF, bImage });
    expect(p.toString()).toBe(
      'a=nbd-base-allocation-5.2%40backing-null&b=nbd-base-allocation-6.0%40backing-null&bfile=vm-later.qcow2&bfile=base.raw&bsize=0xc0000&bfp=0123456789abcdef',
    );
    const problems: string[] = [];
    expect(readDiffParams(new URLSearchParams(p.toString()), problems)).toEqual({ ...DEFAULT_DIFF, bImage });
    expect(problems).toEqual([]);
  });

  it('a path for a name is not written; the side then reads the page image', () => {
    const p = new URLSearchParams();
    writeDiffParams(p, { ...DEFAULT_DIFF, bImage: { files: ['/home/me/vm.qcow2'], size: 1 } });
    expect(p.has('bfile')).toBe(false);
    expect(p.has('bsize')).toBe(false);
  });

  it('refuses malformed names, sizes and fingerprints in words, keeping A and B', () => {
    for (const q of [
      'bfile=../x&bsize=0x10',
      'bfile=vm.qcow2&bsize=lots',
      'bsize=0x10',
      'bfile=vm.qcow2&bsize=0x10&bfp=nothex',
    ]) {
      const problems: string[] = [];
      const d = readDiffParams(new URLSearchParams(`a=qemu-img-map-7.2&b=qemu-img-map-7.2&${q}`), problems);
      expect(d, q).toEqual({
        a: { interp: 'qemu-img-map-7.2', view: '' },
        b: { interp: 'qemu-img-map-7.2', view: '' },
      });
      expect(problems[0], q).toMatch(/image B|fingerprint of image B/);
    }
  });
});
