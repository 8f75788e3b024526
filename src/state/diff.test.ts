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
});
