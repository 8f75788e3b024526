/**
 * The client ends older work at once (issue 15 point 2): a worker that does not end a
 * superseded open within SUPERSEDE_MS is replaced, what the page shows is opened again in the
 * fresh one under the same ids, and the person is told; the watchdog counts only answered
 * pings as life. A worker that "never yields" is simulated here: it reads no message once it
 * starts a trigger file (as the engine's scan did on a shared L2 table) and keeps posting
 * progress, as that scan did. The real engine, which does yield, is in worker/budgets.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Request } from '../protocol/calls.ts';
import type { SandboxOp } from '../protocol/results.ts';
import { loopbackWorker } from '../testing/loopback.ts';
import { fixtureFile } from '../testing/testFiles.ts';
import { CallFailed, Client, SUPERSEDE_MS, Superseded, type WorkerLike } from './client.ts';
import { openFiles } from './loader.ts';
import { createAppStore } from './store.ts';

const STUCK = 'stuck.qcow2';

/** A worker (the real handler in this thread) that stops reading messages once asked to open STUCK. */
function stickyWorker(log: { made: number; terminated: number; posted: Request[] }): WorkerLike {
  log.made++;
  const inner = loopbackWorker();
  let frozen: ReturnType<typeof setInterval> | undefined;
  const outer: WorkerLike = {
    onmessage: null,
    postMessage(msg) {
      const req = msg as Request;
      log.posted.push(req);
      if (frozen) return;
      const from = req.method === 'open' ? (req.params as { from: { files?: File[] } }).from : undefined;
      if (from?.files?.some((f) => f.name === STUCK)) {
        // A scan that never lets the thread read a message, posting progress as it goes.
        frozen = setInterval(
          () =>
            outer.onmessage?.({
              data: {
                v: PROTOCOL_VERSION,
                id: req.id,
                type: 'progress',
                phase: 'L2 tables',
                done: 1,
                total: 2,
              },
            } as MessageEvent),
          10,
        );
        return;
      }
      inner.postMessage(msg);
    },
    terminate() {
      log.terminated++;
      clearInterval(frozen);
    },
  };
  inner.onmessage = (ev) => {
    if (!frozen) outer.onmessage?.(ev);
  };
  return outer;
}

const stuck = () => new File([fixtureFile('chain-3', 'top.qcow2')], STUCK);
const good = () => [fixtureFile('compressed-zlib', 'top.qcow2')];
const files = (list: File[]) => ({ kind: 'files' as const, files: list });
const whole = (source: number) => ({ source, view: '', start: 0, end: 65536, n: 1 });

function setup(opts: { supersedeMs?: number; stallMs?: number } = {}) {
  const log = { made: 0, terminated: 0, posted: [] as Request[] };
  const client = new Client(() => stickyWorker(log), {
    pingMs: 20,
    stallMs: opts.stallMs ?? 60_000,
    supersedeMs: opts.supersedeMs ?? 150,
  });
  const told: string[] = [];
  client.onRestarted = (m) => told.push(m);
  return { client, log, told };
}

