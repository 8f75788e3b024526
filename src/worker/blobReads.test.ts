/**
 * The read scheduling rule (BatchQueue) and the reader protocol (serveReads, ReaderPool), driven
 * in-process: readers are served on MessageChannel ports, as the reader workers serve theirs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BATCHES_IN_FLIGHT, BatchQueue, BYTES_IN_FLIGHT, serveReads } from './blobReads.ts';
import { BlobSource, HEAD_BYTES, MAX_BATCH_PARTS } from './blobSource.ts';
import { ReaderPool, type ReaderPort } from './readerPool.ts';

/** Lets every settled promise run its callbacks (the queue's accounting runs in them). */
const settle = () => new Promise((r) => setImmediate(r));

describe('BatchQueue', () => {
  it('starts reads in the order asked, one per task, within the batches and bytes budget (a larger one alone)', async () => {
    const tasks: (() => void)[] = [];
    const q = new BatchQueue({ batches: 3, bytes: 10 }, (f) => tasks.push(f));
    const sizes = [4, 4, 4, 1, 12, 2];
    const started: number[] = [];
    const finish: (() => void)[] = [];
    const running = new Set<number>();
    const inFlight: number[][] = [];
    for (const [i, bytes] of sizes.entries()) {
      q.push(bytes, () => {
        started.push(i);
        running.add(i);
        inFlight.push([...running]);
        return new Promise<void>((r) => {
          finish[i] = () => {
            running.delete(i);
            r();
          };
        });
      });
    }
    const nextTask = async () => {
      tasks.shift()?.();
      await settle();
    };
    expect(started).toEqual([0]); // the first at once, the rest one per task
    await nextTask();
    expect(started).toEqual([0, 1]);
    await nextTask();
    expect(started).toEqual([0, 1]); // 4 + 4 + 4 bytes would pass the budget of 10
    finish[0]!();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    await nextTask();
    expect(started).toEqual([0, 1, 2, 3]); // 3 in flight: 4 + 4 + 1
    await nextTask();
    finish[1]!();
    finish[2]!();
    await settle();
    await nextTask();
    expect(started).toEqual([0, 1, 2, 3]); // 12 bytes wait until nothing is in flight
    finish[3]!();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    await nextTask();
    expect(started).toEqual([0, 1, 2, 3, 4]); // 12 + 2 is over the budget
    finish[4]!();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    for (const set of inFlight) {
      expect(set.length).toBeLessThanOrEqual(3);
      const bytes = set.reduce((n, i) => n + sizes[i]!, 0);
      if (set.length > 1) expect(bytes).toBeLessThanOrEqual(10);
    }
    expect(q.peakBatches).toBe(3);
  });

  it('keeps the named budgets by default', () => {
    expect(BATCHES_IN_FLIGHT).toBeGreaterThanOrEqual(1);
    // Two full batches of 128 tables of 64 KiB fit; the budget is what memory in flight may hold.
    expect(BYTES_IN_FLIGHT).toBe(BATCHES_IN_FLIGHT * MAX_BATCH_PARTS * 64 * 1024);
  });
});

describe('ReaderPool', () => {
  const open: MessagePort[] = [];
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });

  /** `n` readers served in-process; `served[k]` counts the batches reader k read. */
  function readers(n: number, serve = (k: number) => k >= 0) {
    const ports: ReaderPort[] = [];
    const served: number[] = [];
    for (let k = 0; k < n; k++) {
      const ch = new MessageChannel();
      open.push(ch.port1, ch.port2);
      served.push(0);
      if (serve(k)) {
        const queue = serveReads(ch.port2);
        const push = queue.push.bind(queue);
        queue.push = (bytes, run) => {
          served[k]!++;
          push(bytes, run);
        };
      }
      ports.push(ch.port1);
    }
    return { pool: new ReaderPool(ports), ports, served };
  }

  /** A file of `tables` 4 KiB tables after the head, table k's bytes all k & 255. */
  function file(tables: number): Blob {
    const bytes = new Uint8Array(HEAD_BYTES + tables * 4096);
    for (let k = 0; k < tables; k++) bytes.fill(k & 255, HEAD_BYTES + k * 4096, HEAD_BYTES + (k + 1) * 4096);
    return new Blob([bytes]);
  }
  const at = (k: number) => HEAD_BYTES + k * 4096;

  it('reads through the readers: bytes in order, batches dealt to every reader, read-ahead sized to fill them', async () => {
    const { pool, served } = readers(2);
    const s = new BlobSource('img', file(600), pool);
    expect(s.prefetchGroups).toBe(2 * BATCHES_IN_FLIGHT * MAX_BATCH_PARTS);
    const got = await Promise.all(Array.from({ length: 600 }, (_, k) => s.read(at(k), 4096)));
    for (const [k, b] of got.entries()) {
      expect(b.length).toBe(4096);
      expect(b[0]).toBe(k & 255);
      expect(b[4095]).toBe(k & 255);
    }
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
    expect(served[0]! + served[1]!).toBe(s.reads);
  });

  it("reads a failed reader's batches with the others, and in the engine's worker once none is left", async () => {
    // Reader 1 never answers; its error event hands its batches to reader 0.
    const { pool, ports, served } = readers(2, (k) => k === 0);
    const s = new BlobSource('img', file(300), pool);
    const all = Promise.all(Array.from({ length: 300 }, (_, k) => s.read(at(k), 4096)));
    await settle();
    const fail = (k: number) => ports[k]!.onerror?.({ preventDefault() {} } as ErrorEvent);
    fail(1);
    const got = await all;
    for (const [k, b] of got.entries()) expect(b[0]).toBe(k & 255);
    expect(served[0]).toBe(s.reads);
    expect(pool.readers).toBe(1);
    // With no reader left the pool reads itself.
    fail(0);
    expect(pool.readers).toBe(0);
    const late = await Promise.all([s.read(at(7), 4096), s.read(at(299), 4096)]);
    expect([late[0]![0], late[1]![0]]).toEqual([7, 299 & 255]);
  }, 5000);

  it('rejects a read the reader cannot do, with its error', async () => {
    const { pool } = readers(1);
    await expect(pool.read(new Blob([]), 99, [0, 4])).rejects.toThrow('reader: no file 99');
  });
});
