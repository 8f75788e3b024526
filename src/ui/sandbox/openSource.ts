/**
 * The sandbox's requests to the worker: operations and file downloads. Its chains open, like
 * remote images, through state/loader.ts openSource().
 */
import type { SandboxOp, SandboxState } from '../../protocol/results.ts';
import type { Caller } from '../../state/loader.ts';
import { download } from '../download.ts';

export const runSandbox = (client: Caller, ops: readonly SandboxOp[]): Promise<SandboxState> =>
  client.call('sandbox', { ops });

/** Saves a sandbox image as a download (the bytes are a valid qcow2/raw file for QEMU). */
export async function downloadSandboxFile(client: Caller, name: string): Promise<void> {
  download(await client.call('sandboxFile', { name }), name, 'application/octet-stream');
}
