/// <reference lib="webworker" />
/** The Web Worker entry: all parsing happens here, never on the UI thread. */

import { plainError } from '../core/plainError.ts';
import { PROTOCOL_VERSION, type Reply, type Request } from '../protocol/calls.ts';
import { createHandler } from './handler.ts';
import { readerPool } from './readerPool.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
// The reader workers start now, so they are ready when a file is dropped.
readerPool();
const handle = createHandler((msg, transfer) => scope.postMessage(msg, transfer ?? []));
scope.onmessage = (ev: MessageEvent<Request>) => {
  const m = ev.data;
  const answer = (r: Reply) => scope.postMessage(r);
  // The heartbeat is answered at once, between the handler's awaits (the client's watchdog).
  if (m?.method === 'ping') return answer({ v: PROTOCOL_VERSION, id: m.id, type: 'result', result: null });
  // A bug that escapes the handler still answers its request, so nothing waits for ever.
  handle(m).catch((e: unknown) =>
    answer({ v: PROTOCOL_VERSION, id: m?.id ?? 0, type: 'error', error: plainError(e) }),
  );
};
