/**
 * Withdrawn contributions as settlement asks for them (datanets owns `contributions`): when each was withdrawn, and
 * the contributor's signed Withdrawal message, so that an epoch export can prove a contribution stopped earning by
 * the contributor's own signature rather than by the node's word.
 */
import type { Address, Hex } from 'viem';
import type { Queryable } from '../store/index.js';

export interface SignedWithdrawal {
  contributionId: Hex;
  dataNetId: bigint;
  contributor: Address;
  withdrawnAt: Date;
  /** The EIP-712 Withdrawal's nonce, deadline and signature; null for withdrawals stored before they were kept. */
  signed: { nonce: bigint; deadline: bigint; signature: Hex } | null;
}

/** The withdrawn contributions among `ids` (contributions not withdrawn are absent), by id. */
export async function withdrawalsOf(db: Queryable, ids: readonly string[]): Promise<Map<string, SignedWithdrawal>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, SignedWithdrawal>();
  for (let i = 0; i < unique.length; i += 5_000) {
    const { rows } = await db.query<{
      id: Hex;
      datanet_id: string | bigint;
      contributor: Address;
      withdrawn_at: Date;
      withdrawal_nonce: string | null;
      withdrawal_deadline: string | bigint | null;
      withdrawal_signature: Hex | null;
    }>(
      `SELECT id, datanet_id, contributor, withdrawn_at, withdrawal_nonce, withdrawal_deadline, withdrawal_signature
         FROM contributions WHERE status = 'withdrawn' AND id = ANY($1::text[])`,
      [unique.slice(i, i + 5_000)],
    );
    for (const r of rows)
      out.set(r.id, {
        contributionId: r.id,
        dataNetId: BigInt(r.datanet_id),
        contributor: r.contributor,
        withdrawnAt: r.withdrawn_at,
        signed:
          r.withdrawal_nonce === null || r.withdrawal_deadline === null || r.withdrawal_signature === null
            ? null
            : {
                nonce: BigInt(r.withdrawal_nonce),
                deadline: BigInt(r.withdrawal_deadline),
                signature: r.withdrawal_signature,
              },
      });
  }
  return out;
}
