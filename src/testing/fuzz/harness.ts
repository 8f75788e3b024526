/**
 * The fuzz harness: one input (a set of named files, a top) through everything the engine
 * does with an image: openChain, chainStatus, every interpretation (qemu-img map, NBD
 * base:allocation, allocation-depth, with explain), checkImage, imageInfo, readSnapshots (and
 * each snapshot's status), readBitmaps (and each bitmap's table and dirty extents).
 *
 * The contract (issue 6): every input ends in a result or a typed ClusterscopeError, within
 * FUZZ_TIME_BOUND_MS and FUZZ_MEMORY_CAP_BYTES. Memory is what the engine allocates, as it
 * charges it (budget.ts: extent arrays, kept errors, map files) plus the reads in flight, all
 * to one MemoryBudget of FUZZ_MEMORY_CAP_BYTES: the engine refuses past it with a LimitError
 * (an outcome); allocations it does not charge are caught by the process's ArrayBuffer bytes
 * growing past the cap (a failure). The streamed map (status/stream.ts, interpret/mapStream.ts,
 * the CLI's output path) must print what the whole-image status formats, failures included.
 * Anything else (another exception type, a bound exceeded, a result that breaks the extent
 * invariants) is a failure. A hang that never reads again cannot be interrupted in one thread;
 * the Node runner (scripts/fuzz.mjs) watches for that from outside.
 */

import { MemoryBudget } from '../../core/budget.ts';
import { type BackingResolver, type Chain, openChain } from '../../core/chain/chain.ts';
import { checkImage } from '../../core/check/checkImage.ts';
import { type ErrorKind, isClusterscopeError } from '../../core/errors.ts';
import { imageInfo } from '../../core/info/info.ts';
import { AsciiWriter } from '../../core/interpret/asciiWriter.ts';
import type { Interpretation } from '../../core/interpret/interpretation.ts';
import { MapStream } from '../../core/interpret/mapStream.ts';
import { allocationDepth, baseAllocation, formatNbdinfo } from '../../core/interpret/nbd.ts';
import { formatMapHuman, formatMapJson, MapJsonWriter, qemuImgMap } from '../../core/interpret/qemuImgMap.ts';
import { QEMU_5_2, QEMU_7_2 } from '../../core/interpret/releases.ts';
import { type ByteSource, MemorySource } from '../../core/io/byteSource.ts';
import { readBitmaps, readBitmapTable, readDirtyExtents } from '../../core/qcow2/bitmaps.ts';
import { readSnapshotL1, readSnapshots } from '../../core/qcow2/snapshots.ts';
import type { Extents } from '../../core/status/extents.ts';
import { layerStatus } from '../../core/status/layerStatus.ts';
import { type ChainStatus, chainStatus } from '../../core/status/resolve.ts';
import { streamChainStatus } from '../../core/status/stream.ts';

/**
 * Wall-clock bound per input. Fuzz inputs are at most a few MiB; the slowest legitimate input
 * (a check of a 2 MiB-cluster image) takes well under a second, so 5 s means the engine is
 * doing work the file does not justify.
 */
export const FUZZ_TIME_BOUND_MS = 5000;

/**
 * Bytes the engine may hold for one input: the MemoryBudget every status computation of the
 * input charges, and the reads in flight. 512 MiB: half of MAX_STATUS_BYTES, far above what a
 * few-MiB input justifies (a shared-table mutation's 524 k extents need ~60 MiB), below what a
 * browser tab survives.
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
  /** Most bytes the engine held at once, as charged to the input's MemoryBudget. */
  readonly peakBytes: number;
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
  /** What the engine charges, reads in flight included. */
  readonly memory: MemoryBudget;
  /** Bytes all reads asked for (reported; memory is bounded by `memory`). */
  requested: number;
}

