/**
 * Where an interpretation's input comes from. "The same image with its backing chain" and
 * "with backing: null", "the active L1" and "snapshot s1's L1" are not interpretations: they
 * are different ChainStatus inputs to the same interpretation. A ViewSource names one, and
 * viewStatus() builds it from a chain opened once, so the UI and the CLI can compare
 * "A = image with chain, qemu-img map 7.2" with "B = same image, backing: null, qemu-img map 7.2".
 *
 * Text form (URL hash and CLI `INTERP@VIEW`): comma-separated tokens, default omitted:
 *   chain | backing-null      resolve through backing files, or as QEMU with "backing": null (§6.5)
 *   snapshot:NAME             an internal snapshot's L1 table (name, else id) instead of the active one
 *   zero-scan                 read data clusters and mark all-zero blocks (status/zeroScan.ts)
 * e.g. `backing-null,snapshot:s1`. Snapshot names containing ',' cannot be written this way.
 */
import type { Chain } from '../chain/chain.ts';
import { IoError } from '../errors.ts';
import { readSnapshotL1, readSnapshots } from '../qcow2/snapshots.ts';
import { type Cancellation, layerStatus, type Progress } from '../status/layerStatus.ts';
import { type ChainStatus, chainStatus } from '../status/resolve.ts';
import { zeroScanned } from './readsAsZero.ts';

export interface ViewSource {
  /** 'chain': the backing chain as opened; 'null': the top alone, as `"backing": null`. */
  readonly backing: 'chain' | 'null';
  /** Internal snapshot (name, else id) whose L1 table replaces the active L1; absent = active. */
  readonly snapshot?: string;
  /** Run the opt-in content scan on the result. */
  readonly zeroScan?: boolean;
}

export const DEFAULT_VIEW: ViewSource = { backing: 'chain' };

export class ViewSpecError extends Error {
  override readonly name = 'ViewSpecError';
}

export function parseView(spec: string): ViewSource {
  let backing: 'chain' | 'null' = 'chain';
  let snapshot: string | undefined;
  let scan = false;
  for (const tok of spec.split(',')) {
    if (tok === '' || tok === 'chain') backing = 'chain';
    else if (tok === 'backing-null') backing = 'null';
    else if (tok === 'zero-scan') scan = true;
    else if (tok.startsWith('snapshot:') && tok.length > 'snapshot:'.length) snapshot = tok.slice(9);
    else
      throw new ViewSpecError(
        `unknown view '${tok}' (expected chain, backing-null, snapshot:NAME or zero-scan)`,
      );
  }
  return { backing, ...(snapshot !== undefined && { snapshot }), ...(scan && { zeroScan: true }) };
}

/** The canonical text form ('' for the default view). */
export function formatView(v: ViewSource): string {
  return [
    ...(v.backing === 'null' ? ['backing-null'] : []),
    ...(v.snapshot !== undefined ? [`snapshot:${v.snapshot}`] : []),
    ...(v.zeroScan ? ['zero-scan'] : []),
  ].join(',');
}

/** Words for a legend or a report: "with backing chain, active L1". */
export function describeView(v: ViewSource): string {
  return [
    v.backing === 'null' ? 'backing: null' : 'with backing chain',
    v.snapshot !== undefined ? `snapshot ${v.snapshot}'s L1` : 'active L1',
    ...(v.zeroScan ? ['zero-scanned'] : []),
  ].join(', ');
}

/** The chain a view reads: the opened chain, or its top alone for `backing: null`. */
export function viewChain(chain: Chain, v: ViewSource): Chain {
  return v.backing === 'null' ? { layers: chain.layers.slice(0, 1), noBacking: true } : chain;
}

export interface ViewStatusOptions {
  readonly onProgress?: Progress;
  readonly signal?: Cancellation;
  /** Bytes read and to read by the zero scan of a `zero-scan` view (status/zeroScan.ts planZeroScan says how many before). */
  readonly onScanProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/** Builds the ChainStatus a view describes, from a chain opened with its backing files (or not). */
export async function viewStatus(
  chain: Chain,
  v: ViewSource,
  opts: ViewStatusOptions = {},
): Promise<ChainStatus> {
  const c = viewChain(chain, v);
  const pass = {
    ...(opts.signal && { signal: opts.signal }),
    ...(opts.onProgress && { onProgress: opts.onProgress }),
  };
  let st: ChainStatus;
  if (v.snapshot !== undefined) {
    const top = c.layers[0]!;
    const where = { file: top.name, structure: 'snapshot table' };
    if (top.format !== 'qcow2') throw new IoError(where, 'a raw image has no internal snapshots');
    const snaps = await readSnapshots(top);
    const snap = snaps.find((s) => s.name === v.snapshot) ?? snaps.find((s) => s.id === v.snapshot);
    if (!snap) {
      const names = snaps.map((s) => s.name).join(', ') || 'none';
      throw new IoError(where, `no snapshot '${v.snapshot}' (snapshots: ${names})`);
    }
    const l1 = await readSnapshotL1(top, snap);
    const topStatus = await layerStatus(top, { ...pass, l1, length: snap.diskSize ?? top.length });
    st = await chainStatus(c, { ...pass, topStatus });
  } else {
    st = await chainStatus(c, pass);
  }
  return v.zeroScan
    ? zeroScanned(st, {
        ...(opts.signal && { signal: opts.signal }),
        ...(opts.onScanProgress && { onProgress: opts.onScanProgress }),
      })
    : st;
}
