/**
 * Opening something other than dropped files through the same worker and views: the sandbox's
 * chain below an image, or a remote image by URL. Mirrors state/loader.ts openFiles().
 */
import type { Store } from '../../state/store.ts';
import { OpenFailed, Superseded, type WorkerClient } from '../../worker/client.ts';
import type { OpenSource } from '../../worker/protocol.ts';
import type { SandboxOp, SandboxState } from '../../worker/sandbox.ts';

export async function openSource(
  store: Store,
  client: WorkerClient,
  source: OpenSource,
): Promise<number | undefined> {
  const name = source.kind === 'url' ? source.url : source.top;
  store.getState().startLoad([{ name, size: 0 }]);
  try {
    const { openId, chain } = await client.open(
      [],
      {
        onProgress: (phase, done, total) => store.getState().progress(phase, done, total),
      },
      source,
    );
    store.getState().opened(openId, chain);
    return openId;
  } catch (e) {
    if (e instanceof Superseded) return undefined;
    if (e instanceof OpenFailed) {
      store.getState().failed(e.files);
      return undefined;
    }
    const message = e instanceof Error ? e.message : String(e);
    store
      .getState()
      .failed([{ kind: 'internal', name: 'Error', file: name, structure: 'open', detail: message, message }]);
    return undefined;
  }
}

export async function runSandbox(
  client: WorkerClient,
  ops: readonly SandboxOp[],
): Promise<SandboxState & { error?: string }> {
  const r = await client.request((id) => ({ v: 1, id, type: 'sandbox', ops }));
  if (r.type !== 'sandbox') throw new Error(r.type === 'error' ? r.error.message : `unexpected ${r.type}`);
  return { ...r.state, ...(r.error && { error: r.error.message }) };
}

/** Saves a sandbox image as a download (the bytes are a valid qcow2/raw file for QEMU). */
export async function downloadSandboxFile(client: WorkerClient, name: string): Promise<void> {
  const r = await client.request((id) => ({ v: 1, id, type: 'sandboxFile', name }));
  if (r.type !== 'sandboxFile')
    throw new Error(r.type === 'error' ? r.error.message : `unexpected ${r.type}`);
  const url = URL.createObjectURL(
    new Blob([r.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  );
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
