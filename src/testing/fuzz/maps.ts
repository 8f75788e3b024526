/**
 * Fuzzing the readers of untrusted text (issue 15): map files (core/import/mapFile.ts: qemu-img
 * map JSON and human, nbdinfo text and JSON), link maps (core/share/mapCodec.ts) and
 * clusterscope map files (mapFileDoc.ts). Seeds are the maps QEMU and nbdinfo printed for the
 * fixtures and link maps encoded from them; mutations aim at what broke the readers before: a
 * depth of 65535, members that are objects, huge and inexact numbers, many rows, deflate bombs,
 * counts the bytes cannot hold. Every input must end in a result that keeps the extent
 * invariants or in the reader's typed error, within FUZZ_TIME_BOUND_MS and the memory cap.
 */
import { deflateSync, inflateSync } from 'fflate';
import { MemoryBudget } from '../../core/budget.ts';
import { isClusterscopeError } from '../../core/errors.ts';
import { parseMapFile } from '../../core/import/mapFile.ts';
import {
  decodeLinkMap,
  encodeLinkMap,
  fromBase64Url,
  LinkMapError,
  MAX_MAP_FILE_MAP_CHARS,
  toBase64Url,
} from '../../core/share/mapCodec.ts';
import { readMapFileDocument } from '../../core/share/mapFileDoc.ts';
import { extentProblems, FUZZ_MEMORY_CAP_BYTES, FUZZ_TIME_BOUND_MS, type FuzzFailure } from './harness.ts';
import type { Rng } from './prng.ts';

export type MapInputKind = 'map-file' | 'link-map' | 'map-file-doc';

export interface MapInput {
  readonly kind: MapInputKind;
  readonly name: string;
  readonly text: string;
  readonly what: string;
}

export interface MapOutcome {
  /** 'ok', or the typed error's class (format, limit, link). */
  readonly outcome: string;
  readonly failures: readonly FuzzFailure[];
  readonly ms: number;
  readonly peakBytes: number;
  readonly error?: string;
}

/** Numbers at the edges of what the readers accept. */
const EXTREME_NUMBERS = [
  '0',
  '-1',
  '1.5',
  '1e3',
  '65535',
  '4294967296',
  '9007199254740992',
  '9007199254740993',
  '9223372036854775807',
  '18446744073709551615',
  '99999999999999999999999999999999',
  '1e309',
  '-0',
  '00',
];

const JUNK = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  '\n',
  '\r\n',
  '\u0000',
  '\u001b[2J',
  'null',
  'true',
  '{}',
  '[]',
  ' ',
];

