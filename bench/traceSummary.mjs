// Summarise a Chromium trace's V8 CPU profile samples per thread: self time per function.
import { readFileSync } from 'node:fs';

const trace = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const events = trace.traceEvents ?? trace;
const threadNames = new Map();
for (const e of events)
  if (e.ph === 'M' && e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, e.args.name);
const profiles = new Map(); // id -> {thread, nodes Map, samples[], deltas[]}
for (const e of events) {
  if (e.name === 'Profile')
    profiles.set(`${e.pid}:${e.id}`, {
      thread: `${e.pid}:${e.tid}`,
      nodes: new Map(),
      samples: [],
      deltas: [],
    });
  if (e.name === 'ProfileChunk') {
    const p = profiles.get(`${e.pid}:${e.id}`);
    if (!p) continue;
    const d = e.args.data;
    for (const n of d.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n);
    p.samples.push(...(d.cpuProfile?.samples ?? []));
    p.deltas.push(...(d.timeDeltas ?? []));
  }
}
const top = Number(process.argv[3] ?? 25);
// Optional: a function name whose self time is broken down by its callers (3 frames up).
const focus = process.argv[4];
for (const p of profiles.values()) {
  const self = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = p.nodes.get(p.samples[i]);
    const dt = (p.deltas[i + 1] ?? 0) / 1000;
    if (!n) continue;
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anon)'} ${(cf.url ?? '').split('/').pop()}:${(cf.lineNumber ?? -1) + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  if (focus) {
    const parent = new Map();
    for (const n of p.nodes.values()) {
      if (n.parent !== undefined) parent.set(n.id, n.parent);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    const name = (id) => {
      const cf = p.nodes.get(id)?.callFrame;
      return cf ? `${cf.functionName || '(anon)'}:${(cf.lineNumber ?? -1) + 1}` : '?';
    };
    const by = new Map();
    for (let i = 0; i < p.samples.length; i++) {
      const n = p.nodes.get(p.samples[i]);
      if (n?.callFrame.functionName !== focus) continue;
      const chain = [];
      for (let id = parent.get(n.id), k = 0; id !== undefined && k < 4; id = parent.get(id), k++)
        chain.push(name(id));
      const key = chain.join(' < ');
      by.set(key, (by.get(key) ?? 0) + (p.deltas[i + 1] ?? 0) / 1000);
    }
    for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 8))
      console.log(`  ${focus} ${v.toFixed(1)} ms < ${k}`);
  }
  // Inclusive time: every function on the sampled stack (once per sample).
  const incl = new Map();
  const par = new Map();
  for (const n of p.nodes.values()) if (n.parent !== undefined) par.set(n.id, n.parent);
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.deltas[i + 1] ?? 0) / 1000;
    const seen = new Set();
    for (let id = p.samples[i]; id !== undefined; id = par.get(id)) {
      const cf = p.nodes.get(id)?.callFrame;
      if (!cf || cf.functionName === '(root)') continue;
      const key = `${cf.functionName || '(anon)'} ${(cf.url ?? '').split('/').pop()}:${(cf.lineNumber ?? -1) + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + dt);
    }
  }
  p.incl = incl;
  const rows = [...self].sort((a, b) => b[1] - a[1]);
  const busy = rows
    .filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(program)'))
    .reduce((s, [, v]) => s + v, 0);
  console.log(
    `\n== ${threadNames.get(p.thread) ?? p.thread}: ${total.toFixed(0)} ms sampled, busy ${busy.toFixed(0)} ms`,
  );
  for (const [k, v] of rows.slice(0, top)) console.log(`${v.toFixed(1).padStart(8)}  ${k}`);
  if (process.env.INCLUSIVE) {
    console.log('  -- inclusive');
    const skip = /^\((program|idle|garbage collector)\)/;
    for (const [k, v] of [...p.incl]
      .filter(([k]) => !skip.test(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top))
      console.log(`${v.toFixed(1).padStart(8)}  ${k}`);
  }
}
