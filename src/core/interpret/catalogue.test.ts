/**
 * The catalogue names every interpretation by a stable URL-safe id; the ids marked `recorded`
 * mean exactly what QEMU 7.2 printed (fixtures/golden), in the tool's own text (native.ts).
 */
import { describe, expect, it } from 'vitest';
import { dataFileName } from '../../cli/commands/shared.ts';
import { allCases, golden, imageDir, parseHumanMap } from '../../testing/fixtures.ts';
import { fixtureStatus } from '../../testing/openFixture.ts';
import { CATALOGUE, CATALOGUE_IDS, catalogueEntry } from './catalogue.ts';
import { formatNative } from './native.ts';

describe('catalogue', () => {
  it('ids are unique, URL-safe (RFC 3986 unreserved, no @ or ,) and equal to the interpretation id', () => {
    expect(new Set(CATALOGUE_IDS).size).toBe(CATALOGUE.length);
    for (const e of CATALOGUE) {
      expect(e.id).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
      expect(encodeURIComponent(e.id)).toBe(e.id);
      expect(e.interpretation.id).toBe(e.id);
    }
  });

  it('lists the releases and proposals the diff view offers, proposals labelled as such', () => {
    expect(CATALOGUE_IDS).toEqual([
      'qemu-img-map-6.0',
      'qemu-img-map-7.2',
      'qemu-img-map-8.2',
      'nbd-base-allocation-6.0',
      'nbd-base-allocation-5.2',
      'nbd-base-allocation-proposed-2021-06',
      'nbd-allocation-depth',
      'nbd-joint-allocation-proposed-2021-06',
      'written-in-top',
      'reads-as-zero',
    ]);
    expect(catalogueEntry('nbd-base-allocation-proposed-2021-06')!.interpretation.title).toContain(
      'proposed, not merged',
    );
    expect(catalogueEntry('nbd-joint-allocation-proposed-2021-06')!.interpretation.title).toContain(
      'proposed, never merged',
    );
  });
});

/** Every recorded entry, in its native text, against what QEMU 7.2 + nbdinfo 1.14 printed. */
const recorded: [string, string, 'qemu-img-map-json' | 'qemu-img-map-human' | 'nbdinfo'][] = [
  ['qemu-img-map-7.2', 'map', 'qemu-img-map-json'],
  ['qemu-img-map-7.2', 'map', 'qemu-img-map-human'],
  ['nbd-base-allocation-6.0', 'nbd-base', 'nbdinfo'],
  ['nbd-allocation-depth', 'nbd-depth', 'nbdinfo'],
];
const cases = allCases().filter((c) => c.error === null && !c.covers.includes('limit'));
const rows = cases.flatMap((c) =>
  ['', '-nobacking'].flatMap((v) =>
    recorded.flatMap(([id, file, format]) => {
      const name = `${file}${v}.${format === 'qemu-img-map-json' ? 'json' : 'txt'}`;
      const g = golden(c, name);
      // An empty golden is a recording in progress (make-fixtures.sh writes files in turn), not an answer.
      return g?.trim() && golden(c, `${name}.exit`) === undefined
        ? [{ label: `${c.name} ${name}`, c, noBacking: v !== '', id, format, g }]
        : [];
    }),
  ),
);

describe.each(rows)(
  '$label equals the catalogue entry in its native form',
  ({ c, noBacking, id, format, g }) => {
    it(`${id} --format=${format}`, async () => {
      const st = await fixtureStatus(c.name, c.top, noBacking);
      // fixtureStatus opens by absolute path; qemu-img printed names relative to the image directory.
      const dir = `${imageDir(c)}/`;
      const r = formatNative(catalogueEntry(id)!, st, format, (l) => dataFileName(st, l).replace(dir, ''));
      if (format === 'qemu-img-map-human') expect(parseHumanMap(r.text)).toEqual(parseHumanMap(g));
      else expect(r.text).toBe(g);
    });
  },
);
