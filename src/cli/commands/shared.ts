/** Pieces every map-like command shares: opening the chain, the --qemu release, errors. */
import { type Chain, closeChain } from '../../core/chain/chain.ts';
import type { ClusterscopeError } from '../../core/errors.ts';
import { type Finding, formatFinding } from '../../core/findings.ts';
import { escapeControls } from '../../core/format.ts';
import { probedAsRawNote } from '../../core/info/probe.ts';
import { parseRelease } from '../../core/interpret/releases.ts';
import type { Qcow2Image } from '../../core/qcow2/image.ts';
import { CancelledError, layerStatus } from '../../core/status/layerStatus.ts';
import { type ChainStatus, chainStatus, type ExtentSink } from '../../core/status/resolve.ts';
import { streamChainStatus } from '../../core/status/stream.ts';
import { zeroScan } from '../../core/status/zeroScan.ts';
import { type CliIo, UsageError } from '../io.ts';
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

/** The snapshot's L1 table and disk size, for --snapshot=NAME (a name or an id). */
async function snapshotTop(chain: Chain, name: string): Promise<{ l1: Uint32Array; length: number }> {
  const top = chain.layers[0]!;
  if (top.format !== 'qcow2') throw new UsageError(`${top.name}: --snapshot needs a qcow2 image`);
  // Loaded on demand: mapping the active L1 never reads the snapshot table.
  const { readSnapshots, readSnapshotL1 } = await import('../../core/qcow2/snapshots.ts');
  const snaps = await readSnapshots(top);
  const snap = snaps.find((s) => s.name === name) ?? snaps.find((s) => s.id === name);
  if (!snap) {
    const names = snaps.map((s) => s.name).join(', ') || 'none';
    throw new UsageError(`${top.name}: no snapshot '${name}' (snapshots: ${names})`);
  }
  return { l1: await readSnapshotL1(top as Qcow2Image, snap), length: snap.diskSize ?? top.length };
}

async function resolveStatus(chain: Chain, req: StatusRequest): Promise<ChainStatus> {
  let st: ChainStatus;
  if (req.snapshot !== undefined) {
    const snap = await snapshotTop(chain, req.snapshot);
    const topStatus = await layerStatus(chain.layers[0]!, snap);
    st = await chainStatus(chain, { topStatus });
  } else {
    st = await chainStatus(chain);
  }
  return req.zeroScan ? zeroScan(st) : st;
}

export interface Streamed {
  readonly chain: Chain;
  readonly length: number;
  readonly error?: ClusterscopeError;
}

export interface StreamHooks {
  readonly onFinding: (f: Finding) => void;
  /** The chain, once open (before any extent reaches the sink). */
  readonly onOpen?: (chain: Chain) => void;
  /** Set when the sink wants no more (qemu-img map human stopped): the walk ends early. */
  readonly stopped?: () => boolean;
  /** The sentence saying the top was probed and taken for raw (undefined: it was not). */
  readonly onProbedRaw?: (note: string | undefined) => void | Promise<void>;
}

/** Warnings and the probe note on stderr, as every map-like command prints them. */
export function stderrHooks(io: CliIo): Pick<StreamHooks, 'onFinding' | 'onProbedRaw'> {
  return {
    onFinding: (f) => io.err(`clusterscope: warning: ${formatFinding(f)}\n`),
    onProbedRaw: (note) => {
      if (note) io.err(`clusterscope: note: ${escapeControls(note)}\n`);
    },
  };
}

/** Why the top of `chain`, opened without a format, is raw (core/info/probe.ts), or undefined. */
export async function probeNote(chain: Chain): Promise<string | undefined> {
  const top = chain.layers[0]!;
  if (top.format !== 'raw') return undefined;
  return probedAsRawNote(top.name, await top.source.read(0, 4));
}

/**
 * Opens the chain and streams its resolved status into `sink` (status/stream.ts): memory stays
 * bounded whatever the number of extents. Findings go to `onFinding` as they are found.
 * --zero-scan reads guest data over the whole status first (zeroScan() needs it), so it is
 * resolved whole (bounded by MAX_STATUS_BYTES) and then fed to the sink the same way.
 */
export async function streamStatus(
  req: StatusRequest,
  sink: ExtentSink,
  hooks: StreamHooks,
): Promise<Streamed> {
  const { onFinding } = hooks;
  const chain: Chain = await openChainFromPath(req.path, {
    noBacking: req.noBacking,
    ...(req.format !== undefined && { format: req.format }),
  });
  hooks.onOpen?.(chain);
  if (req.format === undefined && hooks.onProbedRaw) await hooks.onProbedRaw(await probeNote(chain));
  const stopped = hooks.stopped;
  try {
    if (req.zeroScan) {
      const st = await resolveStatus(chain, req);
      for (const f of st.findings) onFinding(f);
      const e = st.extents;
      for (let i = 0; i < e.count; i++) {
        sink.push(e.start[i]!, e.length[i]!, e.kind[i]!, e.flags[i]!, e.layer[i]!, e.host[i]!);
      }
      return { chain, length: st.length, ...(st.error && { error: st.error }) };
    }
    const snap = req.snapshot === undefined ? undefined : await snapshotTop(chain, req.snapshot);
    try {
      const r = await streamChainStatus(chain, sink, {
        onFinding,
        ...(snap && { topL1: snap.l1, topLength: snap.length }),
        ...(stopped && {
          signal: {
            get aborted() {
              return stopped();
            },
          },
        }),
      });
      return { chain, length: r.length, ...(r.error && { error: r.error }) };
    } catch (e) {
      if (e instanceof CancelledError && stopped?.()) return { chain, length: chain.layers[0]!.length };
      throw e;
    }
  } finally {
    await closeChain(chain);
  }
}

/** The name qemu-img prints for the file holding a layer's data: the image, or its data file. */
export function dataFileName(st: { readonly chain: Chain }, layer: number): string {
  const l = st.chain.layers[layer];
  if (!l) return '';
  if (l.format === 'qcow2' && l.dataFileName !== undefined) return pathCombine(l.name, l.dataFileName);
  return l.name;
}
