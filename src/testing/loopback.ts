/**
 * The worker's handler in this thread, behind the WorkerLike the page's client talks to: state
 * tests drive the real engine through the real protocol. Replies are structured-cloned as
 * postMessage does (class instances do not survive it; typed arrays do); requests are passed as
 * they are, because Node's structuredClone drops a File's name where a browser keeps it.
 */
import type { WorkerLike } from '../state/client.ts';
import { createHandler, type HandlerOptions } from '../worker/handler.ts';

export function loopbackWorker(opts: HandlerOptions = {}): WorkerLike & { posted: unknown[] } {
  const w: WorkerLike & { posted: unknown[] } = {
    posted: [],
    onmessage: null,
    postMessage(msg) {
      w.posted.push(msg);
      void handle(msg as Parameters<typeof handle>[0]);
    },
  };
  const handle = createHandler((reply) => {
    const data = structuredClone(reply);
    // Replies arrive as tasks, as a worker's messages do.
    setTimeout(() => w.onmessage?.({ data } as MessageEvent), 0);
  }, opts);
  return w;
}
