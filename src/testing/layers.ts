/**
 * The house's import rules (ARCHITECTURE.md), as data and a checker that the architecture test
 * runs over every source file; Biome's noRestrictedImports (biome.json) says the same in the
 * editor. A layer may import only the layers it names; test files and src/testing may import
 * anything; product files never import test tooling.
 */

export type Layer = 'core' | 'protocol' | 'lessons' | 'worker' | 'state' | 'ui' | 'cli' | 'testing' | 'main';

/** What each layer may import from the others (itself always). */
export const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[]>> = {
  core: [],
  protocol: ['core'],
  /** The teaching material: data, with the protocol's types for the images a lesson builds. */
  lessons: ['protocol'],
  worker: ['core', 'protocol'],
  state: ['core', 'protocol', 'lessons'],
  ui: ['core', 'protocol', 'state', 'lessons'],
  cli: ['core'],
  testing: ['core', 'protocol', 'lessons', 'worker', 'state', 'ui', 'cli'],
  main: ['core', 'protocol', 'state', 'ui'],
};

/** Packages each layer may not use (node: builtins are refused outside cli and testing). */
const FORBIDDEN_PACKAGES: Readonly<Record<Layer, readonly string[]>> = {
  core: ['react', 'react-dom', 'zustand', 'd3'],
  protocol: ['react', 'react-dom', 'zustand', 'd3'],
  lessons: ['react', 'react-dom', 'zustand', 'd3'],
  worker: ['react', 'react-dom', 'zustand', 'd3'],
  state: ['react', 'react-dom', 'd3'],
  ui: [],
  cli: ['react', 'react-dom', 'zustand', 'd3'],
  testing: [],
  main: [],
};
const TEST_TOOLING = ['fast-check', 'vitest', '@playwright/test', 'playwright-core'];
const NODE_OK: readonly Layer[] = ['cli', 'testing'];

export interface SourceFile {
  /** Path from the repository root, e.g. src/ui/App.tsx. */
  readonly path: string;
  readonly text: string;
}

export interface ImportRef {
  readonly from: string;
  readonly spec: string;
  /** `import type` / `export type ... from`: erased, no runtime dependency. */
  readonly typeOnly: boolean;
}

export const layerOf = (path: string): Layer | undefined => {
  if (path === 'src/main.tsx') return 'main';
  const m = /^src\/([^/]+)\//.exec(path);
  return m && (m[1] as Layer) in MAY_IMPORT ? (m[1] as Layer) : undefined;
};

export const isTest = (path: string): boolean => /\.test\.tsx?$/.test(path);

/** Import and export-from specifiers of a file, static and dynamic. */
export function importsOf(f: SourceFile): ImportRef[] {
  const out: ImportRef[] = [];
  const re =
    /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (let m = re.exec(f.text); m; m = re.exec(f.text)) {
    const spec = m[3] ?? m[4] ?? m[5];
    if (spec) out.push({ from: f.path, spec, typeOnly: m[2] !== undefined });
  }
  return out;
}

/** Resolves a relative specifier to a repository path ('' for a package). */
export function resolve(from: string, spec: string): string {
  if (!spec.startsWith('.')) return '';
  const parts = from.split('/').slice(0, -1);
  for (const p of spec.split('/')) {
    if (p === '..') parts.pop();
    else if (p !== '.') parts.push(p);
  }
  return parts.join('/');
}

/** Every broken rule, in words: one line per import. */
export function violations(files: readonly SourceFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const from = layerOf(f.path);
    if (!from || isTest(f.path)) continue;
    for (const ref of importsOf(f)) {
      const target = resolve(f.path, ref.spec);
      if (!target) {
        const pkg = ref.spec.startsWith('@')
          ? ref.spec.split('/').slice(0, 2).join('/')
          : ref.spec.split('/')[0]!;
        if (TEST_TOOLING.includes(pkg) && from !== 'testing')
          out.push(`${f.path}: imports test tooling ${pkg}`);
        else if (FORBIDDEN_PACKAGES[from].includes(pkg))
          out.push(`${f.path}: src/${from} may not use ${pkg}`);
        else if (ref.spec.startsWith('node:') && !NODE_OK.includes(from))
          out.push(`${f.path}: src/${from} may not use Node's ${ref.spec}`);
        continue;
      }
      const to = layerOf(target);
      if (!to || to === from) continue;
      if (!MAY_IMPORT[from].includes(to))
        out.push(`${f.path}: src/${from} may not import src/${to} (${ref.spec})`);
      else if (from === 'protocol' && !ref.typeOnly)
        out.push(`${f.path}: src/protocol imports only types (${ref.spec} is a value import)`);
    }
  }
  return out;
}

/** Import cycles between files (runtime imports only), each as a list of paths. */
export function cycles(files: readonly SourceFile[]): string[][] {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const edges = new Map<string, string[]>();
  for (const f of files) {
    if (isTest(f.path)) continue;
    const next: string[] = [];
    for (const ref of importsOf(f)) {
      if (ref.typeOnly) continue;
      const t = resolve(f.path, ref.spec);
      if (byPath.has(t)) next.push(t);
    }
    edges.set(f.path, next);
  }
  const found: string[][] = [];
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (p: string) => {
    state.set(p, 1);
    stack.push(p);
    for (const n of edges.get(p) ?? []) {
      if (state.get(n) === 1) found.push([...stack.slice(stack.indexOf(n)), n]);
      else if (!state.has(n)) visit(n);
    }
    stack.pop();
    state.set(p, 2);
  };
  for (const p of edges.keys()) if (!state.has(p)) visit(p);
  return found;
}
