/**
 * Payment vouchers (EIP-712, domain = chain id + InferenceEscrow): the cumulative amount a user owes on a channel
 * to one node. The escrow checks the same signature on chain, so a voucher for another channel, node, escrow or
 * chain is worthless, and cumulative amounts make replaying an old voucher pointless.
 *
 * Request authorizations (same domain): the channel's user signs each paid request — channel, node, the hash of the
 * request body, a fee cap and a nonce above the last one used on the channel — so knowing a channel id is not
 * enough to spend on it, and a signed request cannot be replayed or reused for another body.
 */
import { type Address, type Hex, hashTypedData, type LocalAccount } from 'viem';
import {
  canonicalJson,
  escrowDomain,
  keccak256,
  recoverSigner,
  requestAuthorizationTypes,
  voucherTypes,
} from '../core/index.js';
import { encodeAuthorizationHeader, encodeVoucherHeader, MAX_UINT256, paymentHeaders } from '../protocol/index.js';

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

// The payment headers, their forms and their parse are the protocol's (src/protocol/artifacts/payment.ts).
export {
  encodeAuthorizationHeader,
  encodeVoucherHeader,
  parseAuthorizationHeader,
  parseVoucherHeader,
  paymentHeaders,
} from '../protocol/index.js';

/** A paid request as its channel's user authorizes it (EIP-712 `RequestAuthorization`). */
export interface RequestAuthorization {
  channelId: bigint;
  node: Address;
  /** `requestBodyHash(body)` of the request's JSON body. */
  requestHash: Hex;
  /** The most this request may cost, in wei. */
  maxFee: bigint;
  /** Above every nonce used on the channel before. */
  nonce: bigint;
}

/** Signing "no cap" (the request is still bounded by its max_tokens at the model's prices and by the deposit). */
export const NO_FEE_CAP = MAX_UINT256;

/**
 * What a request authorization binds the request to: keccak256 of the canonical JSON (sorted keys, no whitespace)
 * of the request's JSON body, as sent (a string is parsed first). The node hashes the body it received the same way.
 */
export function requestBodyHash(body: unknown): Hex {
  return keccak256(canonicalJson(typeof body === 'string' ? JSON.parse(body) : body));
}

const authorizationTypedData = (domain: VoucherDomain, a: RequestAuthorization) =>
  ({
    domain: { ...escrowDomain, chainId: domain.chainId, verifyingContract: domain.escrow },
    types: requestAuthorizationTypes,
    primaryType: 'RequestAuthorization',
    message: a,
  }) as const;

export function requestAuthorizationDigest(domain: VoucherDomain, a: RequestAuthorization): Hex {
  return hashTypedData(authorizationTypedData(domain, a));
}

export function signRequestAuthorization(user: LocalAccount, domain: VoucherDomain, a: RequestAuthorization) {
  return user.signTypedData(authorizationTypedData(domain, a));
}

/** Who signed the authorization (undefined for a malformed signature). */
export function requestAuthorizationSigner(
  domain: VoucherDomain,
  a: RequestAuthorization,
  signature: Hex,
): Address | undefined {
  return recoverSigner(requestAuthorizationDigest(domain, a), signature);
}

export interface PaidRequestInput {
  /** The channel's user: signs the authorization (and the voucher, if any). */
  user: LocalAccount;
  /** The escrow's domain: the chain id and InferenceEscrow address (GET /v1/settlement gives both). */
  domain: VoucherDomain;
  channelId: bigint;
  /** The node the channel pays. */
  node: Address;
  /** The JSON body exactly as it will be sent (an object, or its JSON text). */
  body: unknown;
  /** The most this request may cost, in wei (NO_FEE_CAP: bounded only by max_tokens and the deposit). */
  maxFee: bigint;
  /** Above the last nonce used on the channel (GET /v1/channels/:id gives it as authNonce). */
  nonce: bigint;
  /** A voucher for everything charged so far: a cumulative amount (signed here) or one already signed. */
  voucher?: bigint | { amount: bigint; signature: Hex };
}

/**
 * The headers of one paid request: the channel, the user's authorization of this body, and (when given) a voucher.
 * Every client that pays — the paying fetch, `tributary ask`, tests, benches — builds its headers here.
 */
export async function paidRequestHeaders(o: PaidRequestInput): Promise<Record<string, string>> {
  const a: RequestAuthorization = {
    channelId: o.channelId,
    node: o.node,
    requestHash: requestBodyHash(o.body),
    maxFee: o.maxFee,
    nonce: o.nonce,
  };
  const headers: Record<string, string> = {
    [paymentHeaders.channel]: o.channelId.toString(),
    [paymentHeaders.authorization]: encodeAuthorizationHeader(
      o.nonce,
      o.maxFee,
      await signRequestAuthorization(o.user, o.domain, a),
    ),
  };
  if (o.voucher !== undefined) {
    const v =
      typeof o.voucher === 'bigint'
        ? {
            amount: o.voucher,
            signature: await signVoucher(o.user, o.domain, {
              channelId: o.channelId,
              node: o.node,
              cumulativeAmount: o.voucher,
            }),
          }
        : o.voucher;
    headers[paymentHeaders.voucher] = encodeVoucherHeader(v.amount, v.signature);
  }
  return headers;
}