/** One mutation of a map's text. */
export function mutateMapText(text: string, r: Rng): { text: string; what: string } {
  const lines = text.split('\n');
  switch (r.int(9)) {
    case 0: {
      // A number replaced by an extreme one.
      const nums = [...text.matchAll(/\d+/g)];
      if (!nums.length) break;
      const m = r.pick(nums);
      const v = r.pick(EXTREME_NUMBERS);
      return {
        text: text.slice(0, m.index) + v + text.slice(m.index + m[0].length),
        what: `number at ${m.index} = ${v}`,
      };
    }
    case 1: {
      // A member's value made an object, an array, a string or null (the "image" TypeError).
      const ms = [...text.matchAll(/"(\w+)": ?([^,}\n]+)/g)];
      if (!ms.length) break;
      const m = r.pick(ms);
      const v = r.pick(['{"name": "x"}', '[1, 2]', '"0"', 'null', '{}', '-5']);
      const at = m.index + m[0].length - m[2]!.length;
      return { text: text.slice(0, at) + v + text.slice(m.index + m[0].length), what: `"${m[1]}" = ${v}` };
    }
    case 2: {
      // A depth (or an NBD type) no chain has.
      const v = r.pick(['65535', '256', '255', '4294967295', '70000']);
      if (/"depth"/.test(text))
        return { text: text.replace(/"depth": ?\d+/, `"depth": ${v}`), what: `depth ${v}` };
      const i = r.int(lines.length);
      return {
        text: lines.map((l, k) => (k === i ? l.replace(/(\s)(\d+)(\s+\S*)?$/, `$1${v}$3`) : l)).join('\n'),
        what: `line ${i + 1} type ${v}`,
      };
    }
    case 3: {
      // Many rows: a line repeated (huge counts), within a few MiB.
      const i = r.int(lines.length);
      const n = r.pick([1000, 10000, 50000]);
      const rep = Array.from({ length: n }, () => lines[i]!);
      return {
        text: [...lines.slice(0, i), ...rep, ...lines.slice(i)].join('\n'),
        what: `line ${i + 1} repeated ${n} times`,
      };
    }
    case 4: {
      // Junk inserted.
      const at = r.int(text.length + 1);
      const j = r.pick(JUNK);
      return { text: text.slice(0, at) + j + text.slice(at), what: `${JSON.stringify(j)} inserted at ${at}` };
    }
    case 5: {
      // A range deleted, or the text cut.
      const a = r.int(text.length + 1);
      const b = r.chance(0.5) ? text.length : Math.min(text.length, a + 1 + r.int(40));
      return { text: text.slice(0, a) + text.slice(b), what: `deleted [${a}, ${b})` };
    }
    case 6: {
      // Lines swapped (gaps, overlaps, a header moved).
      const i = r.int(lines.length);
      const j = r.int(lines.length);
      const out = [...lines];
      [out[i], out[j]] = [out[j]!, out[i]!];
      return { text: out.join('\n'), what: `lines ${i + 1} and ${j + 1} swapped` };
    }
    case 7: {
      // A member renamed or repeated.
      const ms = [...text.matchAll(/"(\w+)":/g)];
      if (!ms.length) break;
      const m = r.pick(ms);
      const v = r.pick(['"start"', '"image"', '"zero"', '"offset"', '"x"']);
      return {
        text: `${text.slice(0, m.index)}${v}:${text.slice(m.index + m[0].length)}`,
        what: `member ${m[1]} renamed ${v}`,
      };
    }
    case 8: {
      // A very long line.
      const at = r.int(text.length + 1);
      return {
        text: `${text.slice(0, at)}${'9'.repeat(r.pick([100, 5000]))}${text.slice(at)}`,
        what: `long digits at ${at}`,
      };
    }
  }
  return { text: `${text}\n`, what: 'newline appended' };
}

/** One mutation of a link map's payload: its text, its inflated bytes, or a bomb. */
export function mutateLinkMap(payload: string, r: Rng): { text: string; what: string } {
  switch (r.int(5)) {
    case 0: {
      const at = r.int(payload.length);
      const c = r.pick(['A', '_', '-', '/', '=', '!', '']);
      return {
        text: payload.slice(0, at) + c + payload.slice(at + 1),
        what: `character ${at} = ${JSON.stringify(c)}`,
      };
    }
    case 1:
    case 2: {
      // Inflated bytes changed (varints at their extremes, counts, ids), deflated again.
      let raw: Uint8Array;
      try {
        raw = inflateSync(fromBase64Url(payload));
      } catch {
        break;
      }
      const b = raw.slice();
      const n = 1 + r.int(4);
      const whats: string[] = [];
      for (let k = 0; k < n && b.length; k++) {
        const at = r.int(b.length);
        const v = r.pick([0, 0x7f, 0x80, 0xff, r.int(256)]);
        b[at] = v;
        whats.push(`byte ${at} = ${v}`);
      }
      return { text: toBase64Url(deflateSync(b)), what: `inflated ${whats.join(', ')}` };
    }
    case 3: {
      // A deflate bomb: zeros or a header and zeros, inflating far past MAX_LINK_MAP_INFLATED.
      const size = r.pick([9 * 1024 * 1024, 64 * 1024 * 1024]);
      const b = new Uint8Array(size);
      if (r.chance(0.5)) b.set([0x43, 0x53, 0x4d, 1]);
      return { text: toBase64Url(deflateSync(b, { level: 9 })), what: `deflate bomb of ${size} bytes` };
    }
    case 4:
      return { text: payload.slice(0, r.int(payload.length + 1)), what: 'cut' };
  }
  return { text: `${payload}A`, what: 'character appended' };
}

