import { describe, expect, it } from 'vitest';
import { sizeNote } from './sizes.ts';

describe('sizeNote', () => {
  it('is silent when both images have one virtual size', () => {
    expect(sizeNote({ lengthA: 4096, lengthB: 4096, overlap: 4096 })).toBeUndefined();
  });

  it('names the overlap compared and the longer side, in bytes or in the caller units', () => {
    expect(sizeNote({ lengthA: 524288, lengthB: 786432, overlap: 524288 })).toBe(
      'Virtual sizes differ (A 524288 bytes, B 786432 bytes): compared where both reach, the first 524288 bytes; the remaining 262144 bytes are only in B.',
    );
    expect(sizeNote({ lengthA: 3, lengthB: 1, overlap: 1 }, (n) => `${n} B`)).toBe(
      'Virtual sizes differ (A 3 B, B 1 B): compared where both reach, the first 1 B; the remaining 2 B are only in A.',
    );
  });
});
