#!/usr/bin/env node
// Opening map files (core/import/mapFile.ts) in the CLI: `clusterscope map-file FILE` on
// qemu-img map --output=json, qemu-img map (human) and nbdinfo --map texts of 1k, 10k and 100k
// rows, written here in those tools' exact formats. Prints wall and CPU time per size, the
// per-row cost once Node's startup (a 1-row map) is taken off, so linearity shows (a constant
// per-row cost; the old reader's grew with the row count: 500 rows 0.6 s, 3000 rows 10.9 s),
// and the ratio to the reference measured in the same run: JSON.parse of the same JSON text
// in this process (V8's native parser, which builds an object per entry).
//
//   npm run build:cli && node bench/mapImport.mjs [--runs N] [--cli PATH]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { haveGnuTime, measure, median } from './measure.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : args[i + 1];
};
const runs = Number(opt('runs', 3));
const cli = resolve(
  opt('cli', process.env.CLUSTERSCOPE_BIN ?? join(import.meta.dirname, '..', 'bin', 'clusterscope.mjs')),
);
if (!haveGnuTime()) {
  console.error('bench: needs GNU time (/usr/bin/time)');
  process.exit(2);
}

const C = 65536;
/** Rows alternating data and zero, offsets never contiguous: one entry per row, as QEMU prints them. */
const texts = (n) => {
  const json = [];
  const human = ['Offset          Length          Mapped to       File'];
  const nbd = [];
  const hex = (v) => (v === 0 ? '0' : `0x${v.toString(16)}`).padEnd(16);
  for (let i = 0; i < n; i++) {
    const data = i % 2 === 0;
    const start = i * C;
    json.push(
      `{ "start": ${start}, "length": ${C}, "depth": 0, "present": true, "zero": ${!data}, "data": ${data}${data ? `, "offset": ${(2 * i + 5) * C}` : ''}}`,
    );
    if (data) human.push(`${hex(start)}${hex(C)}${hex((2 * i + 5) * C)}big.qcow2`);
    nbd.push(
      `${String(start).padStart(10)}  ${String(C).padStart(10)}  ${String(data ? 0 : 3).padStart(3)}  ${data ? 'data' : 'hole,zero'}`,
    );
  }
  return {
    'qemu-img map --output=json': `[${json.join(',\n')}]\n`,
    'qemu-img map (human)': `${human.join('\n')}\n`,
    'nbdinfo --map': `${nbd.join('\n')}\n`,
  };
};

const dir = mkdtempSync(join(tmpdir(), 'cs-mapbench-'));
try {
  const sizes = [1, 1000, 10000, 100000];
  const files = {};
  for (const n of sizes) {
    for (const [fmt, text] of Object.entries(texts(n))) {
      const f = join(dir, `${n}-${fmt.replace(/\W+/g, '_')}.txt`);
      writeFileSync(f, text);
      files[fmt] = { ...files[fmt], [n]: f };
    }
  }
  console.log(
    `map-file on ${Object.keys(files).length} formats x ${sizes.slice(1).join('/')} rows, median of ${runs} runs\n`,
  );
  for (const [fmt, byN] of Object.entries(files)) {
    const time = (f) => {
      const r = [];
      for (let k = 0; k < runs; k++) {
        const m = measure(['node', cli, 'map-file', f]);
        if (m.status !== 0) throw new Error(`map-file ${f} failed: ${m.stderr}`);
        r.push(m);
      }
      return {
        wall: median(r.map((m) => m.seconds)),
        cpu: median(r.map((m) => m.cpuSeconds)),
        rss: Math.max(...r.map((m) => m.maxRssKiB)),
      };
    };
    const base = time(byN[1]);
    console.log(
      `${fmt} (Node startup, 1 row: ${(base.wall * 1000).toFixed(0)} ms wall, ${(base.cpu * 1000).toFixed(0)} ms CPU)`,
    );
    for (const n of sizes.slice(1)) {
      const t = time(byN[n]);
      const perRowUs = ((t.cpu - base.cpu) / n) * 1e6;
      let ref = '';
      if (fmt === 'qemu-img map --output=json') {
        const text = readFileSync(byN[n], 'utf8');
        const ts = [];
        for (let k = 0; k < runs; k++) {
          const t0 = performance.now();
          JSON.parse(text);
          ts.push(performance.now() - t0);
        }
        const parseUs = (median(ts) / n) * 1000;
        ref = `; JSON.parse ${parseUs.toFixed(2)} us/row (ratio ${(perRowUs / parseUs).toFixed(1)}x)`;
      }
      console.log(
        `  ${String(n).padStart(6)} rows: ${(t.wall * 1000).toFixed(0).padStart(5)} ms wall, ${(t.cpu * 1000).toFixed(0).padStart(5)} ms CPU, ${perRowUs.toFixed(2)} us/row above startup, peak RSS ${(t.rss / 1024).toFixed(0)} MiB${ref}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