/** Link maps and map files encoded from the seed maps (the page's own formats). */
export function linkSeeds(mapTexts: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of mapTexts) {
    try {
      const m = parseMapFile('seed', t);
      out.push(
        encodeLinkMap({
          length: m.length,
          layerCount: 1 + Math.max(0, ...Array.from(m.extents.layer)),
          maps: [{ id: m.interpretationId, extents: m.extents }],
        }),
      );
    } catch {
      // seeds QEMU printed after a failure do not parse: not link seeds
    }
  }
  return out;
}

const docOf = (payload: string): string =>
  `${JSON.stringify({ format: 'clusterscope-map', version: 1, files: ['top.qcow2'], image: { name: 'top.qcow2', size: 262144 }, map: payload, hash: '#v=3' }, null, 1)}\n`;

/** Input `seed`: a seed text of one of the three kinds, mutated once or a few times. */
export function mapInput(r: Rng, maps: readonly string[], links: readonly string[]): MapInput {
  const kind: MapInputKind = r.pick([
    'map-file',
    'map-file',
    'map-file',
    'link-map',
    'link-map',
    'map-file-doc',
  ]);
  if (kind === 'link-map') {
    const m = mutateLinkMap(r.pick(links), r);
    return { kind, name: 'the link', text: m.text, what: m.what };
  }
  if (kind === 'map-file-doc') {
    const m = mutateMapText(docOf(r.pick(links)), r);
    return { kind, name: 'map.clusterscope.json', text: m.text, what: m.what };
  }
  let text = r.pick(maps);
  const whats: string[] = [];
  for (let k = 1 + (r.chance(0.7) ? 0 : r.int(3)); k > 0; k--) {
    const m = mutateMapText(text, r);
    text = m.text;
    whats.push(m.what);
  }
  return { kind, name: 'map.txt', text, what: whats.join('; ') };
}

/** Reads one input; a typed error is an outcome, anything else or a bound exceeded a failure. */
export function runMapInput(input: MapInput, timeBoundMs = FUZZ_TIME_BOUND_MS): MapOutcome {
  const t0 = performance.now();
  const budget = new MemoryBudget('FUZZ_MEMORY_CAP_BYTES', FUZZ_MEMORY_CAP_BYTES);
  const failures: FuzzFailure[] = [];
  let outcome = 'ok';
  let error: string | undefined;
  try {
    if (input.kind === 'map-file') {
      const m = parseMapFile(input.name, input.text, { budget });
      const problem = extentProblems(m.extents, m.length, true, 0x10000);
      if (problem) failures.push({ kind: 'invariant', stage: 'map-file', message: problem });
    } else if (input.kind === 'link-map') {
      const lm = decodeLinkMap(input.text, MAX_MAP_FILE_MAP_CHARS);
      for (const m of lm.maps) {
        const problem = extentProblems(m.extents, lm.length, false, 0x10000);
        if (problem) failures.push({ kind: 'invariant', stage: 'link-map', message: problem });
      }
    } else {
      readMapFileDocument(input.name, input.text);
    }
  } catch (e) {
    if (isClusterscopeError(e)) {
      outcome = e.kind;
      error = e.message;
    } else if (e instanceof LinkMapError) {
      outcome = 'link';
      error = e.message;
    } else {
      const msg = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
      failures.push({ kind: 'crash', stage: input.kind, message: msg });
    }
  }
  const ms = performance.now() - t0;
  if (ms > timeBoundMs)
    failures.push({
      kind: 'hang',
      stage: input.kind,
      message: `took ${ms.toFixed(0)} ms (FUZZ_TIME_BOUND_MS ${timeBoundMs})`,
    });
  return { outcome, failures, ms, peakBytes: budget.peak, ...(error !== undefined && { error }) };
}
