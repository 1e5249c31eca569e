/**
 * An epoch's public exports, stored by CID (the receipts export's CID is posted on chain with the root):
 *  - the receipts export: every receipt the epoch settles (the node-signed message and signature, plus what the
 *    split needs — fee breakdown, model owner, DataNet treasury, live contributions and the ones excluded as
 *    withdrawn), the stake snapshot and the protocol parameters; anyone can check every signature and recompute
 *    the payout root from it, which is what a challenger does;
 *  - the payouts export: the cumulative payout of every account after the epoch (the next epoch starts from it).
 * Both are canonical JSON; amounts are decimal strings there and bigints in code. Whether the numbers add up is
 * settlement's check (`verifyEpochExport`), not the shape's.
 */
import { z } from 'zod';
import { BaseError } from '../../core/index.js';
import { address, bytes32, signature, uintString } from '../primitives.js';
import { feeBreakdown, receiptMessage } from './node-receipt.js';
import { decodeArtifact, isKind, jsonOf } from './parse.js';

export const exportedReceipt = z.object({
  id: bytes32,
  signed: receiptMessage,
  node: address,
  signature,
  modelOwner: address,
  dataNetTreasury: address.nullable(),
  fee: feeBreakdown,
  /** Contributions that earn (withdrawn ones already removed; their share is unattributed). */
  contributions: z.array(z.object({ id: bytes32, contributor: address, ppm: z.number() })),
  /** Contributions the attribution named but that were withdrawn before the request. */
  withdrawn: z.array(bytes32),
});
export type ExportedReceipt = z.output<typeof exportedReceipt>;

export const epochReceiptsExport = z.object({
  kind: z.literal('tributary.epoch-receipts'),
  version: z.literal(1),
  epoch: z.number().int(),
  /** The node whose sequence this epoch is: it signed every receipt and redeemed every fee. */
  node: address,
  chainId: z.number().int(),
  distributor: address,
  params: z.object({
    platformFeeBps: z.number().int(),
    platformFeeFlat: uintString,
    ownerShareBps: z.number().int(),
    stakerShareBps: z.number().int(),
    contributorShareBps: z.number().int(),
    platformTreasury: address,
    challengeWindow: uintString,
  }),
  stakeBlock: uintString,
  stakers: z.array(z.object({ address, stake: uintString })),
  receipts: z.array(exportedReceipt),
});
export type EpochReceiptsExport = z.output<typeof epochReceiptsExport>;

/** Reads a receipts export (canonical JSON) back, with bigints restored; `source` names it in errors. */
export function parseEpochExport(text: string, source = 'epoch export'): EpochReceiptsExport {
  const value = jsonOf(text, source);
  if (!isKind(value, 'tributary.epoch-receipts', 1))
    throw new BaseError('INVALID_ARGUMENT', `${source} is not a version-1 tributary.epoch-receipts export`, {
      details: { file: source, field: 'kind' },
    });
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
