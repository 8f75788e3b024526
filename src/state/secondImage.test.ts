import { describe, expect, it } from 'vitest';
import type { ChainInfo } from '../protocol/source.ts';
import { chainInfo } from '../testing/chainInfo.ts';
import { DEFAULT_DIFF, secondFor } from './diff.ts';
import { closeSecondImage, openSecondImage } from './secondImage.ts';
import { createAppStore } from './store.ts';

const K = 65536;
const info = (id: number, names: string[], length: number, fingerprint: string): ChainInfo =>
  chainInfo(length, { id, names, fingerprint });
const later = info(7, ['vm-later.qcow2', 'base.raw'], 12 * K, '00000000000000aa');
/** A client whose open of image B answers `chain`. */
const opener = (chain: ChainInfo, id = 7) =>
  ({ call: async () => ({ info: { ...chain, id } }) }) as unknown as Parameters<typeof openSecondImage>[1];

function store() {
  const s = createAppStore();
  s.getState().opened(s.getState().startLoad([]), { info: info(1, ['vm.qcow2'], 8 * K, '00000000000000ff') });
  s.getState().setDiff(DEFAULT_DIFF);
  return s;
}

describe('image B', () => {
  it('opening it names it in the spec and lets the view reach the longer image end', async () => {
    const s = store();
    expect(s.getState().view).toEqual({ start: 0, end: 8 * K });
    await openSecondImage(s, opener(later), []);
    const st = s.getState();
    expect(st.diff?.bImage).toEqual({
      files: ['vm-later.qcow2', 'base.raw'],
      size: 12 * K,
      fingerprint: later.fingerprint,
    });
    expect(secondFor(st.diff, st.second)?.id).toBe(7);
    // The whole page image was in view: now the whole comparison is.
    expect(s.getState().view).toEqual({ start: 0, end: 12 * K });
    st.setView({ start: K, end: 2 * K });
    st.resetView();
    expect(s.getState().view).toEqual({ start: 0, end: 12 * K });
    expect(s.getState().notices).toEqual([]);

    closeSecondImage(s);
    expect(s.getState().diff?.bImage).toBeUndefined();
    expect(s.getState().second).toBeUndefined();
    expect(s.getState().view).toEqual({ start: 0, end: 8 * K });
  });

  it('checks the image against the one a link named: the same says so, another is flagged', async () => {
    const s = store();
    s.getState().setDiff({
      ...DEFAULT_DIFF,
      bImage: { files: ['vm-later.qcow2'], size: 12 * K, fingerprint: '00000000000000aa' },
    });
    await openSecondImage(s, opener(later), []);
    expect(s.getState().notices.at(-1)).toMatchObject({ level: 'info' });
    expect(s.getState().notices.at(-1)?.text).toMatch(/^Image B: Same image as the link/);

    const t = store();
    t.getState().setDiff({
      ...DEFAULT_DIFF,
      bImage: { files: ['vm-later.qcow2'], size: 12 * K, fingerprint: '00000000000000bb' },
    });
    await openSecondImage(t, opener(later), []);
    expect(t.getState().notices.at(-1)).toMatchObject({ level: 'warn' });
    expect(t.getState().notices.at(-1)?.text).toMatch(
      /^Image B: Different image: the link was made for vm-later\.qcow2/,
    );
    // Replacing B on purpose later is no link check.
    await openSecondImage(t, opener({ ...later, fingerprint: '00000000000000cc' }, 8), []);
    expect(t.getState().notices).toHaveLength(1);
  });

  it('a spec naming another image than the open one does not read it', async () => {
    const s = store();
    await openSecondImage(s, opener(later), []);
    s.getState().setDiff({
      ...DEFAULT_DIFF,
      bImage: { files: ['other.qcow2'], size: 12 * K, fingerprint: '0000000000000001' },
    });
    expect(secondFor(s.getState().diff, s.getState().second)).toBeUndefined();
    s.getState().resetView();
    expect(s.getState().view.end).toBe(8 * K);
  });
});
