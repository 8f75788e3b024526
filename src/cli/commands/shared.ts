/** Pieces every map-like command shares: opening the chain, the --qemu release, errors. */
import { type Chain, closeChain } from '../../core/chain/chain.ts';
import { parseRelease } from '../../core/interpret/releases.ts';
import { layerStatus } from '../../core/status/layerStatus.ts';
import { type ChainStatus, chainStatus } from '../../core/status/resolve.ts';
import { zeroScan } from '../../core/status/zeroScan.ts';
import { UsageError } from '../io.ts';
import { openChainFromPath, pathCombine } from '../openChain.ts';

export function releaseOption(v: string | true | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (v === true) throw new UsageError('--qemu needs a release, e.g. --qemu=7.2');
  try {
    return parseRelease(v);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function oneFile(positionals: readonly string[], command: string): string {
  if (positionals.length !== 1)
    throw new UsageError(`${command} takes exactly one FILE (try: clusterscope --help)`);
  return positionals[0]!;
}

export interface StatusRequest {
  readonly path: string;
  readonly noBacking: boolean;
  readonly snapshot?: string | undefined;
  readonly format?: string | undefined;
  readonly zeroScan: boolean;
}

/** Opens the chain and resolves its block status, from a snapshot's L1 table if asked. */
export const statusFor = (req: StatusRequest): Promise<ChainStatus> => withStatus(req, async (st) => st);

/** As statusFor(), running `use` while the chain's files are still open (to read more of them). */
export async function withStatus<T>(req: StatusRequest, use: (st: ChainStatus) => Promise<T>): Promise<T> {
  const chain: Chain = await openChainFromPath(req.path, {
    noBacking: req.noBacking,
    ...(req.format !== undefined && { format: req.format }),
  });
  try {
    return await use(await resolveStatus(chain, req));
  } finally {
    await closeChain(chain);
  }
}

async function resolveStatus(chain: Chain, req: StatusRequest): Promise<ChainStatus> {
  let st: ChainStatus;
  if (req.snapshot !== undefined) {
    const top = chain.layers[0]!;
    if (top.format !== 'qcow2') throw new UsageError(`${top.name}: --snapshot needs a qcow2 image`);
    // Loaded on demand: mapping the active L1 never reads the snapshot table.
    const { readSnapshots, readSnapshotL1 } = await import('../../core/qcow2/snapshots.ts');
    const snaps = await readSnapshots(top);
    const snap = snaps.find((s) => s.name === req.snapshot) ?? snaps.find((s) => s.id === req.snapshot);
    if (!snap) {
      const names = snaps.map((s) => s.name).join(', ') || 'none';
      throw new UsageError(`${top.name}: no snapshot '${req.snapshot}' (snapshots: ${names})`);
    }
    const l1 = await readSnapshotL1(top, snap);
    const topStatus = await layerStatus(top, { l1, length: snap.diskSize ?? top.length });
    st = await chainStatus(chain, { topStatus });
  } else {
    st = await chainStatus(chain);
  }
  return req.zeroScan ? zeroScan(st) : st;
}

/** The name qemu-img prints for the file holding a layer's data: the image, or its data file. */
export function dataFileName(st: ChainStatus, layer: number): string {
  const l = st.chain.layers[layer];
  if (!l) return '';
  if (l.format === 'qcow2' && l.dataFileName !== undefined) return pathCombine(l.name, l.dataFileName);
  return l.name;
}
