/**
 * The sandbox's requests to the worker: operations and file downloads. Its chains open, like
 * remote images, through state/loader.ts openSource().
 */
import type { WorkerClient } from '../../worker/client.ts';
import type { SandboxOp, SandboxState } from '../../worker/sandbox.ts';

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
