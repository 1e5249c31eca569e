/**
 * The request headers that carry a payment to a node: the channel, the channel user's authorization of this exact
 * request (`<nonce>:<maxFee>:<signature>`) and a voucher for everything charged so far
 * (`<cumulative amount>:<signature>`). Each header is a codec between its string and its parts, so clients write
 * and the node reads them with the same definition.
 */
import { z } from 'zod';
import { BaseError } from '../../core/index.js';
import { type Hex, signature } from '../primitives.js';

/** The request headers that carry a payment. */
export const paymentHeaders = {
  channel: 'x-tributary-channel',
  voucher: 'x-tributary-voucher',
  maxFee: 'x-tributary-max-fee',
  maxRoyalty: 'x-tributary-max-royalty',
  /** `<nonce>:<maxFee>:<signature>`: the channel user's RequestAuthorization for this request. */
  authorization: 'x-tributary-authorization',
} as const;

/** The largest uint256: nonces and fee caps are uint256 in the signed message. */
export const MAX_UINT256 = 2n ** 256n - 1n;

const uint256 = z.bigint().nonnegative().max(MAX_UINT256);
const VOUCHER = /^(\d{1,78}):0x([0-9a-fA-F]{130})$/;
const AUTHORIZATION = /^(\d{1,78}):(\d{1,78}):0x([0-9a-fA-F]{130})$/;

/** `amount:signature` ⇄ {amount, signature}. */
export const voucherHeader = z.codec(
  z.string().regex(VOUCHER),
  z.object({ amount: z.bigint().nonnegative(), signature }),
  {
    decode: (s) => {
      const [, amount = '', sig = ''] = VOUCHER.exec(s) ?? [];
      return { amount: BigInt(amount), signature: `0x${sig}` as const };
    },
    encode: (v) => `${v.amount}:${v.signature}`,
  },
);
export type VoucherHeader = z.output<typeof voucherHeader>;

/** `nonce:maxFee:signature` ⇄ {nonce, maxFee, signature}. */
export const authorizationHeader = z.codec(
  z.string().regex(AUTHORIZATION),
  z.object({ nonce: uint256, maxFee: uint256, signature }),
  {
    decode: (s) => {
      const [, nonce = '', maxFee = '', sig = ''] = AUTHORIZATION.exec(s) ?? [];
      return { nonce: BigInt(nonce), maxFee: BigInt(maxFee), signature: `0x${sig}` as const };
    },
    encode: (v) => `${v.nonce}:${v.maxFee}:${v.signature}`,
  },
);
export type AuthorizationHeader = z.output<typeof authorizationHeader>;

/** Reads the voucher header; INVALID_ARGUMENT names the header when it is malformed. */
export function parseVoucherHeader(raw: string): VoucherHeader {
  const r = voucherHeader.safeParse(raw);
  if (!r.success)
    throw new BaseError('INVALID_ARGUMENT', `${paymentHeaders.voucher} must be "<cumulative amount>:<signature>"`, {
      details: { field: paymentHeaders.voucher },
    });
  return r.data;
}

/** Reads the authorization header; INVALID_ARGUMENT names the header when it is malformed. */
export function parseAuthorizationHeader(raw: string): AuthorizationHeader {
  const r = authorizationHeader.safeParse(raw);
  if (!r.success)
    throw new BaseError('INVALID_ARGUMENT', `${paymentHeaders.authorization} must be "<nonce>:<max fee>:<signature>"`, {
      details: { field: paymentHeaders.authorization },
    });
  return r.data;
}

/** The voucher header's value. */
export function encodeVoucherHeader(amount: bigint, signature: Hex): string {
  return z.encode(voucherHeader, { amount, signature });
}

/** The authorization header's value. */
export function encodeAuthorizationHeader(nonce: bigint, maxFee: bigint, signature: Hex): string {
  return z.encode(authorizationHeader, { nonce, maxFee, signature });
}
