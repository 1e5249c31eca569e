/**
 * Settlement over HTTP: quotes, channels, receipts, epochs (with their public exports and a verifier), payout
 * proofs for claims, and earnings. Closing and finalizing epochs spend the node's gas: operator only. The routes'
 * shapes are declared in src/protocol/http/settlement.ts; the views below only rename fields for the wire.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Address } from 'viem';
import { attributionHash } from '../attribution/index.js';
import { BaseError } from '../core/index.js';
import { type EarningsView, type EpochView, serve, settlementApi } from '../protocol/index.js';
import type { Earnings } from './earnings.js';
import type { EpochRecord } from './epochs.js';
import { type PayableModel, refuseOverCap } from './payments.js';
import { findReceipt, receiptView, verifyReceipt } from './receipts.js';
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
  distributor: Address;
}

export const epochView = (e: EpochRecord): EpochView => ({
  epoch: e.epoch,
  status: e.status,
  receipts: e.receipts,
  feesWei: e.fees,
  payoutsWei: e.byRole,
  payoutRoot: e.payoutRoot,
  cumulativeTotal: e.cumulativeTotal,
  receiptsRoot: e.receiptsRoot,
  receiptsCid: e.receiptsCid,
  payoutsCid: e.payoutsCid,
  postTx: e.postTx,
  postGas: e.postGas === null ? null : Number(e.postGas),
});

export const earningsView = (e: Earnings): EarningsView => ({
  address: e.address,
  cumulativeWei: e.cumulative,
  claimedWei: e.claimed,
  claimableWei: e.claimable,
  pendingWei: e.pending,
  roundingWei: e.roundingWei,
  settled: e.settled.map((x) => ({ epoch: x.epoch, amountWei: x.amount, cumulativeWei: x.cumulative })),
  byModel: e.byModel,
  byContribution: e.byContribution,
  asStaker: e.asStaker.map((x) => ({ ...x, poolWei: x.pool })),
  lines: e.lines,
});

export function settlementRoutes(d: SettlementRouteDeps) {
  const { settlement } = d;
  return async (root: FastifyInstance) => {
    serve(root, settlementApi.getSettlement, async () => {
      const p = await settlement.params();
      return {
        chainId: d.chainId,
        node: settlement.node,
        escrow: settlement.channels.domain.escrow,
        distributor: d.distributor,
        params: { ...p, challengeWindow: Number(p.challengeWindow) },
      };
    });

    serve(root, settlementApi.quote, async (req) => {
      const b = req.body;
      const maxTokens = b.max_tokens ?? 64;
      const { model, promptTokens } = await d.measure({ model: b.model, prompt: b.prompt, messages: b.messages });
      const q = await settlement.quote(model, promptTokens, maxTokens);
      refuseOverCap(
        q,
        b.max_fee === undefined ? undefined : { value: b.max_fee, field: 'max_fee' },
        b.max_royalty === undefined ? undefined : { value: b.max_royalty, field: 'max_royalty' },
      );
      return {
        model: model.name,
        node: settlement.node,
        inputTokens: promptTokens,
        maxOutputTokens: maxTokens,
        prices: q.prices,
        maxFeeWei: q.fee,
        maxRoyaltyWei: q.net,
        split: { platform: q.platform, modelOwner: q.owner, stakers: q.stakers, contributors: q.contributors },
      };
    });

    serve(root, settlementApi.getChannel, async (req) => {
      const c = await settlement.channels.get(req.params.id);
      return {
        ...c,
        depositWei: c.deposit,
        expiresAt: Number(c.expiresAt),
        redeemedWei: c.redeemed,
        chargedWei: c.charged,
        reservedWei: c.reserved,
        voucherWei: c.voucherAmount,
        availableWei: c.deposit - c.charged - c.reserved,
      };
    });

    serve(root, settlementApi.sendVoucher, async (req) => {
      const raw = req.headers[paymentHeaders.voucher];
      const c = await settlement.acceptVoucher(req.params.id, parseVoucherHeader(typeof raw === 'string' ? raw : ''));
      return { id: c.id, voucherWei: c.voucherAmount, chargedWei: c.charged };
    });

    serve(root, settlementApi.getReceipt, async (req) => {
      const r = await findReceipt(settlement.db, req.params.id);
      if (!r)
        throw new BaseError('NOT_FOUND', `No receipt ${req.params.id} on this node`, {
          details: { id: req.params.id },
        });
      return {
        ...receiptView(r),
        verified: await verifyReceipt({ chainId: d.chainId, distributor: d.distributor }, r),
      };
    });

    serve(root, settlementApi.getAttribution, async (req) => {
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
    });

    serve(root, settlementApi.listEpochs, async () => ({
      items: (await settlement.epochs().list()).map(epochView),
    }));

    serve(root, settlementApi.listUnredeemable, async () => ({
      items: (await settlement.epochs().unredeemable()).map((r) => ({
        id: r.id,
        channelId: r.channelId,
        feeWei: r.fee,
        chargedAfterWei: r.chargedAfter,
      })),
    }));

    serve(root, settlementApi.getEpoch, async (req) => {
      const e = await settlement.epochs().get(req.params.epoch);
      if (!e)
        throw new BaseError('NOT_FOUND', `Epoch ${req.params.epoch} has not been closed on this node`, {
          details: { epoch: req.params.epoch },
        });
      return epochView(e);
    });

    serve(root, settlementApi.getEpochReceipts, async (req, reply) =>
      reply.type('application/json').send(await settlement.epochs().receiptsExport(req.params.epoch)),
    );

    serve(root, settlementApi.verifyEpoch, async (req) => settlement.epochs().verify(req.params.epoch));

    serve(root, settlementApi.closeEpoch, async (req) => {
      d.requireOperator(req);
      return epochView(await settlement.epochs().close());
    });

    serve(root, settlementApi.finalizeEpoch, async (req) => {
      d.requireOperator(req);
      return epochView(await settlement.epochs().finalize(req.params.epoch));
    });

    serve(root, settlementApi.getPayout, async (req) => {
      const p = await settlement.epochs().claimable(req.params.address);
      return {
        ...p,
        cumulativeWei: p.cumulative,
        claimedWei: p.claimed,
        claimableWei: p.cumulative - p.claimed,
      };
    });

    serve(root, settlementApi.getEarnings, async (req) =>
      earningsView(await settlement.earnings.of(req.params.address, { limit: req.query.limit ?? 100 })),
    );
  };
}
