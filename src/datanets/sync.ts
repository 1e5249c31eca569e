/**
 * Mirrors the DataNetRegistry's events into the database: DataNets, owners, curators and committed versions,
 * through the chain-event mirror (src/chain): each batch of events is applied in one transaction together with the
 * cursor, so a crash mid-sync repeats the batch (every step is an upsert) and never skips or doubles one. A
 * committed version whose root matches the node's draft publishes that draft (members, manifest) in the same
 * transaction.
 *
 * When the chain replaces mirrored blocks, the rollback (in one transaction) leaves the node's own records —
 * contributions, reviews, drafts and their members, registered metadata documents — and undoes the chain's view
 * above the common ancestor: versions committed above it go back to drafts (this node's) or are forgotten (others');
 * DataNets created above it are forgotten unless the node's records refer to them (then they are kept, reported,
 * and overwritten if the new blocks create them again); curators and each DataNet's owner and metadata CID are
 * re-derived from the registry's events up to the ancestor.
 */
import {
  type ChainClients,
  type ContractName,
  contractStream,
  createEventMirror,
  DataNetRegistryArtifact,
  type Deployment,
  type EventMirror,
  eachLog,
  type MirrorLog,
} from '../chain/index.js';
import { type Logger, silentLogger } from '../core/index.js';
import { chainCursorStore, type Db, type Queryable } from '../store/index.js';
import type { DataNetContext } from './context.js';

const CURSOR = 'DataNetRegistry' satisfies ContractName;

/** The registry events the mirror applies; bond events need no mirror: bonds are read from the contract. */
const MIRRORED = [
  'DataNetCreated',
  'MetadataUpdated',
  'OwnershipTransferred',
  'CuratorAdded',
  'CuratorRemoved',
  'VersionCommitted',
] as const;

type RegistryLog = MirrorLog<typeof DataNetRegistryArtifact.abi, (typeof MIRRORED)[number]>;

interface MirrorDeps {
  db: Db;
  clients: ChainClients;
  deployment: Deployment;
  log: Logger;
}

const mirrors = new WeakMap<DataNetContext, EventMirror>();

/** Applies all registry events up to the latest block (rolling back replaced blocks first); returns how many it applied. */
export function syncRegistry(ctx: DataNetContext): Promise<number> {
  let mirror = mirrors.get(ctx);
  if (!mirror) {
    mirror = registryMirror(ctx);
    mirrors.set(ctx, mirror);
  }
  return mirror.sync();
}

/** The DataNetRegistry mirror over a node's database (its status; the DataNet service runs its own syncs). */
export function dataNetRegistryMirror(deps: {
  db: Db;
  clients: ChainClients;
  deployment: Deployment;
  log?: Logger;
}): EventMirror {
  return registryMirror({ ...deps, log: deps.log ?? silentLogger() });
}

function registryMirror(deps: MirrorDeps): EventMirror {
  return createEventMirror({
    ...contractStream(deps.deployment, CURSOR, DataNetRegistryArtifact.abi),
    client: deps.clients.public,
    eventNames: MIRRORED,
    store: chainCursorStore(deps.db, CURSOR),
    log: deps.log,
    apply: eachLog((tx: Queryable, e: RegistryLog) => apply(deps, tx, e)),
    rollback: (tx, r) => rollback(deps, tx, r.ancestor, r.replay),
  });
}

async function apply(deps: MirrorDeps, tx: Queryable, e: RegistryLog): Promise<void> {
  switch (e.eventName) {
    case 'DataNetCreated': {
      const a = e.args;
      // An upsert of every field the chain sets: a rollback re-derives existing rows from their creation on.
      await tx.query(
        `INSERT INTO datanets (id, owner, treasury, metadata_cid, schema_hash, license_id, bond_amount, forfeit_bps, created_block)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, treasury = EXCLUDED.treasury,
           metadata_cid = EXCLUDED.metadata_cid,
           metadata = CASE WHEN datanets.metadata_cid = EXCLUDED.metadata_cid THEN datanets.metadata ELSE NULL END,
           schema_hash = EXCLUDED.schema_hash, license_id = EXCLUDED.license_id, bond_amount = EXCLUDED.bond_amount,
           forfeit_bps = EXCLUDED.forfeit_bps, created_block = EXCLUDED.created_block`,
        [
          a.dataNetId.toString(),
          a.owner,
          a.treasury,
          a.metadataCID,
          a.schemaHash,
          a.licenseId,
          a.bondAmount.toString(),
          a.forfeitBps,
          e.blockNumber.toString(),
        ],
      );
      return;
    }
    case 'MetadataUpdated':
      // The registered document no longer describes the DataNet until the new one is registered.
      await tx.query(
        `UPDATE datanets SET metadata_cid = $2, metadata = CASE WHEN metadata_cid = $2 THEN metadata ELSE NULL END WHERE id = $1`,
        [e.args.dataNetId.toString(), e.args.metadataCID],
      );
      return;
    case 'OwnershipTransferred':
      await tx.query('UPDATE datanets SET owner = $2 WHERE id = $1', [e.args.dataNetId.toString(), e.args.newOwner]);
      return;
    case 'CuratorAdded':
      await tx.query('INSERT INTO datanet_curators (datanet_id, account) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        e.args.dataNetId.toString(),
        e.args.account,
      ]);
      return;
    case 'CuratorRemoved':
      await tx.query('DELETE FROM datanet_curators WHERE datanet_id = $1 AND account = $2', [
        e.args.dataNetId.toString(),
        e.args.account,
      ]);
      return;
    case 'VersionCommitted':
      await publish(deps, tx, e);
      return;
  }
}

