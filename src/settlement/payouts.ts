/**
 * Turning an epoch's receipts into payouts, deterministically and exactly: every wei of fees lands on exactly one
 * account. Per receipt, the platform fee goes to the platform treasury, β to the model's owner, γ to the stakers'
 * pool (shared by stake at the epoch's close), δ to the contributors by their attribution shares, and the
 * unattributed part of δ to ProtocolConfig's unattributed recipient (the platform treasury by default; never the
 * DataNet owner's treasury, whose owner would gain from every share attribution misses). Shares above 1,000,000
 * ppm are refused: they would pay contributors out of someone else's part. Contributor amounts are accumulated as wei × ppm numerators
 * and floored once per account, so rounding loses at most a few wei per account; that remainder goes to an
 * explicit dust account. Payouts are cumulative across epochs, the form the distributor's Merkle root takes.
 */
import { type Address, getAddress, type Hex, zeroHash } from 'viem';
import { merkleTree, standardLeaf } from '../chain/index.js';
import { BaseError } from '../core/index.js';
import type { FeeBreakdown } from './fees.js';

export const payoutRoles = ['platform', 'modelOwner', 'stakers', 'contributors', 'unattributed', 'dust'] as const;
export type PayoutRole = (typeof payoutRoles)[number];

export interface PayableReceipt {
  id: string;
  fee: FeeBreakdown;
  modelOwner: Address;
  /**
   * Per contribution, integer ppm summing to at most 1,000,000; withdrawn contributions are already excluded by
   * the caller (their share is unattributed, like whatever the attribution left unattributed).
   */
  contributions: { contributor: Address; ppm: number }[];
}

export interface EpochPayoutInput {
  receipts: PayableReceipt[];
  /** Stake per staker at the epoch's close (the stakers' pool is shared in proportion). */
  stakers: { address: Address; stake: bigint }[];
  platformTreasury: Address;
  /** Receives the unattributed part of every contributors' pool (ProtocolConfig.unattributedRecipient). */
  unattributedAccount: Address;
  dustAccount: Address;
  /** Cumulative payouts before this epoch. */
  previous: ReadonlyMap<Address, bigint>;
}

export interface EpochPayouts {
  fees: bigint;
  /** This epoch's payout per account (sorted by address). */
  amounts: Map<Address, bigint>;
  byRole: Record<PayoutRole, bigint>;
  /** Cumulative payout per account after this epoch (sorted by address). */
  cumulative: Map<Address, bigint>;
  cumulativeTotal: bigint;
  root: Hex;
}

const PPM = 1_000_000n;

function add(m: Map<Address, bigint>, a: Address, v: bigint) {
  if (v === 0n) return;
  const k = getAddress(a);
  m.set(k, (m.get(k) ?? 0n) + v);
}

const sorted = (m: Map<Address, bigint>) =>
  new Map([...m.entries()].sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));

export function payoutLeaf(account: Address, cumulative: bigint): Hex {
  return standardLeaf(['address', 'uint256'], [account, cumulative]);
}

/**
 * Why a receipt's shares cannot be paid (null when they can): each must be an integer ppm ≥ 0, and they may sum to
 * at most 1,000,000 — the excess would come out of the others' parts.
 */
export function overAttribution(r: Pick<PayableReceipt, 'id' | 'contributions'>): string | null {
  const bad = r.contributions.find((c) => !Number.isSafeInteger(c.ppm) || c.ppm < 0);
  if (bad) return `receipt ${r.id} pays a contribution ${bad.ppm} ppm: shares are integers from 0`;
  const total = r.contributions.reduce((s, c) => s + c.ppm, 0);
  if (total > Number(PPM)) return `receipt ${r.id} pays contributions ${total} ppm in all, above 1,000,000`;
  return null;
}

function refuseOverAttributed(r: PayableReceipt): void {
  const problem = overAttribution(r);
  if (problem)
    throw new BaseError('INVALID_ARGUMENT', `Refusing to pay: ${problem}`, {
      details: { receipt: r.id, field: 'contributions.ppm' },
    });
}

export function computeEpochPayouts(input: EpochPayoutInput): EpochPayouts {
  const amounts = new Map<Address, bigint>();
  const byRole: Record<PayoutRole, bigint> = {
    platform: 0n,
    modelOwner: 0n,
    stakers: 0n,
    contributors: 0n,
    unattributed: 0n,
    dust: 0n,
  };
  const contributorNumerators = new Map<Address, bigint>();
  let fees = 0n;
  let stakerPool = 0n;

  for (const r of input.receipts) {
    refuseOverAttributed(r);
    fees += r.fee.fee;
    add(amounts, input.platformTreasury, r.fee.platform);
    byRole.platform += r.fee.platform;
    add(amounts, r.modelOwner, r.fee.owner);
    byRole.modelOwner += r.fee.owner;
    stakerPool += r.fee.stakers;
    const pool = r.fee.contributors;
    let attributed = 0n;
    for (const c of r.contributions) {
      const k = getAddress(c.contributor);
      contributorNumerators.set(k, (contributorNumerators.get(k) ?? 0n) + pool * BigInt(c.ppm));
      attributed += BigInt(c.ppm);
    }
    // Whatever is not attributed to a live contribution goes to the protocol's unattributed account.
    const unattributed = (pool * (PPM - attributed)) / PPM;
    add(amounts, input.unattributedAccount, unattributed);
    byRole.unattributed += unattributed;
  }

  // Contributors: one floor per account over the whole epoch.
  let contributorsPaid = 0n;
  for (const [account, numerator] of contributorNumerators) {
    const v = numerator / PPM;
    add(amounts, account, v);
    contributorsPaid += v;
  }
  byRole.contributors = contributorsPaid;

  // Stakers: the pool shared by stake; with nobody staked it goes to the platform.
  const totalStake = input.stakers.reduce((s, x) => s + x.stake, 0n);
  let stakersPaid = 0n;
  if (totalStake > 0n) {
    for (const s of [...input.stakers].sort((a, b) => (a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1))) {
      const v = (stakerPool * s.stake) / totalStake;
      add(amounts, s.address, v);
      stakersPaid += v;
    }
  } else {
    add(amounts, input.platformTreasury, stakerPool);
    byRole.platform += stakerPool;
    stakersPaid = stakerPool;
  }
  byRole.stakers = totalStake > 0n ? stakersPaid : 0n;

  // Everything not yet assigned is rounding dust, paid to an explicit account: the sum equals the fees exactly.
  const assigned = [...amounts.values()].reduce((a, b) => a + b, 0n);
  const dust = fees - assigned;
  add(amounts, input.dustAccount, dust);
  byRole.dust = dust;

  const cumulative = new Map(input.previous);
  for (const [a, v] of amounts) cumulative.set(getAddress(a), (cumulative.get(getAddress(a)) ?? 0n) + v);
  const sortedCumulative = sorted(cumulative);
  const cumulativeTotal = [...sortedCumulative.values()].reduce((a, b) => a + b, 0n);
  const leaves = [...sortedCumulative.entries()].filter(([, v]) => v > 0n).map(([a, v]) => payoutLeaf(a, v));
  const root = leaves.length > 0 ? merkleTree(leaves).root : zeroHash;
  return { fees, amounts: sorted(amounts), byRole, cumulative: sortedCumulative, cumulativeTotal, root };
}
