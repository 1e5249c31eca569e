/**
 * Payment vouchers (EIP-712, domain = chain id + InferenceEscrow): the cumulative amount a user owes on a channel
 * to one node. The escrow checks the same signature on chain, so a voucher for another channel, node, escrow or
 * chain is worthless, and cumulative amounts make replaying an old voucher pointless.
 */
import { type Address, type Hex, hashTypedData, type LocalAccount } from 'viem';
import { BaseError, escrowDomain, recoverSigner, voucherTypes } from '../core/index.js';

export interface VoucherDomain {
  chainId: number;
  escrow: Address;
}

export interface Voucher {
  channelId: bigint;
  node: Address;
  cumulativeAmount: bigint;
}

export function voucherDigest(domain: VoucherDomain, v: Voucher): Hex {
  return hashTypedData({
    domain: { ...escrowDomain, chainId: domain.chainId, verifyingContract: domain.escrow },
    types: voucherTypes,
    primaryType: 'Voucher',
    message: v,
  });
}

export function signVoucher(user: LocalAccount, domain: VoucherDomain, v: Voucher): Promise<Hex> {
  return user.signTypedData({
    domain: { ...escrowDomain, chainId: domain.chainId, verifyingContract: domain.escrow },
    types: voucherTypes,
    primaryType: 'Voucher',
    message: v,
  });
}

/** Who signed the voucher (undefined for a malformed signature). */
export function voucherSigner(domain: VoucherDomain, v: Voucher, signature: Hex): Address | undefined {
  return recoverSigner(voucherDigest(domain, v), signature);
}

/** The request headers that carry a payment: the channel, and a voucher for everything charged so far. */
export const paymentHeaders = {
  channel: 'x-tributary-channel',
  voucher: 'x-tributary-voucher',
  maxFee: 'x-tributary-max-fee',
  maxRoyalty: 'x-tributary-max-royalty',
} as const;

/** `amount:signature`, the form of the voucher header. */
export function encodeVoucherHeader(cumulativeAmount: bigint, signature: Hex): string {
  return `${cumulativeAmount}:${signature}`;
}

/** Reads the voucher header; INVALID_ARGUMENT names the header when it is malformed. */
export function parseVoucherHeader(raw: string): { amount: bigint; signature: Hex } {
  const m = /^(\d{1,78}):(0x[0-9a-fA-F]{130})$/.exec(raw);
  if (!m)
    throw new BaseError('INVALID_ARGUMENT', `${paymentHeaders.voucher} must be "<cumulative amount>:<signature>"`, {
      details: { field: paymentHeaders.voucher },
    });
  return { amount: BigInt(m[1] as string), signature: m[2] as Hex };
}
