/** Reading DataNets from the store, with their registered metadata. */
import type { Address, Hex } from 'viem';
import { BaseError } from '../core/index.js';
import type { Queryable } from '../store/index.js';
import type { DataNetMetadata } from './metadata.js';

export interface DataNetRecord {
  id: bigint;
  owner: Address;
  treasury: Address;
  metadataCid: string;
  metadata: DataNetMetadata | null;
  schemaHash: Hex;
  licenseId: Hex;
  bondAmount: bigint;
  forfeitBps: number;
  createdBlock: bigint;
}

type Row = {
  id: bigint;
  owner: Address;
  treasury: Address;
  metadata_cid: string;
  metadata: DataNetMetadata | null;
  schema_hash: Hex;
  license_id: Hex;
  bond_amount: string;
  forfeit_bps: number;
  created_block: bigint;
};

const fromRow = (r: Row): DataNetRecord => ({
  id: r.id,
  owner: r.owner,
  treasury: r.treasury,
  metadataCid: r.metadata_cid,
  metadata: r.metadata,
  schemaHash: r.schema_hash,
  licenseId: r.license_id,
  bondAmount: BigInt(r.bond_amount),
  forfeitBps: r.forfeit_bps,
  createdBlock: r.created_block,
});

export async function findDataNet(db: Queryable, id: bigint): Promise<DataNetRecord | undefined> {
  const { rows } = await db.query<Row>('SELECT * FROM datanets WHERE id = $1', [id.toString()]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listDataNets(db: Queryable): Promise<DataNetRecord[]> {
  const { rows } = await db.query<Row>('SELECT * FROM datanets ORDER BY id');
  return rows.map(fromRow);
}

/** A contribution id as the store keeps it (and as ids are compared): lower case. */
export function storedId(id: Hex): Hex {
  return `0x${id.slice(2).toLowerCase()}`;
}

/** The DataNet, or NOT_FOUND. */
export async function getDataNet(db: Queryable, id: bigint): Promise<DataNetRecord> {
  const d = await findDataNet(db, id);
  if (!d)
    throw new BaseError('NOT_FOUND', `DataNet ${id} does not exist on this chain`, {
      details: { dataNetId: id.toString() },
    });
  return d;
}

/** The DataNet with its metadata; NOT_FOUND or CONFLICT (metadata not registered yet) otherwise. */
export function requireMetadata(d: DataNetRecord): DataNetRecord & { metadata: DataNetMetadata } {
  const { metadata } = d;
  if (!metadata) {
    throw new BaseError(
      'CONFLICT',
      `DataNet ${d.id} has no registered metadata document (CID ${d.metadataCid}); register it with POST /v1/datanets`,
      {
        details: { dataNetId: d.id.toString(), metadataCid: d.metadataCid },
      },
    );
  }
  return { ...d, metadata };
}

export async function isCuratorOf(db: Queryable, d: DataNetRecord, account: Address): Promise<boolean> {
  if (d.owner.toLowerCase() === account.toLowerCase()) return true;
  const { rows } = await db.query(
    'SELECT 1 FROM datanet_curators WHERE datanet_id = $1 AND lower(account) = lower($2)',
    [d.id.toString(), account],
  );
  return rows.length > 0;
}

/** Highest published version number (0 if none). */
export async function latestVersion(db: Queryable, id: bigint): Promise<number> {
  const { rows } = await db.query<{ v: number | null }>(
    `SELECT max(version) AS v FROM datanet_versions WHERE datanet_id = $1 AND status = 'published'`,
    [id.toString()],
  );
  return rows[0]?.v ?? 0;
}
