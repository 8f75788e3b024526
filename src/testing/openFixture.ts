/** Opens a fixture's chain and resolves its status, for core tests (Node file access lives here). */

import { openChainFromPath } from '../cli/openChain.ts';
import { closeChain } from '../core/chain/chain.ts';
import { type ChainStatus, chainStatus } from '../core/status/resolve.ts';
import { imageDir } from './fixtures.ts';

export async function fixtureStatus(
  caseName: string,
  top = 'top.qcow2',
  noBacking = false,
): Promise<ChainStatus> {
  const chain = await openChainFromPath(`${imageDir(caseName)}/${top}`, { noBacking });
  try {
    return await chainStatus(chain);
  } finally {
    await closeChain(chain);
  }
}
