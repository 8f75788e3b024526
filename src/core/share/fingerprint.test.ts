import { describe, expect, it } from 'vitest';
import { fnv1a64 } from './fingerprint.ts';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('fnv1a64', () => {
  it('matches the reference FNV-1a 64 test vectors', () => {
    expect(fnv1a64([])).toBe('cbf29ce484222325');
    expect(fnv1a64([ascii('a')])).toBe('af63dc4c8601ec8c');
    expect(fnv1a64([ascii('foobar')])).toBe('85944171f73967e8');
  });
  it('is the same over chunks as over their concatenation', () => {
    expect(fnv1a64([ascii('foo'), ascii('bar')])).toBe(fnv1a64([ascii('foobar')]));
  });
});
