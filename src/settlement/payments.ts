/**
 * Payable inference, as hooks around OpenLoRA's generation. Before: the request is priced at its maximum (input
 * tokens + max output tokens at the model's registered prices, plus the platform fee), a caller's cap is honoured,
 * the channel user's authorization of this very request (x-tributary-authorization) is checked, and the maximum
 * is reserved on the channel; a request without it is served nothing and charged nothing. After: the actual fee is
 * charged, the answer attributed, and a receipt — request, model, adapter, DataNet root, tokens, fee, attribution,
 * output — signed by the node and stored, all in one transaction.
 */
import { type Address, getAddress, type LocalAccount, zeroHash } from 'viem';
import { type AttributionResult, attributionHash, serializeAttribution } from '../attribution/index.js';
import type { Deployment } from '../chain/index.js';
import { BaseError, canonicalJson, keccak256 } from '../core/index.js';
import type { PayableRequest, PaymentCheck, PaymentOutcome, ServedAnswer, ServedModel } from '../protocol/index.js';
import type { Db } from '../store/index.js';
import type { Channels } from './channels.js';
import { computeFee, type FeeBreakdown, type Prices } from './fees.js';
import type { ParamsReader } from './params.js';
import { type ReceiptMessage, receiptId, receiptTypedData, requestHashOf } from './receipts.js';
import { parseAuthorizationHeader, parseVoucherHeader, paymentHeaders, requestBodyHash } from './vouchers.js';

/** A model as served (the protocol's `ServedModel`): payments price it by its record and attribute by its lineage. */
export type PayableModel = ServedModel;

/** What payments see of a request (the protocol's, shared with OpenLoRA). */
export type { PayableRequest };

export interface PaymentsDeps {
  db: Db;
  deployment: Deployment;
  channels: Channels;
  params: ParamsReader;
  /** The serving node's key: channels pay it, and it signs receipts. */
  node: LocalAccount;
  attribute?: AttributeAnswer;
  dataNetTreasury?: DataNetTreasury;
  now?: () => bigint;
}

/** Attributes an answer (null = no attribution available: the contributors' share stays with the DataNet). */
export type AttributeAnswer = (r: {
  model: PayableModel;
  /** The prompt the model read (with retrieval, the passages first). */
  prompt: string;
  /** Retrieval grounded the prompt in the model's DataNet: the passages it gave may be credited. */
  retrieval: boolean;
  output: string;
  requestId: string;
}) => Promise<AttributionResult | null>;

/** The treasury of a DataNet (receives the unattributed share). */
export type DataNetTreasury = (dataNetId: bigint) => Promise<Address | null>;

/** What `authorize` reserved for a paid request: the maximum fee on the channel, at these prices and parameters. */
export interface PaymentReservation {
  channelId: bigint;
  maxFee: bigint;
  prices: Prices;
  params: Awaited<ReturnType<ParamsReader>>;
}

/** A model's registered prices (the base model and unregistered models are free). */
export function pricesOf(model: PayableModel): Prices {
  return model.record
    ? { inPer1k: model.record.priceInPer1k, outPer1k: model.record.priceOutPer1k }
    : { inPer1k: 0n, outPer1k: 0n };
}

