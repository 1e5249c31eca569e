/**
 * Settlement over HTTP: quotes, channels, receipts, epochs (with their public exports and a verifier), payout
 * proofs for claims, and earnings. Closing and finalizing epochs spend the node's gas: operator only.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { getAddress, isAddress } from 'viem';
import { z } from 'zod';
import { attributionHash } from '../attribution/index.js';
import { BaseError } from '../core/index.js';
import type { Earnings } from './earnings.js';
import type { EpochRecord } from './epochs.js';
import { type PayableModel, refuseOverCap } from './payments.js';
import { findReceipt, receiptJson, verifyReceipt } from './receipts.js';
import type { Settlement } from './service.js';
import { parseVoucherHeader, paymentHeaders } from './vouchers.js';

export interface SettlementRouteDeps {
  settlement: Settlement;
  /** Turns a quote request into the model and its prompt's token count (serving knows both). */
  measure(body: {
    model: string;
    prompt?: string | undefined;
    messages?: { role: string; content: string }[] | undefined;
  }): Promise<{ model: PayableModel; promptTokens: number }>;
  /** Throws UNAUTHORIZED unless the request carries the node operator's token. */
  requireOperator(req: FastifyRequest): void;
  chainId: number;
  distributor: `0x${string}`;
}

const wei = z
  .union([z.string().regex(/^\d{1,78}$/, 'expected an amount in wei (digits only)'), z.number().int().nonnegative()])
  .transform((v) => BigInt(v));
const address = z
  .string()
  .refine((v) => isAddress(v, { strict: false }), 'expected a 0x-prefixed 20-byte address')
  .transform((v) => getAddress(v));
const epochParam = z.object({ epoch: z.coerce.number().int().min(1, 'expected an epoch number from 1') });

const s = (v: bigint) => v.toString();

export const epochView = (e: EpochRecord) => ({
  epoch: e.epoch,
  status: e.status,
  receipts: e.receipts,
  feesWei: s(e.fees),
  payoutsWei: e.byRole,
  payoutRoot: e.payoutRoot,
  cumulativeTotal: s(e.cumulativeTotal),
  receiptsRoot: e.receiptsRoot,
  receiptsCid: e.receiptsCid,
  payoutsCid: e.payoutsCid,
  postTx: e.postTx,
  postGas: e.postGas === null ? null : Number(e.postGas),
});

export const earningsView = (e: Earnings) => ({
  address: e.address,
  cumulativeWei: s(e.cumulative),
  claimedWei: s(e.claimed),
  claimableWei: s(e.claimable),
  pendingWei: s(e.pending),
  roundingWei: s(e.roundingWei),
  settled: e.settled.map((x) => ({ epoch: x.epoch, amountWei: s(x.amount), cumulativeWei: s(x.cumulative) })),
  byModel: e.byModel.map((x) => ({ model: x.model, receipts: x.receipts, wei: s(x.wei) })),
  byContribution: e.byContribution.map((x) => ({
    contributionId: x.contributionId,
    dataNetId: x.dataNetId,
    receipts: x.receipts,
    wei: s(x.wei),
  })),
  byDataNet: e.byDataNet.map((x) => ({ dataNetId: x.dataNetId, receipts: x.receipts, wei: s(x.wei) })),
  asStaker: e.asStaker.map((x) => ({
    epoch: x.epoch,
    stake: s(x.stake),
    totalStake: s(x.totalStake),
    poolWei: s(x.pool),
    wei: s(x.wei),
  })),
  lines: e.lines.map((l) => ({ ...l, wei: s(l.wei) })),
});

