/**
 * Step 2 of closing an epoch (epochs.ts): the receipts that redeemed vouchers paid for → payouts → the receipts
 * export, the payouts export, their roots, and one transaction. The computation is deterministic, because
 * auditors recompute it from the export: its stages below take plain values and return plain values, and
 * computeEpoch only reads their inputs (database, chain) and writes their outputs (blob store, database).
 *
 *   lastPaidReceipt   CONFLICT when there is nothing to settle
 *   attributedIds     the contributions the receipts' attributions name (to ask when they were withdrawn)
 *   payoutInputs      each receipt as the export carries it: signed fields, attribution, fee split, earning
 *                     contributions and the withdrawn ones
 *   withdrawalsOfExport  the signed withdrawals those receipts stop paying, once each
 *   receiptsExportOf  the epoch's public receipts export
 *   settleExport      the payouts, the payout and receipts roots, the amounts by role
 *   payoutsExportOf   the epoch's payouts export (cumulative amounts, carried into the next epoch)
 *   epochStatements   the epoch's rows: the epoch, its payouts, its receipts marked
 */
import { type Address, getAddress, type Hex, type LocalAccount } from 'viem';
import { type ChainClients, type Deployment, merkleTree, StakingArtifact, stakingRoles } from '../chain/index.js';
import { BaseError, canonicalJson, failpoint, type Logger } from '../core/index.js';
import { bytes32, EPOCH_EXPORT_VERSION } from '../protocol/index.js';
import type { BlobStore, Db } from '../store/index.js';
import type { Channels } from './channels.js';
import {
  type EpochReceiptsExport,
  type ExportedReceipt,
  type ExportedWithdrawal,
  payoutsOfExport,
} from './epoch-export.js';
import type { ParamsReader } from './params.js';
import type { EpochPayouts } from './payouts.js';
import { type ReceiptRow, receiptOf } from './receipts.js';
import { earningContributions, exportedWithdrawal, type SignedWithdrawal, signedWithdrawals } from './withdrawals.js';

/**
 * A contribution id named by a stored receipt's attribution: a DataNet version's Merkle leaf, 32 bytes (what the
 * epoch export and the earnings answer carry); INTERNAL if the receipt holds anything else.
 */
export function attributedContributionId(id: string): Hex {
  const parsed = bytes32.safeParse(id);
  if (!parsed.success) {
    throw new BaseError('INTERNAL', `A receipt's attribution names contribution "${id}", which is not a 32-byte id`, {
      details: { contributionId: id },
    });
  }
  return parsed.data;
}

/** The protocol parameters an epoch is computed under (as ProtocolConfig has them). */
export type EpochParams = Awaited<ReturnType<ParamsReader>>;

/** A parameterized statement. */
export interface Statement {
  text: string;
  values: unknown[];
}

/** The last of the receipts to settle (its seq ends the epoch); CONFLICT if there are none. */
export function lastPaidReceipt(rows: readonly ReceiptRow[], epoch: number): ReceiptRow {
  const last = rows.at(-1);
  if (!last) throw new BaseError('CONFLICT', 'There are no paid receipts to settle yet', { details: { epoch } });
  return last;
}

/** Every contribution id the receipts' attributions name, in order (repeats included). */
export function attributedIds(rows: readonly ReceiptRow[]): string[] {
  return rows.flatMap((r) => (r.attribution?.contributions ?? []).map((c) => c.id));
}

/**
 * The receipts as the epoch export carries them: the node-signed message and signature, when it was served, the
 * attribution as stored, the fee split, the model owner (the platform treasury without one), and the contributions
 * that earn. A contribution its contributor withdrew (signed) before the request stops earning: it is listed as
 * withdrawn and its share is unattributed.
 */
export function payoutInputs(
  rows: readonly ReceiptRow[],
  withdrawn: ReadonlyMap<string, SignedWithdrawal>,
  platformTreasury: Address,
): ExportedReceipt[] {
  return rows.map((r) => {
    const all = r.attribution?.contributions ?? [];
    const live = earningContributions(all, withdrawn, r.created_at);
    const receipt = receiptOf(r);
    return {
      id: r.id,
      signed: receipt.message,
      node: r.node,
      signature: r.signature,
      servedAt: BigInt(r.created_at.getTime()),
      modelOwner: r.model_owner ?? platformTreasury,
      fee: receipt.feeBreakdown,
      attribution: r.attribution,
      contributions: live.map((c) => ({
        id: attributedContributionId(c.id),
        contributor: getAddress(c.contributor),
        ppm: c.ppm,
      })),
      withdrawn: all.filter((c) => !live.includes(c)).map((c) => attributedContributionId(c.id)),
    };
  });
}

