/// <reference lib="webworker" />
/** A reader worker's entry (readerPool.ts starts them): it serves the engine worker's batches. */
import { serveReads } from './blobReads.ts';

serveReads(self as unknown as DedicatedWorkerGlobalScope);
