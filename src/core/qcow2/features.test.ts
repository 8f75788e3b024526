/**
 * The one feature-name table against the table qemu-img 7.2 writes into every image it creates
 * (the feature name table header extension of a fixture), and the set bits of fixtures QEMU
 * made with features on.
 */
import { describe, expect, it } from 'vitest';
import { fixtureBytes } from '../../testing/fixtureChain.ts';
import { MemorySource } from '../io/byteSource.ts';
import { QCOW2_FEATURES, setFeatures } from './features.ts';
import { openQcow2 } from './image.ts';

const open = (c: string) => openQcow2(new MemorySource('top.qcow2', fixtureBytes(c, 'top.qcow2')));

describe('QCOW2_FEATURES', () => {
  it('equals the feature name table qemu-img 7.2 wrote, entry for entry and in its order', async () => {
    const img = await open('zero-unmap');
    expect(img.extensions.featureNames).toEqual(QCOW2_FEATURES);
  });

  it('names the set bits of QEMU-made images: lazy refcounts + dirty (dirty-bit), extended L2 (extl2), bitmaps', async () => {
    const names = async (c: string) =>
      setFeatures((await open(c)).header).map((f) => `${f.type} ${f.bit} ${f.name}`);
    expect(await names('dirty-bit')).toEqual(['incompatible 0 dirty bit', 'compatible 0 lazy refcounts']);
    expect(await names('extl2')).toEqual(['incompatible 4 extended L2 entries']);
    expect(await names('bitmaps')).toEqual(['autoclear 0 bitmaps']);
    expect(await names('unknown-compat-autoclear')).toEqual(['compatible 5 unknown', 'autoclear 7 unknown']);
  });
});