/** The signed withdrawals the receipts list as withdrawn, once each, by contribution id. */
export function withdrawalsOfExport(
  receipts: readonly ExportedReceipt[],
  withdrawn: ReadonlyMap<string, SignedWithdrawal>,
): ExportedWithdrawal[] {
  const ids = [...new Set(receipts.flatMap((r) => r.withdrawn))].sort();
  return ids.map((id) => {
    const w = withdrawn.get(id);
    if (!w?.signed)
      throw new BaseError('INTERNAL', `Contribution ${id} is listed as withdrawn without its signed withdrawal`, {
        details: { contributionId: id },
      });
    return exportedWithdrawal({ ...w, signed: w.signed });
  });
}

/**
 * The epoch's public receipts export: whose sequence, which chain, distributor and DataNet registry, parameters
 * (with where unattributed shares go), stakes, receipts and the withdrawals they honour.
 */
export function receiptsExportOf(e: {
  epoch: number;
  node: Address;
  chainId: number;
  distributor: Address;
  dataNetRegistry: Address;
  params: EpochParams;
  stakeBlock: bigint;
  stakers: { address: Address; stake: bigint }[];
  receipts: ExportedReceipt[];
  withdrawals: ExportedWithdrawal[];
}): EpochReceiptsExport {
  return {
    kind: 'tributary.epoch-receipts',
    version: EPOCH_EXPORT_VERSION,
    epoch: e.epoch,
    node: e.node,
    chainId: e.chainId,
    distributor: e.distributor,
    dataNetRegistry: e.dataNetRegistry,
    params: e.params,
    stakeBlock: e.stakeBlock,
    stakers: e.stakers,
    receipts: e.receipts,
    withdrawals: e.withdrawals,
  };
}

export interface EpochSettlement {
  payouts: EpochPayouts;
  /** The Merkle root of the receipt ids, in export order. */
  receiptsRoot: Hex;
  /** The amounts by role, as decimal strings. */
  byRole: Record<string, string>;
}

/** What an export pays, exactly as an auditor recomputes it, given the cumulative amounts before this epoch. */
export function settleExport(e: EpochReceiptsExport, previous: ReadonlyMap<Address, bigint>): EpochSettlement {
  const payouts = payoutsOfExport(e, previous);
  return {
    payouts,
    receiptsRoot: merkleTree(e.receipts.map((r) => r.id)).root,
    byRole: Object.fromEntries(Object.entries(payouts.byRole).map(([k, v]) => [k, v.toString()])),
  };
}

/** The epoch's payouts export: every account's cumulative amount, which the next epoch carries over. */
export function payoutsExportOf(
  epoch: number,
  payouts: Pick<EpochPayouts, 'root' | 'cumulative'>,
): { kind: 'tributary.epoch-payouts'; epoch: number; root: Hex; cumulative: [Address, bigint][] } {
  return { kind: 'tributary.epoch-payouts', epoch, root: payouts.root, cumulative: [...payouts.cumulative] };
}

/**
 * The statements that store a computed epoch, in order: the epoch (redeemed, ready to post), its payouts (500 a
 * statement) and its receipts marked as settled by it (5,000 a statement).
 */
export function epochStatements(
  epoch: number,
  lastSeq: bigint,
  receiptIds: readonly Hex[],
  settlement: EpochSettlement,
  cids: { receiptsCid: string; payoutsCid: string },
): Statement[] {
  const { payouts } = settlement;
  const statements: Statement[] = [
    {
      text: `INSERT INTO epochs (epoch, status, last_seq, receipts, fees, by_role, receipts_root, receipts_cid, payouts_cid, payout_root, cumulative_total)
         VALUES ($1, 'redeemed', $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)`,
      values: [
        epoch,
        lastSeq.toString(),
        receiptIds.length,
        payouts.fees.toString(),
        JSON.stringify(settlement.byRole),
        settlement.receiptsRoot,
        cids.receiptsCid,
        cids.payoutsCid,
        payouts.root,
        payouts.cumulativeTotal.toString(),
      ],
    },
  ];
  const entries = [...payouts.cumulative];
  for (let i = 0; i < entries.length; i += 500) {
    const chunk = entries.slice(i, i + 500);
    statements.push({
      text: `INSERT INTO epoch_payouts (epoch, account, amount, cumulative) VALUES ${chunk.map((_, k) => `($1, $${k * 3 + 2}, $${k * 3 + 3}, $${k * 3 + 4})`).join(', ')}`,
      values: [
        epoch,
        ...chunk.flatMap(([account, cumulative]) => [
          account,
          (payouts.amounts.get(account) ?? 0n).toString(),
          cumulative.toString(),
        ]),
      ],
    });
  }
  for (let i = 0; i < receiptIds.length; i += 5_000) {
    statements.push({
      text: 'UPDATE receipts SET epoch = $1 WHERE id = ANY($2::text[])',
      values: [epoch, receiptIds.slice(i, i + 5_000)],
    });
  }
  return statements;
}

/** What computing an epoch reads and writes. */
export interface EpochComputeDeps {
  db: Db;
  clients: ChainClients;
  deployment: Deployment;
  channels: Channels;
  blobs: BlobStore;
  params: ParamsReader;
  node: LocalAccount;
}