function header(h: PayableRequest['headers'], name: string): string | undefined {
  const v = h?.[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A cap from the request body, or else from its header (`x-tributary-max-fee`, `x-tributary-max-royalty`). */
function capOf(r: PayableRequest, which: 'maxFee' | 'maxRoyalty'): { value: bigint; field: string } | undefined {
  if (r[which] !== undefined) return { value: r[which], field: which === 'maxFee' ? 'max_fee' : 'max_royalty' };
  const name = paymentHeaders[which];
  const raw = header(r.headers, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,78}$/.test(raw))
    throw new BaseError('INVALID_ARGUMENT', `${name} must be an amount in wei (digits only), got "${raw}"`, {
      details: { field: name },
    });
  return { value: BigInt(raw), field: name };
}

/** Refuses, before any generation, a request whose maximum fee or royalty is above the caller's cap. */
export function refuseOverCap(
  q: FeeBreakdown,
  maxFee?: { value: bigint; field: string },
  maxRoyalty?: { value: bigint; field: string },
): void {
  if (maxFee && q.fee > maxFee.value) {
    throw new BaseError(
      'PAYMENT_REQUIRED',
      `This request may cost up to ${q.fee} wei, above your ${maxFee.field} of ${maxFee.value}: lower max_tokens or raise the cap`,
      {
        details: { field: maxFee.field, maxFee: q.fee.toString() },
      },
    );
  }
  if (maxRoyalty && q.net > maxRoyalty.value) {
    throw new BaseError(
      'PAYMENT_REQUIRED',
      `This request's royalty may reach ${q.net} wei, above your ${maxRoyalty.field} of ${maxRoyalty.value}: lower max_tokens or raise the cap`,
      {
        details: { field: maxRoyalty.field, maxRoyalty: q.net.toString() },
      },
    );
  }
}

export function createPayments(deps: PaymentsDeps) {
  const now = deps.now ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  const domain = { chainId: deps.deployment.chainId, distributor: deps.deployment.contracts.RewardDistributor };

  async function quote(
    model: PayableModel,
    inputTokens: number,
    maxOutputTokens: number,
  ): Promise<FeeBreakdown & { prices: Prices }> {
    const prices = pricesOf(model);
    return { ...computeFee(await deps.params(), prices, inputTokens, maxOutputTokens), prices };
  }

  return {
    quote,
    node: getAddress(deps.node.address),

    /** Refuses the request (PAYMENT_REQUIRED, UNAUTHORIZED) or reserves its maximum fee; null for a free model. */
    async authorize(r: Omit<PaymentCheck, 'requestId'>): Promise<PaymentReservation | null> {
      const q = await quote(r.model, r.promptTokens, r.maxTokens);
      if (q.fee === 0n) return null; // the base model and free models need no payment
      refuseOverCap(q, capOf(r.request, 'maxFee'), capOf(r.request, 'maxRoyalty'));
      const channel = header(r.request.headers, paymentHeaders.channel);
      if (!channel || !/^\d+$/.test(channel)) {
        throw new BaseError(
          'PAYMENT_REQUIRED',
          `Model "${r.model.name}" is paid: this request may cost up to ${q.fee} wei of OPEN. Open a channel to node ${getAddress(deps.node.address)} and send its id in ${paymentHeaders.channel}`,
          { details: { field: paymentHeaders.channel, maxFee: q.fee.toString(), node: getAddress(deps.node.address) } },
        );
      }
      const channelId = BigInt(channel);
      const rawAuthorization = header(r.request.headers, paymentHeaders.authorization);
      if (!rawAuthorization) {
        throw new BaseError(
          'UNAUTHORIZED',
          `Paid requests on channel ${channelId} must carry ${paymentHeaders.authorization}: "<nonce>:<max fee>:<signature>", the channel user's EIP-712 RequestAuthorization of this request body`,
          {
            details: { field: paymentHeaders.authorization, node: getAddress(deps.node.address) },
            docsPath: 'docs/settlement.md#paying-for-a-request',
          },
        );
      }
      const authorization = parseAuthorizationHeader(rawAuthorization);
      if (r.request.body === undefined)
        throw new BaseError('INTERNAL', 'A paid request reached payments without its body to check the authorization');
      const rawVoucher = header(r.request.headers, paymentHeaders.voucher);
      const voucher = rawVoucher ? parseVoucherHeader(rawVoucher) : undefined;
      await deps.channels.reserve({
        channelId,
        node: deps.node.address,
        authorization: { ...authorization, requestHash: requestBodyHash(r.request.body) },
        ...(voucher ? { voucher } : {}),
        maxFee: q.fee,
        nowSeconds: now(),
      });
      return { channelId, maxFee: q.fee, prices: q.prices, params: await deps.params() };
    },

    async abort(a: PaymentReservation | null): Promise<void> {
      if (a) await deps.channels.release(a.channelId, a.maxFee);
    },

    /** Charges the actual fee, attributes the answer and stores the signed receipt, in one transaction. */
    async settle(r: ServedAnswer & { authorization: PaymentReservation | null }): Promise<PaymentOutcome | null> {
      const a = r.authorization;
      if (!a) return null;
      const fee = computeFee(a.params, a.prices, r.promptTokens, r.completionTokens);
      let attribution: AttributionResult | null = null;
      try {
        attribution =
          (await deps.attribute?.({
            model: r.model,
            prompt: r.request.prompt,
            retrieval: r.request.grounded === true,
            output: r.output,
            requestId: r.requestId,
          })) ?? null;
      } catch {
        attribution = null; // never lose a paid request to an attribution failure: its share is unattributed
      }
      const lineage = r.model.record?.latest;
      const treasury = lineage?.dataNetId ? ((await deps.dataNetTreasury?.(lineage.dataNetId)) ?? null) : null;
      const requestHash = requestHashOf({
        requestId: r.requestId,
        model: r.model.name,
        prompt: r.request.prompt,
        maxTokens: r.request.askedMaxTokens ?? r.request.maxTokens,
        temperature: r.request.temperature ?? 0,
        topP: r.request.topP ?? 1,
        seed: r.request.seed ?? 0,
      });
      const outputHash = keccak256(r.output);
      const receipt = await deps.db.transaction(async (tx) => {
        const chargedAfter = await deps.channels.charge(tx, a.channelId, a.maxFee, fee.fee);
        const message: ReceiptMessage = {
          requestHash,
          modelId: r.model.modelId ?? 0n,
          adapterHash: r.model.adapterHash ?? zeroHash,
          dataNetRoot: lineage?.dataNetRoot ?? zeroHash,
          inputTokens: BigInt(r.promptTokens),
          outputTokens: BigInt(r.completionTokens),
          fee: fee.fee,
          attributionHash: attribution ? attributionHash(attribution) : zeroHash,
          outputHash,
          channelId: a.channelId,
          chargedAfter,
        };
        const id = receiptId(domain, message);
        const signature = await deps.node.signTypedData(receiptTypedData(domain, message));
        await tx.query(
          `INSERT INTO receipts (id, request_id, request_hash, model_id, model_name, model_owner, adapter_hash, datanet_id, datanet_version, datanet_root, datanet_treasury,
             input_tokens, output_tokens, fee, fee_breakdown, attribution, attribution_hash, output_hash, channel_id, charged_after, node, signature)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16::jsonb, $17, $18, $19, $20, $21, $22)`,
          [
            id,
            r.requestId,
            requestHash,
            r.model.modelId?.toString() ?? null,
            r.model.name,
            r.model.record?.owner ?? null,
            r.model.adapterHash,
            lineage?.dataNetId?.toString() ?? null,
            lineage?.dataNetVersion ?? null,
            lineage?.dataNetRoot ?? null,
            treasury,
            r.promptTokens,
            r.completionTokens,
            fee.fee.toString(),
            canonicalJson(fee),
            attribution ? serializeAttribution(attribution) : null,
            message.attributionHash,
            outputHash,
            a.channelId.toString(),
            chargedAfter.toString(),
            getAddress(deps.node.address),
            signature,
          ],
        );
        return { id, signature, chargedAfter };
      });
      return {
        payment: {
          channelId: a.channelId,
          fee: fee.fee,
          charged: receipt.chargedAfter,
          voucherFor: receipt.chargedAfter,
        },
        receipt: { id: receipt.id, signature: receipt.signature, node: getAddress(deps.node.address) },
        ...(attribution ? { attribution } : {}),
      };
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
