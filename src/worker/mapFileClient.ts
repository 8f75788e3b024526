/** Typed wrappers for the map messages over WorkerClient.request (mapFileProtocol.ts). */
import { OpenFailed, Superseded, type WorkerClient } from './client.ts';
import type { DiffSideSpec } from './diffProtocol.ts';
import type { MapOpenMeta, MapSource } from './mapFileProtocol.ts';
import { type ChainInfo, PROTOCOL_VERSION } from './protocol.ts';

export async function openMap(
  client: WorkerClient,
  sources: readonly MapSource[],
  meta: MapOpenMeta,
): Promise<{ openId: number; chain: ChainInfo }> {
  let openId = 0;
  const m = await client.request((id) => {
    openId = id;
    return { v: PROTOCOL_VERSION, id, type: 'openMap', sources, meta };
  });
  if (m.type === 'opened') return { openId, chain: m.chain };
  if (m.type === 'error') throw new OpenFailed(m.error, m.files ?? [m.error]);
  throw new Superseded('openMap superseded');
}

/** The open chain's map in link form; `diff`: the diff view's A and B travel too. */
export async function shareMap(
  client: WorkerClient,
  openId: number,
  diff?: { readonly a: DiffSideSpec; readonly b: DiffSideSpec },
): Promise<string> {
  const m = await client.request((id) => ({
    v: PROTOCOL_VERSION,
    id,
    type: 'shareMap',
    openId,
    ...(diff && { diff: { a: diff.a, b: diff.b } }),
  }));
  if (m.type === 'shareMap') return m.payload;
  throw new Error(m.type === 'error' ? m.error.message : 'share refused');
}
