/** Drives the worker's handler as the page's client would, for tests: typed calls, replies kept. */
import { type Method, type Params, PROTOCOL_VERSION, type Reply, type Result } from '../protocol/calls.ts';
import { createHandler, type HandlerOptions } from '../worker/handler.ts';

export class CallFailed extends Error {
  constructor(readonly reply: Reply | undefined) {
    super(reply?.type === 'error' ? reply.error.message : `no result: ${JSON.stringify(reply)}`);
  }
}

export function workerHarness(opts: HandlerOptions = {}) {
  const out: Reply[] = [];
  const handle = createHandler((m) => out.push(m), opts);
  let next = 0;
  /** The final reply to request `id`: its result, error or cancellation. */
  const final = (id: number) =>
    [...out]
      .reverse()
      .find((m) => m.id === id && (m.type === 'result' || m.type === 'error' || m.type === 'cancelled'));
  /** Sends a request; resolves with its result, rejects with CallFailed (error or cancelled). */
  async function call<M extends Method>(method: M, params: Params<M>, channel?: string): Promise<Result<M>> {
    const id = ++next;
    await handle({ v: PROTOCOL_VERSION, id, method, params, ...(channel !== undefined && { channel }) });
    const r = final(id);
    if (r?.type !== 'result') throw new CallFailed(r);
    return r.result as Result<M>;
  }
  /** The id the next call will have (a source is named by the id of the call that opened it). */
  const nextId = () => next + 1;
  return { out, handle, call, final, nextId };
}
