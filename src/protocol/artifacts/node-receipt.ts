/**
 * The node-signed receipt of one paid request. `receiptMessage` is exactly what the node signs (EIP-712 `Receipt`
 * in the RewardDistributor's domain; its digest is the receipt's id); `nodeReceipt` is the receipt as others see
 * it, with what settlement needs to recompute the payouts — the fee split, the model owner, the DataNet treasury
 * and the attribution. Amounts are decimal strings on the wire and bigints in code.
 */
import { z } from 'zod';
import { address, bytes32, decimal, isoDate, signature, uintString } from '../primitives.js';
import { attributionResult } from './attribution-result.js';
import { decodeArtifact } from './parse.js';

/** The signed fields, in the order of the EIP-712 type. */
export const receiptMessage = z.object({
  requestHash: bytes32,
  modelId: uintString,
  adapterHash: bytes32,
  dataNetRoot: bytes32,
  inputTokens: uintString,
  outputTokens: uintString,
  fee: uintString,
  attributionHash: bytes32,
  outputHash: bytes32,
  channelId: uintString,
  chargedAfter: uintString,
});
export type ReceiptMessage = z.output<typeof receiptMessage>;

/** How one fee splits (settlement's `computeFee`): token counts, then amounts in wei. */
export const feeBreakdown = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  tokenFee: uintString,
  platform: uintString,
  fee: uintString,
  net: uintString,
  owner: uintString,
  stakers: uintString,
  contributors: uintString,
});
export type FeeBreakdown = z.output<typeof feeBreakdown>;

/** A receipt as the node serves it (`GET /v1/receipts/:id`). */
export const nodeReceipt = z.object({
  /** The EIP-712 digest of `signed`. */
  id: bytes32,
  requestId: z.string(),
  model: z.string(),
  modelOwner: address.nullable(),
  dataNet: z
    .object({
      id: decimal,
      version: z.number().int().nullable(),
      root: bytes32.nullable(),
      treasury: address.nullable(),
    })
    .nullable(),
  fee: feeBreakdown,
  attribution: attributionResult.nullable(),
  signed: receiptMessage,
  node: address,
  signature,
  epoch: z.number().int().nullable(),
  createdAt: isoDate,
});
export type NodeReceipt = z.output<typeof nodeReceipt>;

/** Reads a receipt already parsed from JSON (a node's answer); `source` names it in errors. */
export function parseNodeReceipt(value: unknown, source: string): NodeReceipt {
  return decodeArtifact(nodeReceipt, value, source);
}
