import { describe, expect, it } from 'vitest';
import type { ChainInfo } from '../worker/protocol.ts';
import { followSnapshot } from './snapshot.ts';
import { createAppStore } from './store.ts';

const K = 65536;
const chain = (tag: string): ChainInfo => ({
  layers: [{ name: tag, format: 'qcow2', virtualSize: 8 * K, fileSize: 1, clusterSize: K }],
  length: 8 * K,
  clusterSize: K,
  findings: [],
  rejected: [],
  unused: [],
  extents: {
    count: 0,
    start: new Float64Array(),
    length: new Float64Array(),
    kind: new Uint8Array(),
    flags: new Uint8Array(),
    layer: new Uint16Array(),
    host: new Float64Array(),
  },
});

/** A worker that knows snapshot s1 of every image, answering when told to. */
function fakeClient() {
  const asked: { openId: number; snapshot: string | undefined; answer(): Promise<void> }[] = [];
  const client = {
    snapshotView: (openId: number, snapshot: string | undefined) =>
      new Promise<ChainInfo>((resolve, reject) => {
        asked.push({
          openId,
          snapshot,
          answer: async () => {
            if (snapshot === undefined || snapshot === 's1') resolve(chain(snapshot ?? 'active'));
            else reject(new Error(`no snapshot '${snapshot}' (snapshots: s1)`));
            await Promise.resolve();
            await Promise.resolve();
          },
        });
      }),
    hit: async () => undefined,
  };
  return { client, asked };
}

describe('the map follows the store snapshot', () => {
  it('maps the chosen snapshot once the image is open, and the active L1 again when it is cleared', async () => {
    const s = createAppStore();
    const { client, asked } = fakeClient();
    followSnapshot(s, client);
    s.getState().startLoad([{ name: 'top.qcow2', size: 1 }]);
    s.getState().setSnapshot('s1');
    expect(asked).toEqual([]); // nothing open yet
    s.getState().opened(1, chain('active'));
    expect(asked.map((a) => [a.openId, a.snapshot])).toEqual([[1, 's1']]);
    await asked[0]!.answer();
    expect(s.getState().chain?.layers[0]?.name).toBe('s1');
    s.getState().setSnapshot(undefined);
    await asked[1]!.answer();
    expect(s.getState().chain?.layers[0]?.name).toBe('active');
    expect(asked).toHaveLength(2);
  });

  it('a snapshot the image does not have: a notice, the active L1, and the store says so', async () => {
    const s = createAppStore();
    const { client, asked } = fakeClient();
    followSnapshot(s, client);
    s.getState().opened(1, chain('active'));
    s.getState().setSnapshot('nope');
    await asked[0]!.answer();
    expect(s.getState().snapshot).toBeUndefined();
    expect(s.getState().notices.at(-1)?.text).toMatch(
      /Snapshot 'nope' cannot be shown for this image \(no snapshot 'nope'.*\)\. The map shows the active L1 table\./,
    );
    expect(asked).toHaveLength(1);
  });

  it('a later choice wins over an answer still on its way; a map without its image is left alone', async () => {
    const s = createAppStore();
    const { client, asked } = fakeClient();
    followSnapshot(s, client);
    s.getState().opened(1, chain('active'));
    s.getState().setSnapshot('s1');
    s.getState().setSnapshot(undefined);
    await asked[0]!.answer();
    expect(s.getState().chain?.layers[0]?.name).toBe('active');
    await asked[1]!.answer();
    s.getState().opened(2, { ...chain('map'), mapOnly: { fromLink: true, files: [], sources: [] } });
    s.getState().setSnapshot('s1');
    expect(asked).toHaveLength(2);
  });
});
