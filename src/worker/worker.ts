/// <reference lib="webworker" />
/** The Web Worker entry: all parsing happens here, never on the UI thread. */
import { createHandler } from './handler.ts';
import type { Request } from './protocol.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const handle = createHandler((msg, transfer) => scope.postMessage(msg, transfer ?? []));
scope.onmessage = (ev: MessageEvent<Request>) => {
  void handle(ev.data);
};
