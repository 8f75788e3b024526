/** Test helper: fixture images as File objects, as the browser hands them to the worker. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './fixtures.ts';

export const fixtureFile = (dir: string, name: string): File =>
  new File([readFileSync(join(FIXTURES, 'images', dir, name))], name);
