/**
 * Settlement routes: where and how much to pay, channels and vouchers, signed receipts and their attributions,
 * epochs with their public exports and a verifier, payout proofs for claims, and earnings. Amounts travel as
 * decimal strings of wei (fields ending in `Wei`) and are bigints on both sides.
 */
import { z } from 'zod';
import { attributionResult } from '../artifacts/attribution-result.js';
import { epochReceiptsExport } from '../artifacts/epoch-export.js';
import { nodeReceipt } from '../artifacts/node-receipt.js';
import { address, bytes32, cid, decimal, hex, uintString, wei } from '../primitives.js';
import { route } from '../route.js';

const tags = ['settlement'] as const;
const epochParams = z.object({ epoch: z.coerce.number().int().min(1, 'expected an epoch number from 1') });
const channelParams = z.object({ id: uintString.describe('channel id') });

export const settlementInfo = z.object({
  chainId: z.number(),
  node: address.nullable().describe('null when this node has no key to sign receipts'),
  escrow: address,
  distributor: address,
  params: z.object({
    platformFeeBps: z.number(),
    platformFeeFlat: uintString,
    ownerShareBps: z.number(),
    stakerShareBps: z.number(),
    contributorShareBps: z.number(),
    platformTreasury: address,
    challengeWindow: z.number().describe('seconds'),
    unattributedAccount: address.describe("receives the contributors' share no live contribution is attributed"),
  }),
});
export type SettlementInfo = z.output<typeof settlementInfo>;

export const getSettlement = route({
  method: 'GET',
  path: '/v1/settlement',
  tags,
  summary: 'Where to pay: the node, the escrow, the chain and the fee parameters',
  response: settlementInfo,
});

export const quoteRequest = z
  .object({
    model: z.string().min(1),
    prompt: z.string().optional(),
    messages: z
      .array(z.object({ role: z.string(), content: z.string() }))
      .min(1)
      .optional(),
    max_tokens: z.number().int().min(1).max(4096).optional().describe('default 64'),
    max_fee: wei.optional(),
    max_royalty: wei.optional(),
  })
  .refine((b) => (b.prompt === undefined) !== (b.messages === undefined), {
    message: 'give exactly one of prompt or messages',
    path: ['prompt'],
  });
export type QuoteRequest = z.output<typeof quoteRequest>;

export const quoteBody = z.object({
  model: z.string(),
  node: address.nullable(),
  inputTokens: z.number(),
  maxOutputTokens: z.number(),
  prices: z.object({ inPer1k: uintString, outPer1k: uintString }),
  maxFeeWei: uintString,
  maxRoyaltyWei: uintString,
  split: z.object({ platform: uintString, modelOwner: uintString, stakers: uintString, contributors: uintString }),
});
export type Quote = z.output<typeof quoteBody>;

export const quote = route({
  method: 'POST',
  path: '/v1/quote',
  tags,
  summary: 'The most a request can cost, and how the fee splits, before anything is spent',
  body: quoteRequest,
  response: quoteBody,
});

export const channelBody = z.object({
  id: uintString,
  user: address,
  node: address,
  depositWei: uintString,
  expiresAt: z.number().describe('unix seconds'),
  closed: z.boolean(),
  redeemedWei: uintString,
  chargedWei: uintString,
  reservedWei: uintString,
  voucherWei: uintString,
  voucherSignature: hex.nullable(),
  availableWei: uintString,
  authNonce: uintString.describe("the next paid request's x-tributary-authorization must carry a nonce above this"),
});
export type ChannelView = z.output<typeof channelBody>;

export const getChannel = route({
  method: 'GET',
  path: '/v1/channels/:id',
  tags,
  summary: 'A payment channel as this node sees it',
  params: channelParams,
  response: channelBody,
});

export const sendVoucher = route({
  method: 'POST',
  path: '/v1/channels/:id/voucher',
  tags,
  summary: 'Send a voucher on its own (header x-tributary-voucher: "<cumulative amount>:<signature>")',
  params: channelParams,
  response: z.object({ id: uintString, voucherWei: uintString, chargedWei: uintString }),
});

export const receiptBody = nodeReceipt.extend({
  verified: z.boolean().describe("the id is the EIP-712 digest of `signed` and the signature is the node's"),
});
export type ReceiptView = z.output<typeof receiptBody>;

export const getReceipt = route({
  method: 'GET',
  path: '/v1/receipts/:id',
  tags,
  summary: 'A signed receipt, by receipt id or request id',
  params: z.object({ id: z.string().min(1) }),
  response: receiptBody,
});

export const attributionBody = z.object({
  requestId: z.string(),
  receiptId: bytes32,
  attributionHash: bytes32,
  matchesReceipt: z.boolean(),
  attribution: attributionResult,
});
export type AttributionView = z.output<typeof attributionBody>;

export const getAttribution = route({
  method: 'GET',
  path: '/v1/attributions/:requestId',
  tags,
  summary: "A served request's attribution, as stored with its signed receipt",
  params: z.object({ requestId: z.string().min(1) }),
  response: attributionBody,
});