/** A ByteSource that checks the input's time on every read and charges each read to its memory. */
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
  async read(offset: number, length: number): Promise<Uint8Array> {
    const b = this.budget;
    const n = Math.max(0, Math.min(length, this.inner.size - offset));
    b.requested += Math.max(0, length);
    if (this.now() > b.deadline) {
      throw new BudgetExceeded(
        'hang',
        `still reading after FUZZ_TIME_BOUND_MS (read at ${offset}+${length})`,
      );
    }
    // readPadded() allocates what is asked even past EOF: the larger of the two is held.
    const held = Math.max(n, length);
    b.memory.charge(held, { file: this.name, structure: 'read', offset }, `a read of ${length} bytes`);
    try {
      return await this.inner.read(offset, length);
    } finally {
      b.memory.release(held);
    }
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
  const cap = opts.memoryCapBytes ?? FUZZ_MEMORY_CAP_BYTES;
  const budget: Budget = {
    deadline: t0 + timeBound,
    memory: new MemoryBudget('FUZZ_MEMORY_CAP_BYTES', cap),
    requested: 0,
  };
  const arrayBuffers0 = process.memoryUsage().arrayBuffers;
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
      // What the engine holds without charging it: ArrayBuffers past the cap (garbage included,
      // so only a growth of the cap's size again is a failure).
      const grown = process.memoryUsage().arrayBuffers - arrayBuffers0;
      if (grown > 2 * cap && !failures.some((f) => f.kind === 'memory')) {
        failures.push({
          kind: 'memory',
          stage: name,
          message: `ArrayBuffers grew by ${grown} bytes (FUZZ_MEMORY_CAP_BYTES ${cap})`,
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
    const st: ChainStatus | undefined = await stage('status', () =>
      chainStatus(chain, { budget: budget.memory }),
    );
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
    if (st) await stage('stream', () => streamedEqualsWhole(chain, st, invariant));
    await stage('info', () => imageInfo(chain));
    for (const [i, layer] of chain.layers.entries()) {
      if (layer.format !== 'qcow2') continue;
      await stage(`check ${i}`, () => checkImage(layer));
      const snaps = await stage(`snapshots ${i}`, () => readSnapshots(layer));
      for (const sn of (snaps ?? []).slice(0, FOLLOW_PER_IMAGE)) {
        await stage(`snapshot ${i}/${sn.id}`, async () => {
          const l1 = await readSnapshotL1(layer, sn);
          const ls = await layerStatus(layer, {
            l1,
            length: sn.diskSize ?? layer.length,
            budget: budget.memory,
          });
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
    peakBytes: budget.memory.peak,
    ...(firstError !== undefined && { error: firstError }),
  };
}

/**
 * The CLI's output path: the chain streamed window by window (the smallest windows, so L2
 * tables are cut) into qemu-img map JSON, human and nbdinfo text must print what the whole
 * status formats; after a failure what qemu-img and nbdinfo print then (an open array without
 * the entry being merged; nothing).
 */
async function streamedEqualsWhole(
  chain: Chain,
  st: ChainStatus,
  invariant: (stage: string, problem: string | undefined) => void,
): Promise<void> {
  const formats = ['qemu-img-map-json', 'qemu-img-map-human', 'nbdinfo'] as const;
  const interp = {
    'qemu-img-map-json': qemuImgMap(QEMU_7_2),
    'qemu-img-map-human': qemuImgMap(QEMU_7_2),
    nbdinfo: baseAllocation(),
  };
  const texts = formats.map(() => [] as Uint8Array[]);
  const streams = formats.map(
    (f, i) =>
      new MapStream(interp[f], f, { release: QEMU_7_2, fileName: String, write: (b) => texts[i]!.push(b) }),
  );
  const r = await streamChainStatus(
    chain,
    {
      push(start, length, kind, flags, layer, host) {
        for (const s of streams) s.push(start, length, kind, flags, layer, host);
      },
    },
    { windowBytes: 1, tableCacheBytes: 1 },
  );
  const ends = streams.map((s) => (r.error ? s.fail() : s.finish()));
  if ((r.error?.message ?? '') !== (st.error?.message ?? '')) {
    invariant('stream', `streamed error '${r.error?.message}' but whole '${st.error?.message}'`);
    return;
  }
  const dec = (bs: Uint8Array[]) => new TextDecoder().decode(Buffer.concat(bs));
  formats.forEach((f, i) => {
    const got = dec(texts[i]!);
    const m = interp[f].compute(st);
    let want: string;
    if (f === 'qemu-img-map-json') {
      if (!st.error) want = formatMapJson(m, QEMU_7_2);
      else {
        const jw = new MapJsonWriter(new AsciiWriter(), QEMU_7_2);
        jw.begin();
        for (let k = 0; k < m.count - 1; k++)
          jw.entry(m.start[k]!, m.length[k]!, m.value[k]!, m.host[k]!, false);
        want = new TextDecoder().decode(jw.w.result());
      }
    } else if (f === 'qemu-img-map-human') {
      const h = formatMapHuman(m, String, st.error !== undefined);
      want = h.text;
      if ((h.error ?? '') !== (ends[i]!.error ?? ''))
        invariant('stream', `human map stopped with '${ends[i]!.error}' but whole '${h.error}'`);
    } else want = st.error ? '' : formatNbdinfo(m, interp[f].label);
    if (got !== want)
      invariant(
        'stream',
        `${f}: streamed text differs from the whole status's (${got.length} vs ${want.length} bytes)`,
      );
  });
}
