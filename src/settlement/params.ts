/**
 * The parameters governance set in ProtocolConfig — fees, split, challenge window, platform treasury and where
 * unattributed shares go — read from chain (and briefly cached).
 */
import type { Address } from 'viem';
import { type ChainClients, ProtocolConfigArtifact } from '../chain/index.js';
import type { FeeParams } from './fees.js';

export type ProtocolParams = FeeParams & {
  platformTreasury: Address;
  challengeWindow: bigint;
  /** ProtocolConfig.unattributedRecipient: receives the contributors' share no live contribution is attributed. */
  unattributedAccount: Address;
};

/** ProtocolConfig's parameters now, or as they were at `blockNumber` (what an auditor compares an export with). */
export async function readParams(
  clients: ChainClients,
  protocolConfig: Address,
  blockNumber?: bigint,
): Promise<ProtocolParams> {
  const at = {
    address: protocolConfig,
    abi: ProtocolConfigArtifact.abi,
    ...(blockNumber === undefined ? {} : { blockNumber }),
  };
  const p = await clients.public.readContract({ ...at, functionName: 'params' });
  const unattributedAccount = await clients.public.readContract({ ...at, functionName: 'unattributedRecipient' });
  return {
    platformFeeBps: p.platformFeeBps,
    platformFeeFlat: p.platformFeeFlat,
    ownerShareBps: p.ownerShareBps,
    stakerShareBps: p.stakerShareBps,
    contributorShareBps: p.contributorShareBps,
    platformTreasury: p.platformTreasury,
    challengeWindow: p.challengeWindow,
    unattributedAccount,
  };
}

export function createParamsReader(
  clients: ChainClients,
  deployment: { contracts: { ProtocolConfig: Address } },
  ttlMs = 15_000,
) {
  let cached: { at: number; value: Promise<ProtocolParams> } | undefined;
  return async () => {
    if (!cached || Date.now() - cached.at > ttlMs) {
      const value = readParams(clients, deployment.contracts.ProtocolConfig);
      cached = { at: Date.now(), value };
      value.catch(() => {
        cached = undefined;
      });
    }
    return cached.value;
  };
}

export type ParamsReader = ReturnType<typeof createParamsReader>;
