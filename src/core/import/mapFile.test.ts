/**
 * Map files from other tools parse into the same extents the engine computes for the image they
 * came from: every recorded qemu-img map JSON (QEMU 7.2), nbdinfo --map text (libnbd 1.14.2) in
 * fixtures/golden, the 6.0 and 8.2 field sets synthesized from the 7.2 goldens per reference §4.2,
 * and nbdinfo --json synthesized per §5.5. Hostile inputs are refused with the line named.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, INTENDED_REFUSALS } from '../../testing/fixtures.ts';
import { fixtureStatus } from '../../testing/openFixture.ts';
import { MemoryBudget } from '../budget.ts';
import { FormatError, LimitError } from '../errors.ts';
import { decimal } from '../format.ts';
import type { Interpreted } from '../interpret/interpretation.ts';
import { allocationDepth, baseAllocation } from '../interpret/nbd.ts';
import { qemuImgMap } from '../interpret/qemuImgMap.ts';
import {
  HUMAN_MAPPED,
  MAP_EXTENT_BYTES,
  MAX_MAP_DEPTH,
  parseMapFile,
  parseNbdinfoJson,
  parseNbdinfoText,
  parseQemuImgMapHuman,
  parseQemuImgMapJson,
} from './mapFile.ts';

interface Row {
  start: number;
  length: number;
  value: number;
  host: number;
}
const rows = (m: Interpreted, withHost = true): Row[] =>
  Array.from({ length: m.count }, (_, i) => ({
    start: m.start[i]!,
    length: m.length[i]!,
    value: m.value[i]!,
    host: withHost ? m.host[i]! : -1,
  }));

interface GoldenFile {
  readonly caseName: string;
  readonly top: string;
  readonly file: string;
  readonly noBacking: boolean;
  readonly text: string;
}

function goldens(pattern: RegExp): GoldenFile[] {
  const out: GoldenFile[] = [];
  const root = join(FIXTURES, 'golden');
  for (const c of readdirSync(root).sort()) {
    const meta = join(root, c, 'case.json');
    if (!existsSync(meta) || !existsSync(join(FIXTURES, 'images', c))) continue;
    const top = (JSON.parse(readFileSync(meta, 'utf8')) as { top: string }).top;
    for (const f of readdirSync(join(root, c)).sort()) {
      // Skip answers QEMU did not finish (it failed: <file>.exit) and images clusterscope
      // refuses on purpose (INTENDED_REFUSALS): there is no engine map to compare with.
      if (!pattern.test(f) || existsSync(join(root, c, `${f}.exit`)) || c in INTENDED_REFUSALS) continue;
      out.push({
        caseName: c,
        top,
        file: f,
        noBacking: f.includes('nobacking'),
        text: readFileSync(join(root, c, f), 'utf8'),
      });
    }
  }
  return out;
}

const MAPS = goldens(/^map(-nobacking)?\.json$/);
const BASES = goldens(/^nbd-base(-nobacking)?\.txt$/);
const DEPTHS = goldens(/^nbd-depth(-nobacking)?\.txt$/);

interface MapJsonEntry {
  start: number;
  length: number;
  depth: number;
  present?: boolean;
  zero: boolean;
  data: boolean;
  compressed?: boolean;
  offset?: number;
}

const fmtEntry = (e: MapJsonEntry) =>
  `{ ${Object.entries(e)
    .map(([k, v]) => `"${k}": ${typeof v === 'number' ? decimal(v) : v}`)
    .join(', ')}}`;
const fmtMap = (es: MapJsonEntry[]) => `[${es.map(fmtEntry).join(',\n')}]\n`;

/** 6.0's output of the same image: no "present", and entry_mergeable() no longer splits on it. */
function as60(es: MapJsonEntry[]): MapJsonEntry[] {
  const out: MapJsonEntry[] = [];
  for (const e of es) {
    const { present: _, ...rest } = e;
    const last = out.at(-1);
    const contiguous =
      last !== undefined &&
      last.zero === rest.zero &&
      last.data === rest.data &&
      last.depth === rest.depth &&
      (last.offset === undefined) === (rest.offset === undefined) &&
      (last.offset === undefined || last.offset + last.length === rest.offset);
    if (last && contiguous) last.length += rest.length;
    else out.push({ ...rest });
  }
  return out;
}

