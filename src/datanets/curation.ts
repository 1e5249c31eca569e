/**
 * Curator decisions. Each is an EIP-712 message signed by an owner or curator of the DataNet (as the chain says),
 * recorded in an append-only audit log together with the contribution's new status. A curator can change a
 * decision until a version freezes the contribution's state; withdrawn contributions cannot be reviewed.
 */
import { getAddress, type Hex, isAddress, isHex } from 'viem';
import { messageOf } from '../core/index.js';
import { type DataNetContext, domainOf } from './context.js';
import { getDataNet, isCuratorOf, storedId } from './records.js';
import { reasonHashOf, verifyDataNetMessage } from './signatures.js';

export interface ReviewSubmission {
  contributionId: string;
  approve: boolean;
  spam?: boolean | undefined;
  reason: string;
  curator: string;
  nonce: string;
  deadline: string;
  signature: string;
}

export interface ReviewResult {
  index: number;
  contributionId: string;
  status: 'approved' | 'rejected' | 'refused';
  message?: string;
}

export interface ReviewRecord {
  id: bigint;
  contributionId: Hex;
  curator: string;
  decision: 'approve' | 'reject';
  reason: string;
  reasonHash: Hex;
  spam: boolean;
  signature: Hex;
  createdAt: Date;
}

export function createCuration(
  ctx: DataNetContext,
  hooks: { sync(): Promise<unknown>; onRejected(dataNetId: bigint, id: Hex): Promise<void> },
) {
  async function review(dataNetId: bigint, reviews: ReviewSubmission[]): Promise<ReviewResult[]> {
    let dataNet = await getDataNet(ctx.db, dataNetId);
    const domain = domainOf(ctx);
    const now = ctx.now();
    const results: ReviewResult[] = [];
    let synced = false;
    for (const [index, r] of reviews.entries()) {
      const refuse = (message: string) =>
        results.push({ index, contributionId: r.contributionId, status: 'refused', message });
      const { contributionId: givenId, signature } = r;
      if (!isAddress(r.curator) || !isHex(givenId) || !isHex(signature)) {
        refuse('curator must be an address; contributionId and signature hex strings');
        continue;
      }
      const contributionId = storedId(givenId);
      const curator = getAddress(r.curator);
      let nonce: bigint;
      let deadline: bigint;
      try {
        nonce = BigInt(r.nonce);
        deadline = BigInt(r.deadline);
      } catch {
        refuse('nonce and deadline must be integers (decimal strings)');
        continue;
      }
      if (!(await isCuratorOf(ctx.db, dataNet, curator)) && !synced) {
        // The curator may have been added moments ago: read the chain once before refusing.
        await hooks.sync();
        synced = true;
        dataNet = await getDataNet(ctx.db, dataNetId);
      }
      if (!(await isCuratorOf(ctx.db, dataNet, curator))) {
        refuse(`${curator} is neither the owner nor a curator of DataNet ${dataNetId}`);
        continue;
      }
      const { rows } = await ctx.db.query<{ status: string }>(
        'SELECT status FROM contributions WHERE id = $1 AND datanet_id = $2',
        [contributionId, dataNetId.toString()],
      );
      const current = rows[0];
      if (!current) {
        refuse(`contribution ${r.contributionId} is not in DataNet ${dataNetId}`);
        continue;
      }
      if (current.status === 'withdrawn') {
        refuse(`contribution ${r.contributionId} was withdrawn by its contributor`);
        continue;
      }
      const spam = r.spam === true;
      if (spam && r.approve) {
        refuse('a contribution cannot be approved and marked as spam');
        continue;
      }
      const reasonHash = reasonHashOf(r.reason);
      try {
        await verifyDataNetMessage(
          domain,
          ['Review', { dataNetId, contributionId: givenId, approve: r.approve, spam, reasonHash, nonce, deadline }],
          signature,
          curator,
          now,
        );
      } catch (e) {
        refuse(messageOf(e));
        continue;
      }
      const fresh = await ctx.db.transaction(async (tx) => {
        const used = await tx.query(
          'INSERT INTO used_nonces (signer, nonce) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1',
          [curator, nonce.toString()],
        );
        if (used.rows.length === 0) return false;
        const status = r.approve ? 'approved' : 'rejected';
        await tx.query(`UPDATE contributions SET status = $2 WHERE id = $1`, [contributionId, status]);
        await tx.query(
          `INSERT INTO reviews (datanet_id, contribution_id, curator, decision, reason, reason_hash, spam, nonce, signature)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            dataNetId.toString(),
            contributionId,
            curator,
            r.approve ? 'approve' : 'reject',
            r.reason,
            reasonHash,
            spam,
            nonce.toString(),
            signature,
          ],
        );
        return true;
      });
      if (!fresh) {
        refuse(`nonce ${nonce} of ${curator} was already used; every signature needs a fresh nonce`);
        continue;
      }
      if (!r.approve) await hooks.onRejected(dataNetId, contributionId);
      results.push({
        index,
        contributionId,
        status: r.approve ? 'approved' : 'rejected',
      });
    }
    return results;
  }

  async function auditLog(
    dataNetId: bigint,
    options: { after?: bigint; limit?: number } = {},
  ): Promise<ReviewRecord[]> {
    await getDataNet(ctx.db, dataNetId);
    const { rows } = await ctx.db.query<{
      id: bigint;
      contribution_id: Hex;
      curator: string;
      decision: 'approve' | 'reject';
      reason: string;
      reason_hash: Hex;
      spam: boolean;
      signature: Hex;
      created_at: Date;
    }>('SELECT * FROM reviews WHERE datanet_id = $1 AND id > $2 ORDER BY id LIMIT $3', [
      dataNetId.toString(),
      (options.after ?? 0n).toString(),
      options.limit ?? 500,
    ]);
    return rows.map((r) => ({
      id: r.id,
      contributionId: r.contribution_id,
      curator: r.curator,
      decision: r.decision,
      reason: r.reason,
      reasonHash: r.reason_hash,
      spam: r.spam,
      signature: r.signature,
      createdAt: r.created_at,
    }));
  }

  return { review, auditLog };
}
