/** Read models: DataNet summaries, the review queue, one contribution and its content. */
import type { Address, Hex } from 'viem';
import { BaseError } from '../core/index.js';
import type { DataNetContext } from './context.js';
import { isJsonObject } from './parse.js';
import { type DataNetRecord, getDataNet, listDataNets } from './records.js';

export interface DataNetSummary extends DataNetRecord {
  curators: Address[];
  counts: Record<'pending' | 'approved' | 'rejected' | 'withdrawn', number>;
  latestVersion: number;
}

export interface ContributionView {
  id: Hex;
  dataNetId: bigint;
  contributor: Address;
  contentHash: Hex;
  cid: string;
  licenseId: Hex;
  /** The contributor's EIP-712 Contribution signature and the nonce and deadline it signed: what a curator hands
   * to DataNetRegistry.forfeitBond to forfeit part of the bond for this contribution. */
  nonce: bigint;
  deadline: bigint;
  signature: Hex;
  status: 'pending' | 'approved' | 'rejected' | 'withdrawn';
  bytes: number;
  redacted: Record<string, number>;
  source: string | null;
  createdAt: Date;
  withdrawnAt: Date | null;
  /** Published versions whose root includes it. */
  versions: number[];
  absentFromVersion: number | null;
}

type ContributionRow = {
  id: Hex;
  datanet_id: bigint;
  contributor: Address;
  content_hash: Hex;
  cid: string;
  license_id: Hex;
  nonce: string | bigint;
  deadline: string | bigint;
  signature: Hex;
  status: ContributionView['status'];
  bytes: number;
  redacted: Record<string, number>;
  source: string | null;
  created_at: Date;
  withdrawn_at: Date | null;
  absent_from_version: number | null;
  versions: number[] | null;
};

const COLUMNS = `c.id, c.datanet_id, c.contributor, c.content_hash, c.cid, c.license_id, c.nonce, c.deadline, c.signature, c.status, c.bytes, c.redacted, c.source, c.created_at,
  c.withdrawn_at, c.absent_from_version,
  (SELECT array_agg(m.version ORDER BY m.version) FROM version_members m JOIN datanet_versions v USING (datanet_id, version)
   WHERE m.contribution_id = c.id AND v.status = 'published') AS versions`;

const toView = (r: ContributionRow): ContributionView => ({
  id: r.id,
  dataNetId: r.datanet_id,
  contributor: r.contributor,
  contentHash: r.content_hash,
  cid: r.cid,
  licenseId: r.license_id,
  nonce: BigInt(r.nonce),
  deadline: BigInt(r.deadline),
  signature: r.signature,
  status: r.status,
  bytes: r.bytes,
  redacted: r.redacted,
  source: r.source,
  createdAt: r.created_at,
  withdrawnAt: r.withdrawn_at,
  versions: r.versions ?? [],
  absentFromVersion: r.absent_from_version,
});

export function createQueries(ctx: DataNetContext) {
  async function summary(d: DataNetRecord): Promise<DataNetSummary> {
    const id = d.id.toString();
    const [curators, counts, latest] = await Promise.all([
      ctx.db.query<{ account: Address }>(
        'SELECT account FROM datanet_curators WHERE datanet_id = $1 ORDER BY account',
        [id],
      ),
      ctx.db.query<{ status: keyof DataNetSummary['counts']; n: bigint }>(
        'SELECT status, count(*) AS n FROM contributions WHERE datanet_id = $1 GROUP BY status',
        [id],
      ),
      ctx.db.query<{ v: number | null }>(
        `SELECT max(version) AS v FROM datanet_versions WHERE datanet_id = $1 AND status = 'published'`,
        [id],
      ),
    ]);
    const c = { pending: 0, approved: 0, rejected: 0, withdrawn: 0 };
    for (const r of counts.rows) c[r.status] = Number(r.n);
    return { ...d, curators: curators.rows.map((r) => r.account), counts: c, latestVersion: latest.rows[0]?.v ?? 0 };
  }

  return {
    async get(id: bigint): Promise<DataNetSummary> {
      return summary(await getDataNet(ctx.db, id));
    },
    async list(): Promise<DataNetSummary[]> {
      return Promise.all((await listDataNets(ctx.db)).map(summary));
    },
    /** Contributions of a DataNet in ingest order (the review queue with status=pending). */
    async contributions(
      dataNetId: bigint,
      options: {
        status?: ContributionView['status'] | undefined;
        after?: bigint | undefined;
        limit?: number | undefined;
      },
    ) {
      await getDataNet(ctx.db, dataNetId);
      const { rows } = await ctx.db.query<ContributionRow & { seq: bigint }>(
        `SELECT c.seq, ${COLUMNS} FROM contributions c WHERE c.datanet_id = $1 AND ($2::text IS NULL OR c.status = $2) AND c.seq > $3 ORDER BY c.seq LIMIT $4`,
        [dataNetId.toString(), options.status ?? null, (options.after ?? 0n).toString(), options.limit ?? 100],
      );
      return { items: rows.map(toView), next: rows.at(-1)?.seq ?? null };
    },
    async contribution(id: Hex): Promise<ContributionView> {
      const { rows } = await ctx.db.query<ContributionRow>(`SELECT ${COLUMNS} FROM contributions c WHERE c.id = $1`, [
        id.toLowerCase(),
      ]);
      if (!rows[0]) throw new BaseError('NOT_FOUND', `No contribution ${id}`, { details: { contributionId: id } });
      return toView(rows[0]);
    },
    /** The stored content of a live contribution; GONE-like CONFLICT once withdrawn. */
    async content(id: Hex): Promise<Record<string, unknown>> {
      const { rows } = await ctx.db.query<{ cid: string; status: string }>(
        'SELECT cid, status FROM contributions WHERE id = $1',
        [id.toLowerCase()],
      );
      const c = rows[0];
      if (!c) throw new BaseError('NOT_FOUND', `No contribution ${id}`, { details: { contributionId: id } });
      if (c.status === 'withdrawn')
        throw new BaseError('NOT_FOUND', `Contribution ${id} was withdrawn and its content deleted`, {
          details: { contributionId: id },
        });
      const bytes = await ctx.blobs.get(c.cid);
      if (!bytes)
        throw new BaseError('NOT_FOUND', `Content ${c.cid} of contribution ${id} is not stored on this node`, {
          details: { cid: c.cid },
        });
      const content: unknown = JSON.parse(new TextDecoder().decode(bytes));
      if (!isJsonObject(content))
        throw new BaseError('INTERNAL', `Content ${c.cid} of contribution ${id} is not a JSON object`, {
          details: { cid: c.cid },
        });
      return content;
    },
  };
}
