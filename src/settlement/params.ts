/** The fee parameters governance set in ProtocolConfig, read from chain (and briefly cached). */
import { type ChainClients, type Deployment, ProtocolConfigArtifact } from '../chain/index.js';
import type { FeeParams } from './fees.js';

export function createParamsReader(clients: ChainClients, deployment: Deployment, ttlMs = 15_000) {
  let cached:
    | { at: number; value: Promise<FeeParams & { platformTreasury: `0x${string}`; challengeWindow: bigint }> }
    | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > ttlMs) {
      const value = clients.public
        .readContract({
          address: deployment.contracts.ProtocolConfig,
          abi: ProtocolConfigArtifact.abi,
          functionName: 'params',
        })
        .then((p) => ({
          platformFeeBps: p.platformFeeBps,
          platformFeeFlat: p.platformFeeFlat,
          ownerShareBps: p.ownerShareBps,
          stakerShareBps: p.stakerShareBps,
          contributorShareBps: p.contributorShareBps,
          platformTreasury: p.platformTreasury,
          challengeWindow: p.challengeWindow,
        }));
      cached = { at: Date.now(), value };
      value.catch(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}

export type ParamsReader = ReturnType<typeof createParamsReader>;
