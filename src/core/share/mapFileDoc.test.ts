/**
 * The clusterscope map file read from an untrusted drop: every member checked, a refusal
 * names the file and the member; a text that is not one at all is left to the other readers.
 */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../errors.ts';
import { encodeLinkMap } from './mapCodec.ts';
import { readMapFileDocument } from './mapFileDoc.ts';

const map = encodeLinkMap({ length: 512, layerCount: 1, maps: [] });
const doc = (over: Record<string, unknown>) =>
  JSON.stringify({
    format: 'clusterscope-map',
    version: 1,
    files: ['top.qcow2'],
    map,
    hash: '#v=3',
    ...over,
  });

describe('readMapFileDocument', () => {
  it('reads a map file the page wrote', () => {
    const d = readMapFileDocument(
      'm.json',
      doc({ image: { name: 'top.qcow2', size: 2 ** 56, fingerprint: '0123456789abcdef' } }),
    );
    expect(d).toMatchObject({
      files: ['top.qcow2'],
      image: { name: 'top.qcow2', size: 2 ** 56 },
      map,
      hash: '#v=3',
    });
  });
  it('leaves other texts to the other readers', () => {
    expect(readMapFileDocument('a.json', '[{"start": 0}]')).toBeUndefined();
    expect(
      readMapFileDocument('b.json', '{"format": "something else", "clusterscope-map": 1}'),
    ).toBeUndefined();
  });
  it.each([
    [
      'an image that is a string',
      { image: 'top.qcow2' },
      /"image".*must be an object \{name, size, fingerprint\}, not a string/,
    ],
    ['an image of the wrong shape', { image: { name: 1 } }, /"image.name".*must be a string, not a number/],
    [
      'an image size that is no size',
      { image: { name: 'x', size: -5 } },
      /"image.size".*must be a size in bytes, not -5/,
    ],
    ['a map that is an object', { map: { a: 1 } }, /"map".*must be a string, not an object/],
    ['files that are not a list', { files: 'top.qcow2' }, /"files".*must be a list of file names/],
    ['another version', { version: 9 }, /"version".*is 9; this clusterscope reads version 1/],
  ])('refuses %s, naming the file and the member', (_, over, message) => {
    let err: unknown;
    try {
      readMapFileDocument('drop.json', doc(over));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/^drop\.json: clusterscope map file "/);
    expect((err as Error).message).toMatch(message);
  });
});
