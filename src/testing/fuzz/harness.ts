/**
 * The fuzz harness: one input (a set of named files, a top) through everything the engine
 * does with an image: openChain, chainStatus, every interpretation (qemu-img map, NBD
 * base:allocation, allocation-depth, with explain), checkImage, imageInfo, readSnapshots (and
 * each snapshot's status), readBitmaps (and each bitmap's table and dirty extents).
 *
 * The contract (issue 6): every input ends in a result or a typed ClusterscopeError, within
 * FUZZ_TIME_BOUND_MS, having asked its byte sources for at most FUZZ_MEMORY_CAP_BYTES. Anything
 * else (another exception type, a bound exceeded, a result that breaks the extent invariants)
 * is a failure. A hang that never reads again cannot be interrupted in one thread; the Node
 * runner (scripts/fuzz.mjs) watches for that from outside.
 */
import { type BackingResolver, type Chain, openChain } from '../../core/chain/chain.ts';
import { checkImage } from '../../core/check/checkImage.ts';
import { type ErrorKind, isClusterscopeError } from '../../core/errors.ts';
import { imageInfo } from '../../core/info/info.ts';
import type { Interpretation } from '../../core/interpret/interpretation.ts';
import { allocationDepth, baseAllocation } from '../../core/interpret/nbd.ts';
import { formatMapJson, qemuImgMap } from '../../core/interpret/qemuImgMap.ts';
import { QEMU_5_2, QEMU_7_2 } from '../../core/interpret/releases.ts';
import { type ByteSource, MemorySource } from '../../core/io/byteSource.ts';
import { readBitmaps, readBitmapTable, readDirtyExtents } from '../../core/qcow2/bitmaps.ts';
import { readSnapshotL1, readSnapshots } from '../../core/qcow2/snapshots.ts';
import type { Extents } from '../../core/status/extents.ts';
import { layerStatus } from '../../core/status/layerStatus.ts';
import { type ChainStatus, chainStatus } from '../../core/status/resolve.ts';

/**
 * Wall-clock bound per input. Fuzz inputs are at most a few MiB; the slowest legitimate input
 * (a check of a 2 MiB-cluster image) takes well under a second, so 5 s means the engine is
 * doing work the file does not justify.
 */
export const FUZZ_TIME_BOUND_MS = 5000;

/**
 * Bytes all reads of one input may ask for. readPadded() allocates what is asked even past
 * EOF, so asked-for bytes bound the engine's large allocations. 512 MiB: 64 times the largest
 * single read (MAX_READ_BYTES), far above what a few-MiB input justifies, below what a browser
 * tab survives.
 */
export const FUZZ_MEMORY_CAP_BYTES = 512 * 1024 * 1024;

/** Snapshots and bitmaps followed per image (each costs a status walk or a table read). */
const FOLLOW_PER_IMAGE = 4;

export type FailureKind = 'crash' | 'hang' | 'memory' | 'invariant';

export interface FuzzFailure {
  readonly kind: FailureKind;
  readonly stage: string;
  readonly message: string;
}

export type StageResult = 'ok' | ErrorKind;

export interface FuzzOutcome {
  /** What opening and mapping the chain gave: ok, or the error class (the headline outcome). */
  readonly outcome: StageResult;
  readonly stages: Readonly<Record<string, StageResult>>;
  readonly failures: readonly FuzzFailure[];
  readonly ms: number;
  readonly bytesRequested: number;
  /** The first ClusterscopeError's one-line message, if any. */
  readonly error?: string;
}

/** A bound was exceeded: not a ClusterscopeError on purpose, so no engine code swallows it. */
export class BudgetExceeded extends Error {
  override readonly name = 'BudgetExceeded';
  constructor(
    readonly kind: 'hang' | 'memory',
    message: string,
  ) {
    super(message);
  }
}

export interface Budget {
  readonly deadline: number;
  readonly capBytes: number;
  requested: number;
}

