// Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function,
// locations mapped back to src/ through dist/cli/main.js.map when the bundle has one.
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const maps = new Map();
function sourceMapFor(url) {
  if (!url.startsWith('file://')) return undefined;
  if (maps.has(url)) return maps.get(url);
  let sm;
  const path = `${fileURLToPath(url)}.map`;
  if (existsSync(path)) sm = new SourceMap(JSON.parse(readFileSync(path, 'utf8')));
  maps.set(url, sm);
  return sm;
}

function location(cf) {
  const sm = sourceMapFor(cf.url);
  if (sm && cf.lineNumber >= 0) {
    const e = sm.findEntry(cf.lineNumber, cf.columnNumber);
    if (e?.originalSource) {
      const src = e.originalSource.replace(/^.*?\/(src\/)/, '$1');
      return `${src}:${e.originalLine + 1}`;
    }
  }
  if (!cf.url) return '(native)';
  const short = cf.url.replace(/^file:\/\/.*?\/(node_modules|dist|bin)\//, '$1/').replace(/^node:/, 'node:');
  return `${short}:${cf.lineNumber + 1}`;
}

/**
 * Returns { totalMs, self: [{name, where, ms}], inclusive: [...] } sorted by time.
 * Inclusive counts a function once per sample however deep it recurses.
 */
export function summariseProfile(path) {
  const prof = JSON.parse(readFileSync(path, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map();
  const info = new Map();
  for (const n of prof.nodes) {
    const cf = n.callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = location(cf);
    const key = `${name} ${where}`;
    keyOf.set(n.id, key);
    if (!info.has(key)) info.set(key, { name, where, self: 0, incl: 0 });
  }
  let total = 0;
  const stackKeys = new Map(); // node id -> unique keys on its stack
  const keysFor = (id) => {
    let s = stackKeys.get(id);
    if (s) return s;
    s = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) s.add(keyOf.get(x));
    stackKeys.set(id, s);
    return s;
  };
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000; // ms the sample stood for
    const id = prof.samples[i];
    total += dt;
    info.get(keyOf.get(id)).self += dt;
    for (const k of keysFor(id)) info.get(k).incl += dt;
  }
  const all = [...info.values()];
  return {
    totalMs: total,
    self: [...all].sort((a, b) => b.self - a.self),
    inclusive: [...all].sort((a, b) => b.incl - a.incl),
    byId,
  };
}

export function formatProfile(s, top = 15) {
  const row = (ms, pct, name, where) =>
    `  ${ms.toFixed(0).padStart(7)} ms ${pct.toFixed(1).padStart(5)}%  ${name}  ${where}`;
  const out = [`  profile total ${s.totalMs.toFixed(0)} ms`, '  self time:'];
  for (const f of s.self.slice(0, top)) out.push(row(f.self, (100 * f.self) / s.totalMs, f.name, f.where));
  out.push('  inclusive time (src/ functions):');
  for (const f of s.inclusive.filter((f) => f.where.startsWith('src/')).slice(0, top))
    out.push(row(f.incl, (100 * f.incl) / s.totalMs, f.name, f.where));
  return out.join('\n');
}
