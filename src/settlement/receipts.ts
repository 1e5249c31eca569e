/**
 * Receipts as others see them: the node-signed EIP-712 message (anyone can check the signature against the node's
 * address, the chain and the distributor), with what settlement needs to recompute the payouts — the fee split,
 * the model owner, the DataNet treasury and the attribution.
 */
import { type Address, getAddress, type Hex, hashTypedData, recoverTypedDataAddress } from 'viem';
import { z } from 'zod';
import type { AttributionResult } from '../attribution/index.js';
import { canonicalJson, keccak256, receiptDomain, receiptTypes } from '../core/index.js';
import { decodeArtifact, feeBreakdown, type NodeReceipt, nodeReceipt, type ReceiptMessage } from '../protocol/index.js';
import type { Queryable } from '../store/index.js';
import type { FeeBreakdown } from './fees.js';

export type { ReceiptMessage } from '../protocol/index.js';

/** What a receipt's `requestHash` commits to: the request id, the served model, the prompt it read and the sampling. */
export interface HashedRequest {
  requestId: string;
  model: string;
  /** The prompt the model read (with retrieval, the passages first). */
  prompt: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  seed: number;
}

/** The `requestHash` a node signs: keccak-256 of the request's canonical JSON (anyone holding the request recomputes it). */
export function requestHashOf(r: HashedRequest): Hex {
  const { requestId, model, prompt, maxTokens, temperature, topP, seed } = r;
  return keccak256(canonicalJson({ requestId, model, prompt, maxTokens, temperature, topP, seed }));
}

export interface StoredReceipt {
  id: Hex;
  seq: bigint;
  requestId: string;
  model: string;
  modelOwner: Address | null;
  dataNet: { id: string; version: number | null; root: Hex | null; treasury: Address | null } | null;
  feeBreakdown: FeeBreakdown;
  attribution: AttributionResult | null;
  message: ReceiptMessage;
  node: Address;
  signature: Hex;
  epoch: number | null;
  createdAt: Date;
}

export type ReceiptRow = {
  id: Hex;
  seq: bigint;
  request_id: string;
  request_hash: Hex;
  model_id: bigint | null;
  model_name: string;
  model_owner: Address | null;
  adapter_hash: Hex | null;
  datanet_id: bigint | null;
  datanet_version: number | null;
  datanet_root: Hex | null;
  datanet_treasury: Address | null;
  input_tokens: number;
  output_tokens: number;
  fee: string;
  fee_breakdown: Record<string, string | number>;
  attribution: AttributionResult | null;
  attribution_hash: Hex;
  output_hash: Hex;
  channel_id: bigint;
  charged_after: string;
  node: Address;
  signature: Hex;
  epoch: number | null;
  created_at: Date;
};

const ZERO = `0x${'00'.repeat(32)}` as const;

/** The fee split as stored with a receipt (canonical JSON: amounts as decimal strings). */
export function feeBreakdownOf(b: Record<string, string | number>): FeeBreakdown {
  return decodeArtifact(feeBreakdown, b, 'the fee breakdown of a receipt');
}

export function receiptOf(r: ReceiptRow): StoredReceipt {
  return {
    id: r.id,
    seq: r.seq,
    requestId: r.request_id,
    model: r.model_name,
    modelOwner: r.model_owner,
    dataNet:
      r.datanet_id === null
        ? null
        : {
            id: r.datanet_id.toString(),
            version: r.datanet_version,
            root: r.datanet_root,
            treasury: r.datanet_treasury,
          },
    feeBreakdown: feeBreakdownOf(r.fee_breakdown),
    attribution: r.attribution,
    message: {
      requestHash: r.request_hash,
      modelId: r.model_id ?? 0n,
      adapterHash: r.adapter_hash ?? ZERO,
      dataNetRoot: r.datanet_root ?? ZERO,
      inputTokens: BigInt(r.input_tokens),
      outputTokens: BigInt(r.output_tokens),
      fee: BigInt(r.fee),
      attributionHash: r.attribution_hash,
      outputHash: r.output_hash,
      channelId: r.channel_id,
      chargedAfter: BigInt(r.charged_after),
    },
    node: r.node,
    signature: r.signature,
    epoch: r.epoch,
    createdAt: r.created_at,
  };
}

export interface ReceiptDomain {
  chainId: number;
  distributor: Address;
}

const typed = (d: ReceiptDomain, message: ReceiptMessage) =>
  ({
    domain: { ...receiptDomain, chainId: d.chainId, verifyingContract: d.distributor },
    types: receiptTypes,
    primaryType: 'Receipt',
    message,
  }) as const;

/** The receipt's id: its EIP-712 digest, so the id itself commits to everything signed. */
export function receiptId(d: ReceiptDomain, message: ReceiptMessage): Hex {
  return hashTypedData(typed(d, message));
}

export function receiptTypedData(d: ReceiptDomain, message: ReceiptMessage) {
  return typed(d, message);
}

/** Whether the receipt's id and signature are the node's, for this chain and distributor. */
export async function verifyReceipt(
  d: ReceiptDomain,
  r: Pick<StoredReceipt, 'id' | 'message' | 'node' | 'signature'>,
): Promise<boolean> {
  if (receiptId(d, r.message) !== r.id) return false;
  try {
    const signer = await recoverTypedDataAddress({ ...typed(d, r.message), signature: r.signature });
    return getAddress(signer) === getAddress(r.node);
  } catch {
    return false;
  }
}

export async function findReceipt(db: Queryable, id: string): Promise<StoredReceipt | undefined> {
  const { rows } = await db.query<ReceiptRow>('SELECT * FROM receipts WHERE id = $1 OR request_id = $1', [id]);
  return rows[0] ? receiptOf(rows[0]) : undefined;
}

/** The receipt as others see it (the protocol's `nodeReceipt`), in its decoded form. */
export function receiptView(r: StoredReceipt): NodeReceipt {
  return {
    id: r.id,
    requestId: r.requestId,
    model: r.model,
    modelOwner: r.modelOwner,
    dataNet: r.dataNet,
    fee: r.feeBreakdown,
    attribution: r.attribution,
    signed: r.message,
    node: r.node,
    signature: r.signature,
    epoch: r.epoch,
    createdAt: r.createdAt,
  };
}

/** The receipt as JSON: bigints as decimal strings, dates as ISO. */
export function receiptJson(r: StoredReceipt) {
  return z.encode(nodeReceipt, receiptView(r));
}
