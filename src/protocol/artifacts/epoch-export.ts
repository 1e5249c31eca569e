/**
 * An epoch's public exports, stored by CID (the receipts export's CID is posted on chain with the root):
 *  - the receipts export: every receipt the epoch settles — the node-signed message and signature, the
 *    attribution result whose hash the receipt signed, the fee split, the model owner, the contributions it pays
 *    and the ones it stops paying as withdrawn, each with the contributor's signed Withdrawal — plus the stake
 *    snapshot and the protocol parameters. Anyone can check every signature, recompute each receipt's paid shares
 *    from its attribution and the withdrawals, its fee split from the parameters, and the payout root from it all:
 *    what a challenger does (settlement's `verifyEpochExport`);
 *  - the payouts export: the cumulative payout of every account after the epoch (the next epoch starts from it).
 * Both are canonical JSON; amounts are decimal strings there and bigints in code; times are Unix milliseconds.
 * Whether the numbers add up is settlement's check, not the shape's.
 */
import { z } from 'zod';
import { BaseError } from '../../core/index.js';
import { address, bytes32, decimal, signature, uintString } from '../primitives.js';
import { attributionResult } from './attribution-result.js';
import { feeBreakdown, receiptMessage } from './node-receipt.js';
import { decodeArtifact, isKind, jsonOf } from './parse.js';

/** The receipts export's version: 2 carries each receipt's attribution and the signed withdrawals. */
export const EPOCH_EXPORT_VERSION = 2;

export const exportedReceipt = z.object({
  id: bytes32,
  signed: receiptMessage,
  node: address,
  signature,
  /** When the node served the request (its own clock, Unix ms): what a withdrawal must predate to stop payment. */
  servedAt: uintString,
  modelOwner: address,
  fee: feeBreakdown,
  /** The attribution result exactly as the node stored it (its hash is the signed `attributionHash`); null for none. */
  attribution: attributionResult.nullable(),
  /** What the export pays: the attribution's contributions minus the withdrawn ones, with their ppm. */
  contributions: z.array(z.object({ id: bytes32, contributor: address, ppm: z.number() })),
  /** Contributions the attribution named but that were withdrawn before the request (see `withdrawals`). */
  withdrawn: z.array(bytes32),
});
export type ExportedReceipt = z.output<typeof exportedReceipt>;

/** A contributor's signed EIP-712 Withdrawal (the DataNet registry's domain) and when the node applied it. */
export const exportedWithdrawal = z.object({
  contributionId: bytes32,
  dataNetId: decimal,
  contributor: address,
  nonce: uintString,
  deadline: uintString,
  signature,
  /** When the node recorded it (its own clock, Unix ms). */
  withdrawnAt: uintString,
});
export type ExportedWithdrawal = z.output<typeof exportedWithdrawal>;

export const epochReceiptsExport = z.object({
  kind: z.literal('tributary.epoch-receipts'),
  version: z.literal(EPOCH_EXPORT_VERSION),
  epoch: z.number().int(),
  /** The node whose sequence this epoch is: it signed every receipt and redeemed every fee. */
  node: address,
  chainId: z.number().int(),
  distributor: address,
  /** The DataNet registry: the verifying contract of the withdrawals' signatures. */
  dataNetRegistry: address,
  params: z.object({
    platformFeeBps: z.number().int(),
    platformFeeFlat: uintString,
    ownerShareBps: z.number().int(),
    stakerShareBps: z.number().int(),
    contributorShareBps: z.number().int(),
    platformTreasury: address,
    challengeWindow: uintString,
    /** Where the contributors' pool goes when nobody (live) is attributed: ProtocolConfig.unattributedRecipient. */
    unattributedAccount: address,
  }),
  stakeBlock: uintString,
  stakers: z.array(z.object({ address, stake: uintString })),
  receipts: z.array(exportedReceipt),
  /** Every withdrawal a receipt's `withdrawn` names, once each. */
  withdrawals: z.array(exportedWithdrawal),
});
export type EpochReceiptsExport = z.output<typeof epochReceiptsExport>;

/** Reads a receipts export (canonical JSON) back, with bigints restored; `source` names it in errors. */
export function parseEpochExport(text: string, source = 'epoch export'): EpochReceiptsExport {
  const value = jsonOf(text, source);
  if (isKind(value, 'tributary.epoch-receipts', 1))
    throw new BaseError(
      'INVALID_ARGUMENT',
      `${source} is a version-1 epoch export: it lacks the receipts' attributions and the signed withdrawals, so its contributor shares cannot be checked; only version ${EPOCH_EXPORT_VERSION} is verifiable`,
      { details: { file: source, field: 'version' } },
    );
  if (!isKind(value, 'tributary.epoch-receipts', EPOCH_EXPORT_VERSION))
    throw new BaseError(
      'INVALID_ARGUMENT',
      `${source} is not a version-${EPOCH_EXPORT_VERSION} tributary.epoch-receipts export`,
      { details: { file: source, field: 'kind' } },
    );
  return decodeArtifact(epochReceiptsExport, value, source);
}

export const epochPayoutsExport = z.object({
  kind: z.literal('tributary.epoch-payouts'),
  epoch: z.number().int(),
  root: bytes32,
  /** [account, cumulative wei] for every account paid so far. */
  cumulative: z.array(z.tuple([address, uintString])),
});
export type EpochPayoutsExport = z.output<typeof epochPayoutsExport>;

/** Reads a payouts export; `source` names it in errors. */
export function parseEpochPayoutsExport(text: string, source = 'payouts export'): EpochPayoutsExport {
  const value = jsonOf(text, source);
  if (!isKind(value, 'tributary.epoch-payouts'))
    throw new BaseError('INVALID_ARGUMENT', `${source} is not a tributary.epoch-payouts export`, {
      details: { file: source, field: 'kind' },
    });
  return decodeArtifact(epochPayoutsExport, value, source);
}