/** 8.2's output: "compressed" after "data", true for data without an offset in an unencrypted image. */
function as82(es: MapJsonEntry[], encrypted: boolean): MapJsonEntry[] {
  return es.map((e) => {
    const o: MapJsonEntry = {
      start: e.start,
      length: e.length,
      depth: e.depth,
      present: e.present!,
      zero: e.zero,
      data: e.data,
    };
    o.compressed = !encrypted && e.data && e.offset === undefined;
    if (e.offset !== undefined) o.offset = e.offset;
    return o;
  });
}

const encryptedCase = (c: string): boolean => {
  const p = join(FIXTURES, 'golden', c, 'info.json');
  return existsSync(p) && /"encrypted": true/.test(readFileSync(p, 'utf8'));
};

describe('qemu-img map JSON from QEMU 7.2 (golden) parses into the engine’s extents', () => {
  it.each(MAPS.map((g) => [`${g.caseName}/${g.file}`, g] as const))('%s', async (_, g) => {
    const st = await fixtureStatus(g.caseName, g.top, g.noBacking);
    const parsed = parseQemuImgMapJson(g.file, g.text);
    expect(parsed.fieldSet).toBe('6.1-8.1');
    expect(parsed.interpretationId).toBe(qemuImgMap(7002).id);
    expect(rows(parsed.extents)).toEqual(rows(qemuImgMap(7002).compute(st)));
    expect(Array.from(parsed.extents.layer)).toEqual(Array.from(qemuImgMap(7002).compute(st).layer));

    const entries = JSON.parse(g.text) as MapJsonEntry[];
    const old = parseQemuImgMapJson(g.file, fmtMap(as60(entries)));
    expect(old.fieldSet).toBe('1.7-6.0');
    expect(old.interpretationId).toBe(qemuImgMap(6000).id);
    expect(rows(old.extents), '6.0 field set').toEqual(rows(qemuImgMap(6000).compute(st)));

    const newer = parseMapFile(g.file, fmtMap(as82(entries, encryptedCase(g.caseName))));
    expect(newer.fieldSet).toBe('8.2+');
    expect(newer.interpretationId).toBe(qemuImgMap(8002).id);
    expect(rows(newer.extents), '8.2 field set').toEqual(rows(qemuImgMap(8002).compute(st)));
  });
});

/** nbdinfo --json of the same extents, as libnbd prints it (reference §5.5). */
const asJson = (text: string): string => {
  const objs = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*(.*)$/.exec(l)!;
      return `{ "offset": ${m[1]}, "length": ${m[2]}, "type": ${m[3]}, "description": "${m[4]!.trim()}"}`;
    });
  return `[\n${objs.join(',\n')}\n]\n`;
};

describe('nbdinfo --map text (golden) and --json parse into the engine’s NBD extents', () => {
  it.each(BASES.map((g) => [`${g.caseName}/${g.file}`, g] as const))('base:allocation %s', async (_, g) => {
    const st = await fixtureStatus(g.caseName, g.top, g.noBacking);
    const want = rows(baseAllocation(6000).compute(st), false);
    const text = parseNbdinfoText(g.file, g.text);
    expect(text.context).toBe('base:allocation');
    expect(text.interpretationId).toBe(baseAllocation(6000).id);
    expect(rows(text.extents)).toEqual(want);
    const json = parseMapFile(g.file, asJson(g.text));
    expect(json.kind).toBe('nbdinfo-json');
    expect(rows(json.extents)).toEqual(want);
  });

  it.each(DEPTHS.map((g) => [`${g.caseName}/${g.file}`, g] as const))('allocation-depth %s', async (_, g) => {
    const st = await fixtureStatus(g.caseName, g.top, g.noBacking);
    const want = rows(allocationDepth.compute(st), false);
    const text = parseMapFile(g.file, g.text);
    expect(text.context).toBe('qemu:allocation-depth');
    expect(text.interpretationId).toBe(allocationDepth.id);
    expect(rows(text.extents)).toEqual(want);
    expect(rows(parseNbdinfoJson(g.file, asJson(g.text)).extents)).toEqual(want);
  });

  it('dirty-bitmap and unknown contexts keep their raw values', () => {
    for (const g of goldens(/^nbd-bitmap-.*\.txt$/)) {
      const m = parseNbdinfoText(g.file, g.text);
      expect(m.context).toBe('qemu:dirty-bitmap:');
      expect(m.extents.count).toBeGreaterThan(0);
    }
    const unknown = parseNbdinfoText('x.txt', '         0       65536    7\n     65536       65536   12\n');
    expect(unknown.context).toBe('unknown');
    expect(Array.from(unknown.extents.value)).toEqual([7, 12]);
    const named = parseNbdinfoText('x.txt', '         0       65536    7\n', {
      context: 'qemu:joint-allocation',
    });
    expect(named.interpretationId).toBe('nbd-context:qemu:joint-allocation');
  });

  it('accepts nbdinfo before 1.8.1 ("allocated"/"unallocated"), colour escapes and 5.2 semantics on request', () => {
    const old = parseNbdinfoText(
      'old.txt',
      '         0       65536    0  allocated\n     65536       65536    3  hole,zero\n',
      {
        release: 5002,
      },
    );
    expect(old.interpretationId).toBe('nbd-base-allocation-5.2');
    const depth = parseNbdinfoText('d.txt', '\x1b[1;32m         0      131072    0  unallocated\x1b[0m\n');
    expect(depth.context).toBe('qemu:allocation-depth');
  });
});