describe('client: a newer open ends older work at once', () => {
  it('replaces a worker that does not end a superseded open, opens image B again under its id, and says so', async () => {
    const { client, log, told } = setup();
    const b = await client.call('open', { slot: 'b', from: files(good()) }, { channel: 'open:b' });
    const hostile = client.call('open', { slot: 'main', from: files([stuck()]) }, { channel: 'open:main' });
    hostile.catch(() => {});
    const t0 = Date.now();
    const newer = await client.call('open', { slot: 'main', from: files(good()) }, { channel: 'open:main' });
    const took = Date.now() - t0;
    await expect(hostile).rejects.toBeInstanceOf(Superseded);
    expect(newer.info.complete).toBe(true);
    expect(took).toBeLessThan(150 + 5_000);
    expect([log.made, log.terminated]).toEqual([2, 1]);
    // Image B was opened again in the fresh worker with the same request (so the same source id).
    const again = log.posted.filter((r) => r.id === b.info.id);
    expect(again).toHaveLength(2);
    expect(again[1]!.params).toBe(again[0]!.params);
    const bins = await client.call('bins', whole(b.info.id));
    expect(bins.n).toBe(1);
    expect(await client.call('bins', whole(newer.info.id))).toMatchObject({ n: 1 });
    expect(told).toEqual([
      `The image reader was still busy with ${STUCK} 0.2 s after it was asked to stop (SUPERSEDE_MS), so it was replaced by a fresh one, which opens top.qcow2 again.`,
    ]);
  });

  it('a cancel ends a stuck open too; the sandbox, the page image, image B and their diff are made again in order', async () => {
    const { client, log, told } = setup();
    const ops: SandboxOp[] = [
      { op: 'reset' },
      { op: 'create', name: 'a.qcow2', format: 'qcow2', size: 4 * 65536 },
      { op: 'write', image: 'a.qcow2', offset: 0, length: 65536, pattern: 1 },
    ];
    await client.call('sandbox', { ops });
    const main = await client.call('open', { slot: 'main', from: { kind: 'sandbox', top: 'a.qcow2' } });
    const b = await client.call('open', { slot: 'b', from: files(good()) }, { channel: 'open:b' });
    const side = { interp: 'nbd-base-allocation-6.0', view: '' };
    const a = { source: main.info.id, ...side };
    const diff = await client.call('diff', { a, b: { source: b.info.id, ...side } }, { channel: 'diff' });
    const hostile = client.call('open', { slot: 'b', from: files([stuck()]) }, { channel: 'open:b' });
    hostile.catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
    client.cancel('open:b');
    // Calls on the sources opened again wait for them, then are answered by the fresh worker.
    await expect.poll(() => log.made, { timeout: 5_000 }).toBe(2);
    const [onMain, onDiff] = await Promise.all([
      client.call('bins', whole(main.info.id)),
      client.call('rows', { source: diff.id, view: '', count: 10 }),
    ]);
    expect(onMain.n).toBe(1);
    expect(onDiff.total).toBeGreaterThanOrEqual(0);
    // What the fresh worker was sent: the sandbox first, then the sources; the diff after its
    // sides, the calls after what they read.
    const fresh = log.posted.slice(log.posted.findIndex((r, i) => i > 0 && r.method === 'sandbox'));
    const order = fresh.filter((r) => r.method !== 'ping').map((r) => `${r.method} ${r.id}`);
    const at = (what: string) => order.indexOf(what);
    expect(order[0]).toMatch(/^sandbox/);
    expect(at(`open ${main.info.id}`)).toBe(1);
    expect(at(`open ${b.info.id}`)).toBe(2);
    expect(at(`diff ${diff.id}`)).toBeGreaterThan(2);
    expect(order.findIndex((o) => o.startsWith('rows'))).toBeGreaterThan(at(`diff ${diff.id}`));
    expect(order).toHaveLength(6);
    expect((fresh[0]!.params as { ops: SandboxOp[] }).ops).toEqual(ops);
    expect(told[0]).toMatch(/opens a\.qcow2, top\.qcow2 and the diff again\.$/);
  });

  it('a worker that ends superseded work in time is kept', async () => {
    const { client, log } = setup({ supersedeMs: SUPERSEDE_MS });
    const first = client.call('open', { slot: 'main', from: files(good()) }, { channel: 'open:main' });
    first.catch(() => {});
    const newer = await client.call('open', { slot: 'main', from: files(good()) }, { channel: 'open:main' });
    await expect(first).rejects.toBeInstanceOf(Superseded);
    expect(newer.info.complete).toBe(true);
    // The worker said the older open ended: nothing is waited for, nothing replaced.
    await new Promise((r) => setTimeout(r, 50));
    expect([log.made, log.terminated]).toEqual([1, 0]);
  });

  it('the watchdog counts answered pings, not progress: a scan posting progress for ever is stopped', async () => {
    const { client, log } = setup({ stallMs: 300 });
    const stopped: string[] = [];
    client.onStopped = (e) => stopped.push(e.message);
    const t0 = Date.now();
    const e = await client
      .call('open', { slot: 'main', from: files([stuck()]) }, { channel: 'open:main' })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CallFailed);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(stopped[0]).toMatch(/stuck\.qcow2: the image reader stopped: it did not answer for 0 s/);
    expect(log.terminated).toBe(1);
    // The next file opens in a fresh worker.
    expect((await client.call('open', { slot: 'main', from: files(good()) })).info.complete).toBe(true);
    expect(log.made).toBe(2);
  });
});

describe('an open a budget ends', () => {
  it('keeps the part of the map it delivered on screen, with the LimitError', async () => {
    const s = createAppStore();
    // A budget of one extent: the first L2 table of cluster-512's top passes it.
    const client = new Client(loopbackWorker({ maxExtents: 1 }));
    await openFiles(s, client, [fixtureFile('cluster-512', 'top.qcow2')]);
    const st = s.getState();
    expect(st.load.status).toBe('error');
    expect(st.openErrors[0]).toMatchObject({
      kind: 'limit',
      file: 'top.qcow2',
      structure: 'L2 table (L1[0])',
    });
    expect(st.chain?.complete).toBe(false);
    expect(st.chain?.mappedEnd).toBeGreaterThan(0);
    // Any other failure leaves no map.
    const bad = new Uint8Array(512);
    bad.set([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 9]); // qcow2 magic, version 9
    await openFiles(s, client, [new File([bad], 'bad.qcow2')]);
    expect(s.getState().openErrors[0]?.file).toBe('bad.qcow2');
    expect(s.getState().chain).toBeUndefined();
  });
});
