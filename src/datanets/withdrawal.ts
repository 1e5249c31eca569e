/**
 * The right to be forgotten: a contributor's signed withdrawal tombstones the contribution, deletes its content,
 * and excludes it from every later version (the next version's manifest lists it as withdrawn). Versions already
 * committed on chain keep its leaf — a root cannot change — but its content is gone and it earns nothing from the
 * first version without it on.
 */
import type { Hex } from 'viem';
import { BaseError } from '../core/index.js';
import { type DataNetContext, domainOf } from './context.js';
import { latestVersion, storedId } from './records.js';
import { verifyDataNetMessage } from './signatures.js';

export interface WithdrawalRequest {
  nonce: string;
  deadline: string;
  signature: string;
}

export interface WithdrawalResult {
  contributionId: Hex;
  withdrawnAt: Date;
  /** The first version that does not contain it. */
  absentFromVersion: number;
  /** Published versions that still contain its leaf (their roots are immutable). */
  lastVersionContaining: number | null;
}

export function createWithdrawal(ctx: DataNetContext, hooks: { forget(dataNetId: bigint, id: Hex): Promise<void> }) {
  return async function withdraw(id: Hex, request: WithdrawalRequest): Promise<WithdrawalResult> {
    const key = storedId(id);
    const { rows } = await ctx.db.query<{
      datanet_id: bigint;
      contributor: `0x${string}`;
      cid: string;
      status: string;
    }>('SELECT datanet_id, contributor, cid, status FROM contributions WHERE id = $1', [key]);
    const c = rows[0];
    if (!c) throw new BaseError('NOT_FOUND', `No contribution ${id}`, { details: { contributionId: id } });
    if (c.status === 'withdrawn')
      throw new BaseError('CONFLICT', `Contribution ${id} is already withdrawn`, { details: { contributionId: id } });
    let nonce: bigint;
    let deadline: bigint;
    try {
      nonce = BigInt(request.nonce);
      deadline = BigInt(request.deadline);
    } catch {
      throw new BaseError('INVALID_ARGUMENT', 'nonce and deadline must be integers (decimal strings)', {
        details: { field: 'nonce' },
      });
    }
    await verifyDataNetMessage(
      domainOf(ctx),
      ['Withdrawal', { dataNetId: c.datanet_id, contributionId: key, nonce, deadline }],
      request.signature,
      c.contributor,
      ctx.now(),
    );

    const result = await ctx.db.transaction(async (tx) => {
      const used = await tx.query(
        'INSERT INTO used_nonces (signer, nonce) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1',
        [c.contributor, nonce.toString()],
      );
      if (used.rows.length === 0) {
        throw new BaseError(
          'UNAUTHORIZED',
          `nonce ${nonce} of ${c.contributor} was already used; every signature needs a fresh nonce`,
          { details: { field: 'nonce' } },
        );
      }
      const absentFrom = (await latestVersion(tx, c.datanet_id)) + 1;
      const { rows: updated } = await tx.query<{ withdrawn_at: Date }>(
        `UPDATE contributions SET status = 'withdrawn', withdrawn_at = now(), absent_from_version = $2,
           withdrawal_nonce = $3, withdrawal_deadline = $4, withdrawal_signature = $5
         WHERE id = $1 AND status <> 'withdrawn' RETURNING withdrawn_at`,
        [key, absentFrom, nonce.toString(), deadline.toString(), request.signature],
      );
      if (!updated[0])
        throw new BaseError('CONFLICT', `Contribution ${id} is already withdrawn`, { details: { contributionId: id } });
      const { rows: last } = await tx.query<{ v: number | null }>(
        `SELECT max(m.version) AS v FROM version_members m JOIN datanet_versions v USING (datanet_id, version) WHERE m.contribution_id = $1 AND v.status = 'published'`,
        [key],
      );
      return {
        contributionId: key,
        withdrawnAt: updated[0].withdrawn_at,
        absentFromVersion: absentFrom,
        lastVersionContaining: last[0]?.v ?? null,
      };
    });

    // The content goes once nothing live refers to it (the same bytes may be a live row of another DataNet).
    const { rows: refs } = await ctx.db.query(
      `SELECT 1 FROM contributions WHERE cid = $1 AND status <> 'withdrawn' LIMIT 1`,
      [c.cid],
    );
    if (refs.length === 0) await ctx.blobs.delete(c.cid);
    await hooks.forget(c.datanet_id, key);
    ctx.log.info({ contributionId: key, absentFromVersion: result.absentFromVersion }, 'contribution withdrawn');
    return result;
  };
}