/** A ByteSource that checks the input's time and memory budget on every read. */
export class BudgetSource implements ByteSource {
  constructor(
    private readonly inner: ByteSource,
    private readonly budget: Budget,
    private readonly now: () => number,
  ) {}
  get name(): string {
    return this.inner.name;
  }
  get size(): number {
    return this.inner.size;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    const b = this.budget;
    b.requested += Math.max(0, length);
    if (b.requested > b.capBytes) {
      throw new BudgetExceeded(
        'memory',
        `reads asked for ${b.requested} bytes (FUZZ_MEMORY_CAP_BYTES ${b.capBytes})`,
      );
    }
    if (this.now() > b.deadline) {
      throw new BudgetExceeded(
        'hang',
        `still reading after FUZZ_TIME_BOUND_MS (read at ${offset}+${length})`,
      );
    }
    return this.inner.read(offset, length);
  }
}

export interface FuzzInput {
  readonly top: string;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export interface HarnessOptions {
  readonly timeBoundMs?: number;
  readonly memoryCapBytes?: number;
  /** Clock; Date.now by default. */
  readonly now?: () => number;
}

/** Backing names resolve to the files of the input by exact name, else by their last path part. */
function memoryResolver(input: FuzzInput, wrap: (s: ByteSource) => ByteSource): BackingResolver {
  return {
    async resolve(name) {
      const key = input.files.has(name) ? name : name.slice(name.lastIndexOf('/') + 1);
      const bytes = input.files.get(key);
      return bytes ? { source: wrap(new MemorySource(key, bytes)), key } : undefined;
    },
  };
}

/**
 * An exact offset or length: an integer below 2^53, or beyond it a multiple of 512 (qcow2
 * structures and guest ranges are; doubles hold those exactly up to 2^62).
 */
const exact = (v: number): boolean =>
  Number.isSafeInteger(v) || (Number.isInteger(v) && v % 512 === 0 && v < 2 ** 62);

/** Checks what a status result promises: sorted, contiguous, positive, exact integers, from 0. */
export function extentProblems(
  e: Pick<Extents, 'count' | 'start' | 'length' | 'host' | 'layer'>,
  length: number,
  complete: boolean,
  layers: number,
): string | undefined {
  let pos = 0;
  for (let i = 0; i < e.count; i++) {
    const s = e.start[i]!;
    const l = e.length[i]!;
    const h = e.host[i]!;
    if (s !== pos) return `extent ${i} starts at ${s}, expected ${pos}`;
    if (!(l > 0) || !exact(l)) return `extent ${i} has length ${l}`;
    if (h !== -1 && !(h >= 0 && exact(h))) return `extent ${i} has host offset ${h}`;
    if (e.layer[i]! >= layers) return `extent ${i} names layer ${e.layer[i]} of ${layers}`;
    pos = s + l;
  }
  if (pos > length) return `extents end at ${pos}, past the length ${length}`;
  if (complete && pos !== length) return `extents end at ${pos}, not at the length ${length}`;
  return undefined;
}

export async function runInput(input: FuzzInput, opts: HarnessOptions = {}): Promise<FuzzOutcome> {
  const now = opts.now ?? Date.now;
  const t0 = now();
  const timeBound = opts.timeBoundMs ?? FUZZ_TIME_BOUND_MS;
  const budget: Budget = {
    deadline: t0 + timeBound,
    capBytes: opts.memoryCapBytes ?? FUZZ_MEMORY_CAP_BYTES,
    requested: 0,
  };
  const wrap = (s: ByteSource) => new BudgetSource(s, budget, now);
  const stages: Record<string, StageResult> = {};
  const failures: FuzzFailure[] = [];
  let firstError: string | undefined;

  /** Runs one stage; a typed error is an outcome, anything else a failure. */
  const stage = async <T>(name: string, f: () => Promise<T>): Promise<T | undefined> => {
    // Once the input is out of time every later stage would fail on the deadline too.
    if (failures.some((x) => x.kind === 'hang')) return undefined;
    const s0 = now();
    try {
      const v = await f();
      stages[name] = 'ok';
      return v;
    } catch (e) {
      if (isClusterscopeError(e)) {
        stages[name] = e.kind;
        firstError ??= e.message;
        return undefined;
      }
      if (e instanceof BudgetExceeded) failures.push({ kind: e.kind, stage: name, message: e.message });
      else {
        const msg = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
        failures.push({ kind: 'crash', stage: name, message: msg });
      }
      return undefined;
    } finally {
      if (now() - s0 > timeBound && !failures.some((f) => f.stage === name)) {
        failures.push({
          kind: 'hang',
          stage: name,
          message: `took ${now() - s0} ms (FUZZ_TIME_BOUND_MS ${timeBound})`,
        });
      }
    }
  };
  const invariant = (stageName: string, problem: string | undefined) => {
    if (problem) failures.push({ kind: 'invariant', stage: stageName, message: problem });
  };

  const topBytes = input.files.get(input.top);
  if (!topBytes) throw new RangeError(`input has no file '${input.top}'`);
  const chain: Chain | undefined = await stage('open', () =>
    openChain(wrap(new MemorySource(input.top, topBytes)), memoryResolver(input, wrap), {
      format: 'qcow2',
      topKey: input.top,
    }),
  );
  let outcome: StageResult = stages.open ?? 'ok';
  if (chain) {
    const st: ChainStatus | undefined = await stage('status', () => chainStatus(chain));
    outcome = stages.status ?? 'ok';
    if (st) {
      if (st.error) {
        outcome = st.error.kind;
        firstError ??= st.error.message;
      }
      invariant('status', extentProblems(st.extents, st.length, !st.error, chain.layers.length));
      const views: Interpretation[] = [
        qemuImgMap(QEMU_7_2),
        qemuImgMap(),
        baseAllocation(QEMU_5_2),
        baseAllocation(),
        allocationDepth,
      ];
      for (const v of views) {
        await stage(`interpret ${v.id}`, async () => {
          const m = v.compute(st);
          invariant(`interpret ${v.id}`, extentProblems(m, st.length, !st.error, chain.layers.length));
          if (v.id.startsWith('qemu-img-map')) JSON.parse(formatMapJson(m));
          for (const at of [0, Math.floor(st.length / 2), Math.max(0, st.length - 1)]) v.explain(st, at);
        });
      }
    }
    await stage('info', () => imageInfo(chain));
    for (const [i, layer] of chain.layers.entries()) {
      if (layer.format !== 'qcow2') continue;
      await stage(`check ${i}`, () => checkImage(layer));
      const snaps = await stage(`snapshots ${i}`, () => readSnapshots(layer));
      for (const sn of (snaps ?? []).slice(0, FOLLOW_PER_IMAGE)) {
        await stage(`snapshot ${i}/${sn.id}`, async () => {
          const l1 = await readSnapshotL1(layer, sn);
          const ls = await layerStatus(layer, { l1, length: sn.diskSize ?? layer.length });
          invariant(`snapshot ${i}/${sn.id}`, extentProblems(ls.extents, ls.length, true, 1));
        });
      }
      const bitmaps = await stage(`bitmaps ${i}`, () => readBitmaps(layer));
      for (const bm of (bitmaps ?? []).slice(0, FOLLOW_PER_IMAGE)) {
        await stage(`bitmap ${i}/${bm.name}`, async () => {
          await readBitmapTable(layer, bm);
          if (!bm.flags.inUse) await readDirtyExtents(layer, bm);
        });
      }
    }
  }
  return {
    outcome,
    stages,
    failures,
    ms: now() - t0,
    bytesRequested: budget.requested,
    ...(firstError !== undefined && { error: firstError }),
  };
}
