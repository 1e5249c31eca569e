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
  BaseError,
  canonicalJson,
  escrowDomain,
  keccak256,
  recoverSigner,
  requestAuthorizationTypes,
  voucherTypes,
} from '../core/index.js';

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
  /** `<nonce>:<maxFee>:<signature>`: the channel user's RequestAuthorization for this request. */
  authorization: 'x-tributary-authorization',
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
export const NO_FEE_CAP = 2n ** 256n - 1n;

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

/** `nonce:maxFee:signature`, the form of the authorization header. */
export function encodeAuthorizationHeader(nonce: bigint, maxFee: bigint, signature: Hex): string {
  return `${nonce}:${maxFee}:${signature}`;
}

/** Reads the authorization header; INVALID_ARGUMENT names the header when it is malformed. */
export function parseAuthorizationHeader(raw: string): { nonce: bigint; maxFee: bigint; signature: Hex } {
  const m = /^(\d{1,78}):(\d{1,78}):(0x[0-9a-fA-F]{130})$/.exec(raw);
  if (!m || BigInt(m[1] as string) > NO_FEE_CAP || BigInt(m[2] as string) > NO_FEE_CAP)
    throw new BaseError('INVALID_ARGUMENT', `${paymentHeaders.authorization} must be "<nonce>:<max fee>:<signature>"`, {
      details: { field: paymentHeaders.authorization },
    });
  return { nonce: BigInt(m[1] as string), maxFee: BigInt(m[2] as string), signature: m[3] as Hex };
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