/** The FormatError or LimitError `f` throws (anything else, or nothing, fails the test). */
function refusal(f: () => unknown): FormatError | LimitError {
  try {
    f();
  } catch (e) {
    if (e instanceof FormatError || e instanceof LimitError) return e;
    throw e;
  }
  throw new Error('accepted');
}

describe('hostile map files are refused with the line named', () => {
  it('a qemu-img map cut short by an error (no closing bracket)', () => {
    const e = refusal(() =>
      parseQemuImgMapJson(
        'cut.json',
        '[{ "start": 0, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "offset": 327680},\n',
      ),
    );
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/line 2/);
  });

  it('a gap between entries, a negative or fractional number, mixed field sets, a bad depth', () => {
    const good = '{ "start": 0, "length": 512, "depth": 0, "present": true, "zero": true, "data": false}';
    expect(
      refusal(() =>
        parseQemuImgMapJson(
          'g.json',
          `[${good},\n{ "start": 1024, "length": 512, "depth": 0, "present": true, "zero": true, "data": false}]`,
        ),
      ).message,
    ).toMatch(/line 2.*starts at 1024/);
    expect(
      refusal(() =>
        parseQemuImgMapJson(
          'n.json',
          '[{ "start": -1, "length": 512, "depth": 0, "zero": true, "data": false}]',
        ),
      ).message,
    ).toMatch(/line 1.*"start"/);
    expect(
      refusal(() =>
        parseQemuImgMapJson(
          'f.json',
          '[{ "start": 0, "length": 0.5, "depth": 0, "zero": true, "data": false}]',
        ),
      ).message,
    ).toMatch(/"length"/);
    expect(
      refusal(() =>
        parseQemuImgMapJson(
          'm.json',
          `[${good},\n\n{ "start": 512, "length": 512, "depth": 0, "zero": true, "data": false}]`,
        ),
      ).message,
    ).toMatch(/line 3.*field set/);
    expect(
      refusal(() =>
        parseQemuImgMapJson(
          'd.json',
          '[{ "start": 0, "length": 512, "depth": 70000, "zero": true, "data": false}]',
        ),
      ),
    ).toBeInstanceOf(LimitError);
    expect(refusal(() => parseQemuImgMapJson('o.json', '{"start": 0}')).message).toMatch(/JSON array/);
    // Past 2^53 only multiples of 512 are exact (and every qcow2 offset is one).
    expect(
      refusal(() =>
        parseQemuImgMapJson(
          'h.json',
          `[{ "start": 9007199254740000, "length": 9007199254740000, "depth": 0, "zero": true, "data": false}]`,
        ),
      ).message,
    ).toMatch(/line 1.*ends at 18014398509480000: past 2\^53 only multiples of 512/);
    expect(
      refusal(() =>
        parseQemuImgMapJson(
          'i.json',
          '[{ "start": 0, "length": 9007199254740993, "depth": 0, "zero": true, "data": false}]',
        ),
      ).message,
    ).toMatch(/"length" must be .* exact .* not 9007199254740993/);
  });

  it('nbdinfo text: a line that is not an extent, a description that contradicts the type, a context change', () => {
    expect(
      refusal(() => parseNbdinfoText('t.txt', '         0       65536    0  data\nhello\n')).message,
    ).toMatch(/line 2/);
    expect(refusal(() => parseNbdinfoText('t.txt', '         0       65536    3  data\n')).message).toMatch(
      /line 1.*described as 'data'/,
    );
    expect(
      refusal(() =>
        parseNbdinfoText('t.txt', '         0       65536    0  data\n     65536       65536    1  local\n'),
      ).message,
    ).toMatch(/line 2.*belongs to qemu:allocation-depth/);
    expect(
      refusal(() => parseNbdinfoText('t.txt', `         0       65536    0  ${'x'.repeat(5000)}\n`)),
    ).toBeInstanceOf(LimitError);
    expect(
      refusal(() => parseNbdinfoJson('t.json', '[{"offset": 0, "length": "big", "type": 0}]')).message,
    ).toMatch(/"length"/);
  });

  it("qemu-img's zero-length entry for an empty range maps to no extents", () => {
    const m = parseQemuImgMapJson(
      'e.json',
      '[{ "start": 300000, "length": 0, "depth": 0, "present": false, "zero": false, "data": false}]\n',
    );
    expect(m.extents.count).toBe(0);
  });
});

