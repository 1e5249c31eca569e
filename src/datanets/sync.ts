/**
 * Mirrors the DataNetRegistry's events into the database: DataNets, owners, curators and committed versions.
 * The chain is the source of truth; each batch of events is applied in one transaction together with the cursor,
 * so a crash mid-sync repeats the batch (every step is an upsert) and never skips or doubles one. A committed
 * version whose root matches the node's draft publishes that draft (members, manifest) in the same transaction.
 */
import type { Hex } from 'viem';
import { DataNetRegistryArtifact } from '../chain/index.js';
import type { Queryable } from '../store/index.js';
import { type DataNetContext, registryOf } from './context.js';

const CURSOR = 'DataNetRegistry';
const MAX_RANGE = 5_000n;

async function cursorOf(ctx: DataNetContext): Promise<bigint> {
  const { rows } = await ctx.db.query<{ block: bigint }>('SELECT block FROM chain_cursors WHERE name = $1', [CURSOR]);
  return rows[0]?.block ?? BigInt(ctx.deployment.block) - 1n;
}

type RegistryEvent = { eventName: string; args: Record<string, unknown>; blockNumber: bigint; transactionHash: Hex };

/** Applies all registry events up to the latest block; returns how many it applied. */
export async function syncRegistry(ctx: DataNetContext): Promise<number> {
  let from = (await cursorOf(ctx)) + 1n;
  // No cache: a transaction mined a moment ago must be seen (viem caches the head for its polling interval).
  const latest = await ctx.clients.public.getBlockNumber({ cacheTime: 0 });
  let applied = 0;
  while (from <= latest) {
    const to = from + MAX_RANGE - 1n < latest ? from + MAX_RANGE - 1n : latest;
    const events = (await ctx.clients.public.getContractEvents({
      address: registryOf(ctx),
      abi: DataNetRegistryArtifact.abi,
      fromBlock: from,
      toBlock: to,
    })) as unknown as RegistryEvent[];
    await ctx.db.transaction(async (tx) => {
      for (const e of events) await apply(ctx, tx, e);
      await tx.query(
        `INSERT INTO chain_cursors (name, block) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET block = EXCLUDED.block`,
        [CURSOR, to.toString()],
      );
    });
    applied += events.length;
    from = to + 1n;
  }
  return applied;
}

async function apply(ctx: DataNetContext, tx: Queryable, e: RegistryEvent): Promise<void> {
  const a = e.args;
  const id = (a.dataNetId as bigint).toString();
  switch (e.eventName) {
    case 'DataNetCreated':
      await tx.query(
        `INSERT INTO datanets (id, owner, treasury, metadata_cid, schema_hash, license_id, bond_amount, forfeit_bps, created_block)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
        [
          id,
          a.owner,
          a.treasury,
          a.metadataCID,
          a.schemaHash,
          a.licenseId,
          (a.bondAmount as bigint).toString(),
          a.forfeitBps,
          e.blockNumber.toString(),
        ],
      );
      return;
    case 'MetadataUpdated':
      // The registered document no longer describes the DataNet until the new one is registered.
      await tx.query(
        `UPDATE datanets SET metadata_cid = $2, metadata = CASE WHEN metadata_cid = $2 THEN metadata ELSE NULL END WHERE id = $1`,
        [id, a.metadataCID],
      );
      return;
    case 'OwnershipTransferred':
      await tx.query('UPDATE datanets SET owner = $2 WHERE id = $1', [id, a.newOwner]);
      return;
    case 'CuratorAdded':
      await tx.query('INSERT INTO datanet_curators (datanet_id, account) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        id,
        a.account,
      ]);
      return;
    case 'CuratorRemoved':
      await tx.query('DELETE FROM datanet_curators WHERE datanet_id = $1 AND account = $2', [id, a.account]);
      return;
    case 'VersionCommitted':
      await publish(ctx, tx, e);
      return;
    default:
      // Bond events need no mirror: bonds are read from the contract when they matter.
      return;
  }
}

async function publish(ctx: DataNetContext, tx: Queryable, e: RegistryEvent): Promise<void> {
  const a = e.args;
  const id = (a.dataNetId as bigint).toString();
  const version = Number(a.version as bigint);
  const root = (a.root as Hex).toLowerCase();
  const { rows } = await tx.query<{ status: string; root: string }>(
    'SELECT status, root FROM datanet_versions WHERE datanet_id = $1 AND version = $2',
    [id, version],
  );
  const existing = rows[0];
  if (existing?.status === 'published') return;
  if (existing && existing.root === root) {
    await tx.query(
      `UPDATE datanet_versions SET status = 'published', committed_block = $3, committed_tx = $4, published_at = now()
       WHERE datanet_id = $1 AND version = $2`,
      [id, version, e.blockNumber.toString(), e.transactionHash],
    );
    ctx.log.info({ dataNetId: id, version, root }, 'version published');
    return;
  }
  // A commit this node did not prepare (another node's, or a changed draft): record it without members.
  await tx.query('DELETE FROM datanet_versions WHERE datanet_id = $1 AND version = $2', [id, version]);
  await tx.query(
    `INSERT INTO datanet_versions (datanet_id, version, status, root, count, manifest_cid, committed_block, committed_tx, published_at)
     VALUES ($1, $2, 'published', $3, $4, $5, $6, $7, now())`,
    [id, version, root, Number(a.count as bigint), a.manifestCID, e.blockNumber.toString(), e.transactionHash],
  );
  ctx.log.warn({ dataNetId: id, version, root }, 'version committed on chain without a matching draft on this node');
}
