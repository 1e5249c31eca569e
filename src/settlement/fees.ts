/**
 * The fee of one inference, in OPEN wei, as OpenLedger publishes it:
 *   Fee = T_in/1000·R_in + T_out/1000·R_out + F_platform,   F_platform = flat + bps × token fee,
 *   F_net = Fee − F_platform, split β (model owner), γ (stakers), δ (contributors).
 * Token fees round up (a request never costs less than its tokens); the split rounds down and gives the remainder
 * to the contributors' pool, so the parts always add up to the fee exactly.
 */
import { BaseError } from '../core/index.js';
import type { FeeBreakdown } from '../protocol/index.js';

export interface FeeParams {
  platformFeeBps: number;
  platformFeeFlat: bigint;
  ownerShareBps: number;
  stakerShareBps: number;
  contributorShareBps: number;
}

export interface Prices {
  /** OPEN wei per 1,000 input tokens (R_in). */
  inPer1k: bigint;
  /** OPEN wei per 1,000 output tokens (R_out). */
  outPer1k: bigint;
}

/** How one fee splits: the protocol's `feeBreakdown` (what a node receipt carries), token counts then amounts. */
export type { FeeBreakdown };

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

export function computeFee(params: FeeParams, prices: Prices, inputTokens: number, outputTokens: number): FeeBreakdown {
  for (const [field, n] of [
    ['inputTokens', inputTokens],
    ['outputTokens', outputTokens],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new BaseError('INVALID_ARGUMENT', `${field} must be a non-negative integer, got ${n}`, {
        details: { field },
      });
  }
  if (params.ownerShareBps + params.stakerShareBps + params.contributorShareBps !== 10_000) {
    throw new BaseError('INVALID_ARGUMENT', 'The fee split must sum to 10000 basis points', {
      details: { field: 'split' },
    });
  }
  const tokenFee =
    ceilDiv(BigInt(inputTokens) * prices.inPer1k, 1000n) + ceilDiv(BigInt(outputTokens) * prices.outPer1k, 1000n);
  return { inputTokens, outputTokens, ...splitOfTokenFee(params, tokenFee) };
}

/**
 * How a token fee splits under `params`: the platform fee on top, then β and γ of the net rounded down, and the
 * contributors the remainder. What the fee of a receipt must be, given its token fee (an auditor's check).
 */
export function splitOfTokenFee(
  params: FeeParams,
  tokenFee: bigint,
): Omit<FeeBreakdown, 'inputTokens' | 'outputTokens'> {
  const platform = params.platformFeeFlat + (tokenFee * BigInt(params.platformFeeBps)) / 10_000n;
  const net = tokenFee;
  const owner = (net * BigInt(params.ownerShareBps)) / 10_000n;
  const stakers = (net * BigInt(params.stakerShareBps)) / 10_000n;
  return { tokenFee, platform, fee: tokenFee + platform, net, owner, stakers, contributors: net - owner - stakers };
}