describe('qemu-img map human output (golden map.txt) parses into the mapped ranges of map.json', () => {
  // Every map.txt QEMU printed, those of failed runs included (the lines before the failure).
  const HUMANS = goldens(/^map(-nobacking)?\.txt$/).concat(
    ['error-after-data', 'data-unaligned'].map((c) => ({
      caseName: c,
      top: 'top.qcow2',
      file: 'map.txt',
      noBacking: false,
      text: readFileSync(join(FIXTURES, 'golden', c, 'map.txt'), 'utf8'),
    })),
  );
  it('has human maps to read', () => expect(HUMANS.length).toBeGreaterThan(60));
  it.each(HUMANS.map((g) => [`${g.caseName}/${g.file}`, g] as const))('%s', (_, g) => {
    const m = parseMapFile(g.file, g.text);
    expect(m.kind).toBe('qemu-img-map-human');
    const jsonFile = join(FIXTURES, 'golden', g.caseName, g.file.replace('.txt', '.json'));
    const json = readFileSync(jsonFile, 'utf8');
    // qemu-img's partial JSON (after an error) is closed to read it; the pending entry is in neither.
    const entries = JSON.parse(
      json.trimEnd().endsWith(',') ? `${json.trimEnd().slice(0, -1)}]` : json.trimEnd() === '[' ? '[]' : json,
    ) as MapJsonEntry[];
    const mapped = entries.filter((e) => e.data && !e.zero && e.offset !== undefined);
    const lines = rows(m.extents).filter((r) => r.value === HUMAN_MAPPED);
    expect(lines.map(({ start, length, host }) => ({ start, length, offset: host }))).toEqual(
      mapped.map(({ start, length, offset }) => ({ start, length, offset })),
    );
    // Every range between is there, unmapped, and every line names a file.
    expect(m.length).toBe(lines.length ? lines.at(-1)!.start + lines.at(-1)!.length : 0);
    for (let i = 0; i < m.extents.count; i++) {
      if (m.extents.value[i] === HUMAN_MAPPED)
        expect(m.fileNames![m.extents.layer[i]!]!.length).toBeGreaterThan(0);
    }
  });
  it('reads columns of 16 characters that touch (offsets past 2^52)', () => {
    const m = parseQemuImgMapHuman(
      'big.txt',
      'Offset          Length          Mapped to       File\n0x1fffffffc000000x400000        0xe00000        top.qcow2\n',
    );
    expect(rows(m.extents).at(-1)).toEqual({
      start: 0x1fffffffc00000,
      length: 0x400000,
      value: HUMAN_MAPPED,
      host: 0xe00000,
    });
    expect(m.fileNames).toEqual(['top.qcow2']);
  });
});

