/**
 * An epoch's public export: every receipt it settles (the node-signed message and signature, plus what the split
 * needs: fee breakdown, model owner, DataNet treasury, live contributions and the ones excluded as withdrawn),
 * the stake snapshot and the protocol parameters. Its content id is posted on chain with the root, so anyone can
 * fetch it, check every signature and recompute the payout root — which is what a challenger does. The exports'
 * shapes and parse functions are the protocol's (src/protocol/artifacts/epoch-export.ts); what they must add up
 * to is checked here.
 */
import { type Address, type Hex, isAddressEqual } from 'viem';
import { merkleTree } from '../chain/index.js';
import { type EpochReceiptsExport, parseEpochPayoutsExport } from '../protocol/index.js';
import { computeEpochPayouts, type EpochPayouts } from './payouts.js';
import { verifyReceipt } from './receipts.js';

export { type EpochReceiptsExport, type ExportedReceipt, parseEpochExport } from '../protocol/index.js';

/** Payouts exactly as the node computed them, from the export alone (plus the previous epoch's cumulative map). */
export function payoutsOfExport(e: EpochReceiptsExport, previous: ReadonlyMap<Address, bigint>): EpochPayouts {
  return computeEpochPayouts({
    receipts: e.receipts.map((r) => {
      const ppm = r.contributions.reduce((s, c) => s + c.ppm, 0);
      return {
        id: r.id,
        fee: r.fee,
        modelOwner: r.modelOwner,
        dataNetTreasury: r.dataNetTreasury,
        contributions: r.contributions.map((c) => ({ contributor: c.contributor, ppm: c.ppm })),
        unattributedPpm: 1_000_000 - ppm,
      };
    }),
    stakers: e.stakers,
    platformTreasury: e.params.platformTreasury,
    dustAccount: e.params.platformTreasury,
    previous,
  });
}

export interface EpochVerification {
  ok: boolean;
  payoutRoot: Hex;
  receiptsRoot: Hex;
  cumulativeTotal: bigint;
  fees: bigint;
  problems: string[];
}

/**
 * Everything a challenger checks: each receipt is signed by its node for this chain and distributor, its fee is
 * the sum of its parts, its shares add up, and the root, total and receipts root recomputed from the export match
 * what was posted.
 */
export async function verifyEpochExport(
  e: EpochReceiptsExport,
  previous: ReadonlyMap<Address, bigint>,
  posted: { payoutRoot: Hex; receiptsRoot: Hex; cumulativeTotal: bigint },
): Promise<EpochVerification> {
  const problems: string[] = [];
  const domain = { chainId: e.chainId, distributor: e.distributor };
  for (const r of e.receipts) {
    if (!isAddressEqual(r.node, e.node))
      problems.push(`receipt ${r.id}: signed by ${r.node}, not this epoch's node ${e.node}`);
    if (!(await verifyReceipt(domain, { id: r.id, message: r.signed, node: r.node, signature: r.signature }))) {
      problems.push(`receipt ${r.id}: the signature or id does not match the signed fields`);
    }
    if (r.signed.fee !== r.fee.fee)
      problems.push(`receipt ${r.id}: signed fee ${r.signed.fee} differs from the fee split's ${r.fee.fee}`);
    const parts = r.fee.platform + r.fee.owner + r.fee.stakers + r.fee.contributors;
    if (parts !== r.fee.fee) problems.push(`receipt ${r.id}: fee parts add up to ${parts}, not ${r.fee.fee}`);
    const ppm = r.contributions.reduce((s, c) => s + c.ppm, 0);
    if (ppm > 1_000_000 || r.contributions.some((c) => !Number.isInteger(c.ppm) || c.ppm < 0))
      problems.push(`receipt ${r.id}: contribution shares are not 0..1,000,000 ppm`);
  }
  const payouts = payoutsOfExport(e, previous);
  const receiptsRoot = merkleTree(e.receipts.map((r) => r.id)).root;
  if (payouts.root !== posted.payoutRoot)
    problems.push(`payout root: recomputed ${payouts.root}, posted ${posted.payoutRoot}`);
  if (payouts.cumulativeTotal !== posted.cumulativeTotal)
    problems.push(`cumulative total: recomputed ${payouts.cumulativeTotal}, posted ${posted.cumulativeTotal}`);
  if (receiptsRoot !== posted.receiptsRoot)
    problems.push(`receipts root: recomputed ${receiptsRoot}, posted ${posted.receiptsRoot}`);
  return {
    ok: problems.length === 0,
    payoutRoot: payouts.root,
    receiptsRoot,
    cumulativeTotal: payouts.cumulativeTotal,
    fees: payouts.fees,
    problems,
  };
}

/** The previous epoch's cumulative payouts, from its payouts export. */
export function parsePayoutsExport(text: string, source = 'payouts export'): Map<Address, bigint> {
  return new Map(parseEpochPayoutsExport(text, source).cumulative);
}
