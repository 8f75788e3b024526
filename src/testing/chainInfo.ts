/** A ChainInfo as the worker describes an opened image, for state tests that need no engine. */
import type { ChainInfo } from '../protocol/source.ts';

const K = 65536;

export function chainInfo(
  length: number,
  o: { id?: number; names?: readonly string[]; fingerprint?: string } = {},
): ChainInfo {
  return {
    kind: 'image',
    id: o.id ?? 1,
    layers: (o.names ?? ['top.qcow2']).map((name) => ({
      name,
      format: 'qcow2',
      virtualSize: length,
      fileSize: 1,
      clusterSize: K,
    })),
    length,
    clusterSize: K,
    subclusters: false,
    classes: [],
    lanes: [],
    complete: true,
    mappedEnd: length,
    ...(o.fingerprint !== undefined && { fingerprint: o.fingerprint }),
    findings: [],
    rejected: [],
    unused: [],
  };
}