describe('every member is checked, with the line and the expected formats named', () => {
  const entry = (extra: string) =>
    `[{ "start": 0, "length": 512, "depth": 0, "zero": true, "data": false${extra}}]`;

  it('a depth beyond the deepest chain clusterscope opens (a 94-byte map once took the page 11 s)', () => {
    const e = refusal(() =>
      parseMapFile(
        'd.json',
        '[{"start":0,"length":512,"depth":65535,"present":true,"zero":true,"data":false}]',
      ),
    );
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(
      /^d\.json: qemu-img map JSON line 1 at 0x1: depth 65535 names a backing chain deeper than 256 layers/,
    );
    expect(
      parseMapFile('ok.json', entry('').replace('"depth": 0', `"depth": ${MAX_MAP_DEPTH}`)).extents.layer[0],
    ).toBe(MAX_MAP_DEPTH);
    expect(
      refusal(() => parseNbdinfoText('a.txt', '         0       65536  300  backing depth 300\n')),
    ).toBeInstanceOf(LimitError);
  });
  it('a member that is an object, an array, a string, null, unknown or repeated', () => {
    expect(refusal(() => parseMapFile('o.json', entry(', "offset": {}'))).message).toMatch(
      /"offset" is an object/,
    );
    expect(refusal(() => parseMapFile('a.json', entry(', "offset": [1]'))).message).toMatch(
      /"offset" is an array/,
    );
    expect(refusal(() => parseMapFile('s.json', entry(', "offset": "0"'))).message).toMatch(
      /"offset" must be a non-negative integer, not a string/,
    );
    expect(refusal(() => parseMapFile('n.json', entry(', "offset": null'))).message).toMatch(/not null/);
    expect(refusal(() => parseMapFile('u.json', entry(', "image": {"name": "x"}'))).message).toMatch(
      /"image" is an object/,
    );
    expect(refusal(() => parseMapFile('u.json', entry(', "image": 1'))).message).toMatch(
      /member "image" is not one qemu-img map prints/,
    );
    expect(refusal(() => parseMapFile('r.json', entry(', "zero": false'))).message).toMatch(
      /"zero" appears twice/,
    );
    expect(
      refusal(() => parseMapFile('m.json', '[{ "start": 0, "length": 512, "zero": true, "data": false}]'))
        .message,
    ).toMatch(/"depth" is missing/);
  });
  it('text that is no map names the formats it could have been', () => {
    for (const [name, text] of [
      ['obj.json', '{"format": "something"}'],
      ['arr.json', '[{"name": "x"}]'],
      ['words.txt', 'hello world\n'],
      ['csv.csv', 'offset,length,type\n0,512,0\n'],
    ] as const) {
      const e = refusal(() => parseMapFile(name, text));
      expect(e).toBeInstanceOf(FormatError);
      expect(e.message).toMatch(new RegExp(`^${name.replace('.', '\\.')}: `));
      expect(e.message).toMatch(
        /qemu-img map --output=json, qemu-img map \(human\), nbdinfo --map or nbdinfo --map --json/,
      );
      expect(e.message).not.toMatch(/not an nbdinfo --map line/);
    }
  });
  it('MAX_MAP_IMPORT_BYTES: a map just under its (lowered) budget opens, one row more is refused', () => {
    // The builder grows by doubling from 1024 extents: 2048 extents' arrays fit a budget of
    // exactly 2048 x MAP_EXTENT_BYTES, the 2049th would need 4096.
    const map = (n: number) =>
      `${Array.from({ length: n }, (_, i) => `${String(i * 512).padStart(10)}  ${'512'.padStart(10)}    ${i % 2}  ${i % 2 ? 'hole' : 'data'}`).join('\n')}\n`;
    const budget = () => new MemoryBudget('MAX_MAP_IMPORT_BYTES', 2048 * MAP_EXTENT_BYTES);
    expect(parseNbdinfoText('under.txt', map(2048), { budget: budget() }).extents.count).toBe(2048);
    const e = refusal(() => parseNbdinfoText('over.txt', map(2049), { budget: budget() }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(
      /^over\.txt: nbdinfo --map line 2049 at 0x[0-9a-f]+: 2049 map extents would need .* MAX_MAP_IMPORT_BYTES/,
    );
  });
  it('opens in time linear in its rows (finding each line from the start was quadratic)', () => {
    const text = (n: number) =>
      `[${Array.from({ length: n }, (_, i) => `{ "start": ${i * 65536}, "length": 65536, "depth": 0, "present": true, "zero": false, "data": true, "offset": ${(2 * i + 5) * 65536}}`).join(',\n')}]\n`;
    const time = (t: string) => {
      const t0 = performance.now();
      parseMapFile('m.json', t);
      return performance.now() - t0;
    };
    const [small, big] = [text(5000), text(50000)];
    time(small); // warm up
    const ratio = Math.min(...[0, 1, 2].map(() => time(big))) / Math.min(...[0, 1, 2].map(() => time(small)));
    // Linear: ~10 (10x the rows); quadratic was ~100.
    expect(ratio).toBeLessThan(30);
  });
});