async function publish(
  deps: MirrorDeps,
  tx: Queryable,
  e: Extract<RegistryLog, { eventName: 'VersionCommitted' }>,
): Promise<void> {
  const id = e.args.dataNetId.toString();
  const version = Number(e.args.version);
  const root = e.args.root.toLowerCase();
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
    deps.log.info({ dataNetId: id, version, root }, 'version published');
    return;
  }
  // A commit this node did not prepare (another node's, or a changed draft): record it without members.
  await tx.query('DELETE FROM datanet_versions WHERE datanet_id = $1 AND version = $2', [id, version]);
  await tx.query(
    `INSERT INTO datanet_versions (datanet_id, version, status, root, count, manifest_cid, committed_block, committed_tx, published_at)
     VALUES ($1, $2, 'published', $3, $4, $5, $6, $7, now())`,
    [id, version, root, Number(e.args.count), e.args.manifestCID, e.blockNumber.toString(), e.transactionHash],
  );
  deps.log.warn({ dataNetId: id, version, root }, 'version committed on chain without a matching draft on this node');
}

/** Leaves the chain's view as it was after block `ancestor` (see the header); the node's own records stay. */
async function rollback(
  deps: MirrorDeps,
  tx: Queryable,
  ancestor: bigint,
  replay: () => Promise<number>,
): Promise<void> {
  const above = [ancestor.toString()];
  // Versions committed above the ancestor: this node's (they have members) become drafts again, others' go.
  await tx.query(
    `DELETE FROM datanet_versions v WHERE v.status = 'published' AND v.committed_block > $1
       AND NOT EXISTS (SELECT 1 FROM version_members m WHERE m.datanet_id = v.datanet_id AND m.version = v.version)`,
    above,
  );
  await tx.query(
    `UPDATE datanet_versions SET status = 'draft', committed_block = NULL, committed_tx = NULL, published_at = NULL
     WHERE status = 'published' AND committed_block > $1`,
    above,
  );
  // Curators are re-derived from their events up to the ancestor.
  await tx.query('DELETE FROM datanet_curators');
  // DataNets created above the ancestor: forgotten, unless the node's own records refer to them.
  await tx.query(
    `DELETE FROM datanets d WHERE d.created_block > $1
       AND NOT EXISTS (SELECT 1 FROM contributions c WHERE c.datanet_id = d.id)
       AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.datanet_id = d.id)
       AND NOT EXISTS (SELECT 1 FROM datanet_versions v WHERE v.datanet_id = d.id)`,
    above,
  );
  const kept = await tx.query<{ id: bigint }>('SELECT id FROM datanets WHERE created_block > $1 ORDER BY id', above);
  if (kept.rows.length > 0) {
    deps.log.warn(
      { dataNets: kept.rows.map((r) => r.id.toString()), ancestor: ancestor.toString() },
      'DataNets whose creation the chain dropped are kept for the contributions the node holds for them',
    );
  }
  // Owners and metadata CIDs are re-derived by replaying the events; a registered document whose CID is still
  // the DataNet's afterwards is kept.
  const documents = await tx.query<{ id: bigint; metadata_cid: string; metadata: unknown }>(
    'SELECT id, metadata_cid, metadata FROM datanets WHERE metadata IS NOT NULL',
  );
  await replay();
  for (const d of documents.rows) {
    await tx.query('UPDATE datanets SET metadata = $3::jsonb WHERE id = $1 AND metadata_cid = $2', [
      d.id.toString(),
      d.metadata_cid,
      JSON.stringify(d.metadata),
    ]);
  }
}