export const getEpochReceipts = route({
  method: 'GET',
  path: '/v1/epochs/:epoch/receipts',
  tags,
  summary: "The epoch's public receipts export (what its receipts CID names), byte for byte as stored",
  params: epochParams,
  contentType: 'application/json',
  response: epochReceiptsExport,
});

export const epochBody = z.object({
  epoch: z.number(),
  status: z.enum(['computed', 'redeemed', 'posted', 'final', 'void']),
  receipts: z.number(),
  feesWei: uintString,
  payoutsWei: z.record(z.string(), decimal),
  payoutRoot: bytes32,
  cumulativeTotal: uintString,
  receiptsRoot: bytes32,
  receiptsCid: cid,
  payoutsCid: cid,
  postTx: bytes32.nullable(),
  postGas: z.number().nullable(),
});
export type EpochView = z.output<typeof epochBody>;

export const listEpochs = route({
  method: 'GET',
  path: '/v1/epochs',
  tags,
  summary: 'Epochs closed by this node',
  response: z.object({ items: z.array(epochBody) }),
});

export const listUnredeemable = route({
  method: 'GET',
  path: '/v1/epochs/unredeemable',
  tags,
  summary: 'Receipts left out of settlement: their channel was closed before the node redeemed its voucher',
  response: z.object({
    items: z.array(z.object({ id: bytes32, channelId: uintString, feeWei: uintString, chargedAfterWei: uintString })),
  }),
});

export const getEpoch = route({
  method: 'GET',
  path: '/v1/epochs/:epoch',
  tags,
  summary: 'One epoch',
  params: epochParams,
  response: epochBody,
});

export const epochVerification = z.object({
  epoch: z.number(),
  ok: z.boolean(),
  payoutRoot: bytes32,
  receiptsRoot: bytes32,
  cumulativeTotal: uintString,
  fees: uintString,
  problems: z.array(z.string()),
  posted: z.object({ payoutRoot: bytes32, receiptsRoot: bytes32, cumulativeTotal: uintString, receiptsCid: cid }),
});
export type EpochVerificationView = z.output<typeof epochVerification>;

export const verifyEpoch = route({
  method: 'GET',
  path: '/v1/epochs/:epoch/verify',
  tags,
  summary: 'Recompute the posted epoch from its export and compare',
  params: epochParams,
  response: epochVerification,
});

export const closeEpoch = route({
  method: 'POST',
  path: '/v1/epochs/close',
  tags,
  operator: true,
  summary: 'Close the next epoch (or resume closing it) and post it (operator)',
  response: epochBody,
});

export const finalizeEpoch = route({
  method: 'POST',
  path: '/v1/epochs/:epoch/finalize',
  tags,
  operator: true,
  summary: 'Finalize a posted epoch after its challenge window (operator)',
  params: epochParams,
  response: epochBody,
});

export const payoutBody = z.object({
  node: address,
  epoch: z.number(),
  account: address,
  cumulativeWei: uintString,
  claimedWei: uintString,
  claimableWei: uintString,
  proof: z.array(bytes32),
});
export type PayoutView = z.output<typeof payoutBody>;

export const getPayout = route({
  method: 'GET',
  path: '/v1/payouts/:address',
  tags,
  summary: 'What an address can claim under the finalized root, with its proof',
  params: z.object({ address }),
  response: payoutBody,
});

export const earningsBody = z.object({
  address,
  cumulativeWei: uintString,
  claimedWei: uintString,
  claimableWei: uintString,
  pendingWei: uintString,
  roundingWei: uintString,
  settled: z.array(z.object({ epoch: z.number(), amountWei: uintString, cumulativeWei: uintString })),
  byModel: z.array(z.object({ model: z.string(), receipts: z.number(), wei: uintString })),
  byContribution: z.array(
    z.object({ contributionId: bytes32, dataNetId: z.string().nullable(), receipts: z.number(), wei: uintString }),
  ),
  asStaker: z.array(
    z.object({
      epoch: z.number(),
      stake: uintString,
      totalStake: uintString,
      poolWei: uintString,
      wei: uintString,
    }),
  ),
  lines: z.array(
    z.object({
      receiptId: bytes32,
      requestId: z.string(),
      model: z.string(),
      epoch: z.number().nullable(),
      dataNetId: z.string().nullable(),
      role: z.enum(['modelOwner', 'contributor']),
      contributionId: bytes32.optional(),
      ppm: z.number().optional(),
      wei: uintString,
    }),
  ),
});
export type EarningsView = z.output<typeof earningsBody>;

export const getEarnings = route({
  method: 'GET',
  path: '/v1/earnings/:address',
  tags,
  summary: 'What an address earned and why',
  params: z.object({ address }),
  query: z.object({ limit: z.coerce.number().int().min(1).max(10_000).optional().describe('default 100') }),
  response: earningsBody,
});
