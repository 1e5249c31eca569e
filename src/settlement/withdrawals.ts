/**
 * Contributors who withdraw a contribution stop earning from it: requests served after the withdrawal pay its
 * share to the protocol's unattributed account instead; requests served before it still pay the contributor. A
 * withdrawal counts only with the contributor's signature kept (the epoch export publishes it, so anyone can check
 * it); one stored before signatures were kept goes on earning.
 */
import { type SignedWithdrawal, withdrawalsOf } from '../datanets/index.js';
import type { ExportedWithdrawal } from '../protocol/index.js';
import type { Queryable } from '../store/index.js';

export type { SignedWithdrawal };

/** The signed withdrawals of the contributions among `ids` (asked of datanets, which owns contributions). */
export async function signedWithdrawals(db: Queryable, ids: readonly string[]): Promise<Map<string, SignedWithdrawal>> {
  const all = await withdrawalsOf(db, ids);
  return new Map([...all].filter(([, w]) => w.signed !== null));
}

/** The contributions of a receipt that earn: those not withdrawn at the time of the request. */
export function earningContributions<T extends { id: string }>(
  contributions: readonly T[],
  withdrawn: ReadonlyMap<string, Pick<SignedWithdrawal, 'withdrawnAt'>>,
  requestAt: Date,
): T[] {
  return contributions.filter((c) => {
    const at = withdrawn.get(c.id)?.withdrawnAt;
    return at === undefined || at > requestAt;
  });
}

/** A signed withdrawal as the epoch export carries it (times in Unix ms). */
export function exportedWithdrawal(
  w: SignedWithdrawal & { signed: NonNullable<SignedWithdrawal['signed']> },
): ExportedWithdrawal {
  return {
    contributionId: w.contributionId,
    dataNetId: w.dataNetId.toString(),
    contributor: w.contributor,
    nonce: w.signed.nonce,
    deadline: w.signed.deadline,
    signature: w.signed.signature,
    withdrawnAt: BigInt(w.withdrawnAt.getTime()),
  };
}
