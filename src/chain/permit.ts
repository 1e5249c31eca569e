/** Signing ERC-2612 permits for OPEN, so approvals cost the holder no transaction. */
import { type Address, type LocalAccount, parseSignature } from 'viem';
import { openTokenDomain, permitTypes } from '../core/index.js';

export interface PermitRequest {
  chainId: number;
  token: Address;
  spender: Address;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** Signs a permit and returns the arguments of `OpenToken.permit(owner, spender, value, deadline, v, r, s)`. */
export async function signPermit(owner: LocalAccount, p: PermitRequest) {
  const signature = await owner.signTypedData({
    domain: { ...openTokenDomain, chainId: p.chainId, verifyingContract: p.token },
    types: permitTypes,
    primaryType: 'Permit',
    message: { owner: owner.address, spender: p.spender, value: p.value, nonce: p.nonce, deadline: p.deadline },
  });
  const { v, r, s } = parseSignature(signature);
  return [owner.address, p.spender, p.value, p.deadline, Number(v ?? 27n), r, s] as const;
}
