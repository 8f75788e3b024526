/// <reference lib="webworker" />
/** The Web Worker entry: all parsing happens here, never on the UI thread. */
import { toErrorInfo } from './errorInfo.ts';
import { createHandler } from './handler.ts';
import { PROTOCOL_VERSION, type Request, type Response } from './protocol.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const handle = createHandler((msg, transfer) => scope.postMessage(msg, transfer ?? []));
scope.onmessage = (ev: MessageEvent<Request>) => {
  const m = ev.data;
  const answer = (r: Response) => scope.postMessage(r);
  if (m?.type === 'ping') return answer({ v: PROTOCOL_VERSION, id: m.id, type: 'pong' });
  // A bug that escapes the handler still answers its request, so nothing waits for ever.
  handle(m).catch((e: unknown) =>
    answer({ v: PROTOCOL_VERSION, id: m.id, type: 'error', error: toErrorInfo(e) }),
  );
};
