/**
 * The house's rules hold for every layer (ARCHITECTURE.md): each layer imports only the layers
 * it may, no product file imports test tooling, and no import cycle exists between files (so
 * none between folders). src/testing/layers.ts holds the rules; this runs them over src/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cycles, type SourceFile, violations } from './testing/layers.ts';

const ROOT = join(import.meta.dirname, '..');

function sources(dir: string): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) ? [{ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }] : [];
  });
}

describe('the import rules of the house', () => {
  const files = sources(join(ROOT, 'src'));

  it('every layer imports only what it may', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(violations(files)).toEqual([]);
  });

  it('no import cycle between files', () => {
    expect(cycles(files)).toEqual([]);
  });

  it('the checker finds what it must: a UI file importing the worker, a cycle, test tooling in a product file', () => {
    const bad: SourceFile[] = [
      { path: 'src/ui/A.tsx', text: "import { createHandler } from '../worker/handler.ts';" },
      { path: 'src/state/b.ts', text: "import { x } from './c.ts';" },
      { path: 'src/state/c.ts', text: "import { y } from './b.ts';" },
      {
        path: 'src/core/d.ts',
        text: "import fc from 'fast-check';\nimport { readFileSync } from 'node:fs';",
      },
      { path: 'src/protocol/e.ts', text: "import { hex } from '../core/format.ts';" },
      { path: 'src/worker/f.ts', text: "const s = await import('../state/store.ts');" },
    ];
    expect(violations(bad)).toEqual([
      'src/ui/A.tsx: src/ui may not import src/worker (../worker/handler.ts)',
      'src/core/d.ts: imports test tooling fast-check',
      "src/core/d.ts: src/core may not use Node's node:fs",
      'src/protocol/e.ts: src/protocol imports only types (../core/format.ts is a value import)',
      'src/worker/f.ts: src/worker may not import src/state (../state/store.ts)',
    ]);
    expect(cycles(bad)).toEqual([['src/state/b.ts', 'src/state/c.ts', 'src/state/b.ts']]);
  });
});
