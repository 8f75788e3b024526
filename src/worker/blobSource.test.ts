import { describe, expect, it } from 'vitest';
import { TableReader } from '../core/qcow2/tableReader.ts';
import { nextTask } from './blobReads.ts';
import {
  BlobSource,
  FIRST_BATCH_BYTES,
  HEAD_BYTES,
  MAX_BATCH_PARTS,
  READS_RESOLVED_PER_TASK,
} from './blobSource.ts';

describe('BlobSource', () => {
  const blob = new Blob([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])]);
  it('reads a slice', async () => {
    expect([...(await new BlobSource('a', blob).read(2, 3))]).toEqual([3, 4, 5]);
  });
  it('clips a read that runs past the end, and is empty at the end', async () => {
    const s = new BlobSource('a', blob);
    expect([...(await s.read(6, 10))]).toEqual([7, 8]);
    expect((await s.read(8, 4)).length).toBe(0);
    expect(s.size).toBe(8);
  });

  it('reads in batches that grow with what was read before: small first, full later', async () => {
    const K64 = 64 * 1024;
    const bytes = new Uint8Array(HEAD_BYTES + 512 * K64);
    for (let i = HEAD_BYTES; i < bytes.length; i += K64) bytes.fill((i - HEAD_BYTES) / K64, i, i + K64);
    const s = new BlobSource('big', new Blob([bytes]));
    const at = (k: number) => HEAD_BYTES + 2 * k * K64;
    // 64 tables of 64 KiB in one turn, every other one: 1 MiB (16), 1 MiB (16, all read so far),
    // then 2 MiB (32).
    let got = await Promise.all(Array.from({ length: 64 }, (_, k) => s.read(at(k), K64)));
    expect(FIRST_BATCH_BYTES).toBe(16 * K64);
    expect(s.reads).toBe(3);
    got.forEach((b, k) => {
      expect(b.length).toBe(K64);
      expect(b[0]).toBe(2 * k);
      expect(b[K64 - 1]).toBe(2 * k);
    });
    // A later turn of 128 tables (8 MiB) after 4 MiB: 4 MiB (64), then the other 64 in one.
    got = await Promise.all(Array.from({ length: 128 }, (_, k) => s.read(at(64 + k), K64)));
    expect(s.reads).toBe(3 + 2);
    for (const [k, b] of got.entries()) expect(b[0]).toBe((2 * (64 + k)) & 255);
  });

  it('serves the reads of an open from one read of the head, copies each, and reads past it from the file', async () => {
    const bytes = new Uint8Array(HEAD_BYTES * 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i & 255;
    const s = new BlobSource('img', new Blob([bytes]));
    const magic = await s.read(0, 4);
    const header = await s.read(0, 104);
    const l1 = await s.read(0x30000, 0x4000);
    expect(s.reads).toBe(1);
    expect([...magic]).toEqual([0, 1, 2, 3]);
    header[0] = 99;
    expect((await s.read(0, 1))[0]).toBe(0);
    expect(l1[0]).toBe(0x30000 & 255);
    expect(l1.length).toBe(0x4000);
    const across = await s.read(HEAD_BYTES - 2, 4);
    expect(s.reads).toBe(2);
    expect([...across]).toEqual([254, 255, 0, 1]);
  });

  it('starts one batch of at most MAX_BATCH_PARTS slices per task, so other work runs between them', async () => {
    const bytes = new Uint8Array(HEAD_BYTES + 400 * 4096);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) & 255;
    const s = new BlobSource('img', new Blob([bytes]));
    const offsets = Array.from({ length: 300 }, (_, k) => HEAD_BYTES + k * 4096);
    const all = Promise.all(offsets.map((o) => s.read(o, 4096)));
    await Promise.resolve(); // the turn's reads are batched in a microtask
    await Promise.resolve();
    expect(s.reads).toBe(1);
    const got = await all;
    expect(s.reads).toBe(Math.ceil(300 / MAX_BATCH_PARTS));
    for (const [k, b] of got.entries()) expect(b[0]).toBe((HEAD_BYTES / 4096 + k) & 255);
  });

  it('resolves the reads of a batch READS_RESOLVED_PER_TASK per task, so a scan decoding them lets other messages in', async () => {
    const n = 4 * READS_RESOLVED_PER_TASK;
    const bytes = new Uint8Array(HEAD_BYTES + n * 4096);
    const s = new BlobSource('img', new Blob([bytes]), null);
    // A task that counts tasks: each read records the count when it resolves.
    let tasks = 0;
    let ticking = true;
    const tick = () => {
      tasks++;
      if (ticking) nextTask(tick);
    };
    tick();
    const when = await Promise.all(
      Array.from({ length: n }, (_, k) => s.read(HEAD_BYTES + k * 4096, 4096).then(() => tasks)),
    );
    ticking = false;
    expect(s.reads).toBe(1); // one batch
    for (let k = 0; k < n; k += READS_RESOLVED_PER_TASK) {
      const chunk = when.slice(k, k + READS_RESOLVED_PER_TASK);
      expect(new Set(chunk).size).toBe(1); // a chunk resolves in one task
      if (k > 0) expect(chunk[0]).toBeGreaterThan(when[k - 1]!); // other tasks ran before the next
    }
  });
});

describe('BlobSource and the table reader', () => {
  it('reads tables that sit among data clusters as the tables only, not the data between them', async () => {
    // 64 tables of 64 KiB, one data cluster between each two (a 16 TiB image's L2 tables sit so).
    const T = 65536;
    const blob = new Blob([new Uint8Array(130 * T)]);
    const offsets = Array.from({ length: 64 }, (_, i) => 2 * i * T);
    const reader = new TableReader(new BlobSource('among.qcow2', blob, null), offsets, T);
    for (const o of offsets) expect((await reader.table(o)).length).toBe(T);
    expect(reader.bytesRead).toBe(64 * T);
  });
});