export function settlementRoutes(d: SettlementRouteDeps) {
  const { settlement } = d;
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['settlement'];

    app.get(
      '/v1/settlement',
      { schema: { tags, summary: 'Where to pay: the node, the escrow, the chain and the fee parameters' } },
      async () => {
        const p = await settlement.params();
        return {
          chainId: d.chainId,
          node: settlement.node,
          escrow: settlement.channels.domain.escrow,
          distributor: d.distributor,
          params: { ...p, platformFeeFlat: s(p.platformFeeFlat), challengeWindow: Number(p.challengeWindow) },
        };
      },
    );

    app.post(
      '/v1/quote',
      {
        schema: {
          tags,
          summary: 'The most a request can cost, and how the fee splits, before anything is spent',
          body: z
            .object({
              model: z.string().min(1),
              prompt: z.string().optional(),
              messages: z
                .array(z.object({ role: z.string(), content: z.string() }))
                .min(1)
                .optional(),
              max_tokens: z.number().int().min(1).max(4096).default(64),
              max_fee: wei.optional(),
              max_royalty: wei.optional(),
            })
            .refine((b) => (b.prompt === undefined) !== (b.messages === undefined), {
              message: 'give exactly one of prompt or messages',
              path: ['prompt'],
            }),
        },
      },
      async (req) => {
        const b = req.body;
        const { model, promptTokens } = await d.measure({ model: b.model, prompt: b.prompt, messages: b.messages });
        const q = await settlement.quote(model, promptTokens, b.max_tokens);
        refuseOverCap(
          q,
          b.max_fee === undefined ? undefined : { value: b.max_fee, field: 'max_fee' },
          b.max_royalty === undefined ? undefined : { value: b.max_royalty, field: 'max_royalty' },
        );
        return {
          model: model.name,
          node: settlement.node,
          inputTokens: promptTokens,
          maxOutputTokens: b.max_tokens,
          prices: { inPer1k: s(q.prices.inPer1k), outPer1k: s(q.prices.outPer1k) },
          maxFeeWei: s(q.fee),
          maxRoyaltyWei: s(q.net),
          split: {
            platform: s(q.platform),
            modelOwner: s(q.owner),
            stakers: s(q.stakers),
            contributors: s(q.contributors),
          },
        };
      },
    );

    app.get(
      '/v1/channels/:id',
      {
        schema: {
          tags,
          summary: 'A payment channel as this node sees it',
          params: z.object({ id: z.string().regex(/^\d+$/, 'expected a channel id') }),
        },
      },
      async (req) => {
        const c = await settlement.channels.get(BigInt(req.params.id));
        return {
          id: s(c.id),
          user: c.user,
          node: c.node,
          depositWei: s(c.deposit),
          expiresAt: Number(c.expiresAt),
          closed: c.closed,
          redeemedWei: s(c.redeemed),
          chargedWei: s(c.charged),
          reservedWei: s(c.reserved),
          voucherWei: s(c.voucherAmount),
          voucherSignature: c.voucherSignature,
          availableWei: s(c.deposit - c.charged - c.reserved),
          // The next paid request's x-tributary-authorization must carry a nonce above this one.
          authNonce: s(c.authNonce),
        };
      },
    );

    app.post(
      '/v1/channels/:id/voucher',
      {
        schema: {
          tags,
          summary: 'Send a voucher on its own (header x-tributary-voucher: "<cumulative amount>:<signature>")',
          params: z.object({ id: z.string().regex(/^\d+$/, 'expected a channel id') }),
        },
      },
      async (req) => {
        const raw = req.headers[paymentHeaders.voucher];
        const c = await settlement.acceptVoucher(
          BigInt(req.params.id),
          parseVoucherHeader(typeof raw === 'string' ? raw : ''),
        );
        return { id: s(c.id), voucherWei: s(c.voucherAmount), chargedWei: s(c.charged) };
      },
    );

    app.get(
      '/v1/receipts/:id',
      {
        schema: {
          tags,
          summary: 'A signed receipt, by receipt id or request id',
          params: z.object({ id: z.string().min(1) }),
        },
      },
      async (req) => {
        const r = await findReceipt(settlement.db, req.params.id);
        if (!r)
          throw new BaseError('NOT_FOUND', `No receipt ${req.params.id} on this node`, {
            details: { id: req.params.id },
          });
        return {
          ...receiptJson(r),
          verified: await verifyReceipt({ chainId: d.chainId, distributor: d.distributor }, r),
        };
      },
    );

    app.get(
      '/v1/attributions/:requestId',
      {
        schema: {
          tags,
          summary: "A served request's attribution, as stored with its signed receipt",
          params: z.object({ requestId: z.string().min(1) }),
        },
      },
      async (req) => {
        const r = await findReceipt(settlement.db, req.params.requestId);
        if (!r)
          throw new BaseError('NOT_FOUND', `No paid request ${req.params.requestId} on this node`, {
            details: { requestId: req.params.requestId },
          });
        if (!r.attribution)
          throw new BaseError(
            'NOT_FOUND',
            `Request ${req.params.requestId} has no attribution: its model has no DataNet lineage, or attribution failed (the contributors' share went to the DataNet)`,
            { details: { requestId: req.params.requestId, receiptId: r.id } },
          );
        return {
          requestId: r.requestId,
          receiptId: r.id,
          attributionHash: r.message.attributionHash,
          matchesReceipt: attributionHash(r.attribution) === r.message.attributionHash,
          attribution: r.attribution,
        };
      },
    );

    app.get('/v1/epochs', { schema: { tags, summary: 'Epochs closed by this node' } }, async () => ({
      items: (await settlement.epochs().list()).map(epochView),
    }));

    app.get(
      '/v1/epochs/unredeemable',
      {
        schema: {
          tags,
          summary: 'Receipts left out of settlement: their channel was closed before the node redeemed its voucher',
        },
      },
      async () => ({
        items: (await settlement.epochs().unredeemable()).map((r) => ({
          id: r.id,
          channelId: s(r.channelId),
          feeWei: s(r.fee),
          chargedAfterWei: s(r.chargedAfter),
        })),
      }),
    );

    app.get('/v1/epochs/:epoch', { schema: { tags, summary: 'One epoch', params: epochParam } }, async (req) => {
      const e = await settlement.epochs().get(req.params.epoch);
      if (!e)
        throw new BaseError('NOT_FOUND', `Epoch ${req.params.epoch} has not been closed on this node`, {
          details: { epoch: req.params.epoch },
        });
      return epochView(e);
    });

    app.get(
      '/v1/epochs/:epoch/receipts',
      {
        schema: {
          tags,
          summary: "The epoch's public receipts export (what its receipts CID names)",
          params: epochParam,
        },
      },
      async (req, reply) => {
        reply.type('application/json');
        return settlement.epochs().receiptsExport(req.params.epoch);
      },
    );

    app.get(
      '/v1/epochs/:epoch/verify',
      { schema: { tags, summary: 'Recompute the posted epoch from its export and compare', params: epochParam } },
      async (req) => {
        const v = await settlement.epochs().verify(req.params.epoch);
        return {
          ...v,
          cumulativeTotal: s(v.cumulativeTotal),
          fees: s(v.fees),
          posted: { ...v.posted, cumulativeTotal: s(v.posted.cumulativeTotal) },
        };
      },
    );

    app.post(
      '/v1/epochs/close',
      { schema: { tags, summary: 'Close the next epoch (or resume closing it) and post it (operator)' } },
      async (req) => {
        d.requireOperator(req);
        return epochView(await settlement.epochs().close());
      },
    );

    app.post(
      '/v1/epochs/:epoch/finalize',
      {
        schema: { tags, summary: 'Finalize a posted epoch after its challenge window (operator)', params: epochParam },
      },
      async (req) => {
        d.requireOperator(req);
        return epochView(await settlement.epochs().finalize(req.params.epoch));
      },
    );

    app.get(
      '/v1/payouts/:address',
      {
        schema: {
          tags,
          summary: 'What an address can claim under the finalized root, with its proof',
          params: z.object({ address }),
        },
      },
      async (req) => {
        const p = await settlement.epochs().claimable(req.params.address);
        return {
          ...p,
          cumulativeWei: s(p.cumulative),
          claimedWei: s(p.claimed),
          claimableWei: s(p.cumulative - p.claimed),
          cumulative: undefined,
          claimed: undefined,
        };
      },
    );

    app.get(
      '/v1/earnings/:address',
      {
        schema: {
          tags,
          summary: 'What an address earned and why',
          params: z.object({ address }),
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(10_000).default(100) }),
        },
      },
      async (req) => earningsView(await settlement.earnings.of(req.params.address, { limit: req.query.limit })),
    );
  };
}
