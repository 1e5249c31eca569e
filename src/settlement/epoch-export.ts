/**
 * An epoch's public export: every receipt it settles (the node-signed message and signature, its attribution, fee
 * breakdown, model owner, the contributions it pays and the ones excluded as withdrawn, with the contributors'
 * signed withdrawals), the stake snapshot and the protocol parameters. Its content id is posted on chain with the root, so anyone can
 * fetch it, check every signature and recompute the payout root — which is what a challenger does. The exports'
 * shapes and parse functions are the protocol's (src/protocol/artifacts/epoch-export.ts); what they must add up
 * to is checked here.
 */
import { type Address, type Hex, isAddressEqual, zeroHash } from 'viem';
import { merkleTree } from '../chain/index.js';
import { BaseError } from '../core/index.js';
import { type EpochReceiptsExport, type ExportedWithdrawal, parseEpochPayoutsExport } from '../protocol/index.js';
import { attributionProblems, feeProblems, paramsProblems, withdrawalSignatureProblem } from './export-bindings.js';
import { computeEpochPayouts, type EpochPayouts, overAttribution } from './payouts.js';
import { verifyReceipt } from './receipts.js';

export {
  type EpochReceiptsExport,
  type ExportedReceipt,
  type ExportedWithdrawal,
  parseEpochExport,
} from '../protocol/index.js';

/** Payouts exactly as the node computed them, from the export alone (plus the previous epoch's cumulative map). */
export function payoutsOfExport(e: EpochReceiptsExport, previous: ReadonlyMap<Address, bigint>): EpochPayouts {
  return computeEpochPayouts({
    receipts: e.receipts.map((r) => ({
      id: r.id,
      fee: r.fee,
      modelOwner: r.modelOwner,
      contributions: r.contributions.map((c) => ({ contributor: c.contributor, ppm: c.ppm })),
    })),
    stakers: e.stakers,
    platformTreasury: e.params.platformTreasury,
    unattributedAccount: e.params.unattributedAccount,
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

/** Each receipt's own problems: its signature, its fee split, its attribution and withdrawals, its shares. */
async function receiptProblems(e: EpochReceiptsExport): Promise<string[]> {
  const problems: string[] = [];
  const withdrawals = new Map<string, { withdrawal: ExportedWithdrawal; signatureProblem: string | null }>();
  for (const w of e.withdrawals)
    withdrawals.set(w.contributionId.toLowerCase(), {
      withdrawal: w,
      signatureProblem: await withdrawalSignatureProblem(e, w),
    });
  const domain = { chainId: e.chainId, distributor: e.distributor };
  for (const r of e.receipts) {
    if (!isAddressEqual(r.node, e.node))
      problems.push(`receipt ${r.id}: signed by ${r.node}, not this epoch's node ${e.node}`);
    if (!(await verifyReceipt(domain, { id: r.id, message: r.signed, node: r.node, signature: r.signature }))) {
      problems.push(`receipt ${r.id}: the signature or id does not match the signed fields`);
    }
    problems.push(...feeProblems(e, r), ...attributionProblems(r, withdrawals));
    const over = overAttribution(r);
    if (over) problems.push(over);
  }
  return problems;
}

/**
 * Everything a challenger checks: each receipt is signed by its node for this chain and distributor; its fee split
 * is the parameters' and its fee the signed one; its attribution is the one whose hash it signed, and it pays
 * exactly that attribution's contributions minus those withdrawn by the contributor's signature before the
 * request, at most 1,000,000 ppm; and the root, total and receipts root recomputed from the export match what was
 * posted.
 */
export async function verifyEpochExport(
  e: EpochReceiptsExport,
  previous: ReadonlyMap<Address, bigint>,
  posted: { payoutRoot: Hex; receiptsRoot: Hex; cumulativeTotal: bigint },
): Promise<EpochVerification> {
  const problems = [...paramsProblems(e), ...(await receiptProblems(e))];
  const receiptsRoot = merkleTree(e.receipts.map((r) => r.id)).root;
  let payouts: EpochPayouts | undefined;
  try {
    payouts = payoutsOfExport(e, previous);
  } catch (err) {
    // Shares above 1,000,000 ppm cannot be paid at all (already listed per receipt above).
    if (!(err instanceof BaseError)) throw err;
  }
  if (payouts && payouts.root !== posted.payoutRoot)
    problems.push(`payout root: recomputed ${payouts.root}, posted ${posted.payoutRoot}`);
  if (payouts && payouts.cumulativeTotal !== posted.cumulativeTotal)
    problems.push(`cumulative total: recomputed ${payouts.cumulativeTotal}, posted ${posted.cumulativeTotal}`);
  if (receiptsRoot !== posted.receiptsRoot)
    problems.push(`receipts root: recomputed ${receiptsRoot}, posted ${posted.receiptsRoot}`);
  return {
    ok: problems.length === 0,
    payoutRoot: payouts?.root ?? zeroHash,
    receiptsRoot,
    cumulativeTotal: payouts?.cumulativeTotal ?? 0n,
    fees: payouts?.fees ?? 0n,
    problems,
  };
}

/** The previous epoch's cumulative payouts, from its payouts export. */
export function parsePayoutsExport(text: string, source = 'payouts export'): Map<Address, bigint> {
  return new Map(parseEpochPayoutsExport(text, source).cumulative);
}
