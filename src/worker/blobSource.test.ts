import { describe, expect, it } from 'vitest';
import { BlobSource } from './blobSource.ts';

describe('BlobSource', () => {
  const blob = new Blob([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])]);
  it('reads a slice', async () => {
    expect([...(await new BlobSource('a', blob).read(2, 3))]).toEqual([3, 4, 5]);
  });
  it('clips a read that runs past the end, and is empty at the end', async () => {
    const s = new BlobSource('a', blob);
    expect([...(await s.read(6, 10))]).toEqual([7, 8]);
    expect((await s.read(8, 4)).length).toBe(0);
    expect(s.size).toBe(8);
  });
});
