import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_HOLES_SCAN, HOST_HOLES_WHY } from './hostHolesWords.ts';

/** Markdown to the words a reader sees: no backticks or emphasis, one space between words. */
const words = (md: string) => md.replace(/[`*]/g, '').replace(/\s+/g, ' ');

describe('the README and the page say the same about host holes', () => {
  const readme = words(readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8'));
  it('why the page answers as on a dense copy', () => expect(readme).toContain(HOST_HOLES_WHY));
  it('what the content scan does', () => expect(readme).toContain(HOST_HOLES_SCAN));
});