/** Stake per staker (all roles summed) at a fixed block, so the stakers' pool can be recomputed by anyone. */
export async function stakeSnapshot(
  clients: ChainClients,
  stakingAddress: Address,
  blockNumber: bigint,
): Promise<{ address: Address; stake: bigint }[]> {
  const staking = { address: stakingAddress, abi: StakingArtifact.abi } as const;
  const total = new Map<Address, bigint>();
  for (const role of Object.values(stakingRoles)) {
    const count = await clients.public.readContract({
      ...staking,
      functionName: 'stakerCount',
      args: [role],
      blockNumber,
    });
    const page = await clients.public.readContract({
      ...staking,
      functionName: 'stakers',
      args: [role, 0n, count],
      blockNumber,
    });
    for (const a of page) {
      const stake = await clients.public.readContract({
        ...staking,
        functionName: 'stakeOf',
        args: [a, role],
        blockNumber,
      });
      total.set(getAddress(a), (total.get(getAddress(a)) ?? 0n) + stake);
    }
  }
  return [...total]
    .sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
    .map(([address, stake]) => ({ address, stake }));
}

/**
 * Receipts whose channel was closed on chain before their voucher was redeemed: nobody can pay for them now.
 * They are marked (once) and left out of every epoch, so they can never wedge settlement.
 */
async function markUnredeemable(db: Db, log: Logger): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE receipts r SET unredeemable_at = now() FROM channels c
       WHERE c.id = r.channel_id AND r.epoch IS NULL AND r.unredeemable_at IS NULL AND c.closed AND r.charged_after > c.redeemed
       RETURNING r.id`,
  );
  if (rows.length > 0)
    log.warn({ receipts: rows.length }, 'receipts left out of settlement: their channel closed before redemption');
  return rows.length;
}

/** The receipts redeemed vouchers paid for and no epoch settled yet, in the order they were made. */
async function paidReceipts(db: Db): Promise<ReceiptRow[]> {
  const { rows } = await db.query<ReceiptRow>(
    `SELECT r.* FROM receipts r JOIN channels c ON c.id = r.channel_id
       WHERE r.epoch IS NULL AND r.unredeemable_at IS NULL AND r.charged_after <= c.redeemed ORDER BY r.seq`,
  );
  return rows;
}

/**
 * Cumulative amounts after epoch `epoch` (empty before the first). They carry over even from a void epoch: its
 * fees were redeemed, and the next root pays them.
 */
async function cumulativeAfter(db: Db, epoch: number): Promise<Map<Address, bigint>> {
  const previous = new Map<Address, bigint>();
  const prev = await db.query<{ account: Address; cumulative: string }>(
    'SELECT account, cumulative FROM epoch_payouts WHERE epoch = $1',
    [epoch],
  );
  for (const p of prev.rows) previous.set(getAddress(p.account), BigInt(p.cumulative));
  return previous;
}

/** Computes and stores epoch `epoch` from the receipts redeemed vouchers paid for (nothing is written unless all of it is). */
export async function computeEpoch(deps: EpochComputeDeps, log: Logger, epoch: number): Promise<void> {
  await deps.channels.sync();
  await markUnredeemable(deps.db, log);
  const rows = await paidReceipts(deps.db);
  const last = lastPaidReceipt(rows, epoch);
  const params = await deps.params();
  const stakeBlock = await deps.clients.public.getBlockNumber({ cacheTime: 0 });
  const stakers = await stakeSnapshot(deps.clients, deps.deployment.contracts.Staking, stakeBlock);
  const previous = await cumulativeAfter(deps.db, epoch - 1);
  const withdrawn = await signedWithdrawals(deps.db, attributedIds(rows));
  const receipts = payoutInputs(rows, withdrawn, params.platformTreasury);
  const receiptsExport = receiptsExportOf({
    epoch,
    node: getAddress(deps.node.address),
    chainId: deps.deployment.chainId,
    distributor: deps.deployment.contracts.RewardDistributor,
    dataNetRegistry: deps.deployment.contracts.DataNetRegistry,
    params,
    stakeBlock,
    stakers,
    receipts,
    withdrawals: withdrawalsOfExport(receipts, withdrawn),
  });
  const settlement = settleExport(receiptsExport, previous);
  const receiptsCid = await deps.blobs.put(canonicalJson(receiptsExport));
  const payoutsCid = await deps.blobs.put(canonicalJson(payoutsExportOf(epoch, settlement.payouts)));
  const statements = epochStatements(
    epoch,
    last.seq,
    rows.map((r) => r.id),
    settlement,
    { receiptsCid, payoutsCid },
  );
  await deps.db.transaction(async (tx) => {
    for (const s of statements) await tx.query(s.text, s.values);
  });
  log.info({ epoch, receipts: rows.length, root: settlement.payouts.root }, 'epoch computed');
  failpoint('epoch.computed');
}
