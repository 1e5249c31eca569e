/**
 * The node's view of ModelRegistry: every registered model with its owner, prices, active flag and versions
 * (adapter hash and lineage), mirrored from the registry's events by the chain-event mirror (src/chain): each
 * batch of events is applied in one transaction with its cursor, so a crash repeats a batch and never skips one;
 * when the chain replaces mirrored blocks, the tables are re-derived from the events up to the common ancestor
 * (they hold nothing but the chain's view, so clearing them loses nothing). Serving resolves a request's
 * `model` (id or name) here; the adapter's hash is what its file must hash to before it is loaded.
 */
import type { Address, Hex } from 'viem';
import {
  type ChainClients,
  type ContractName,
  contractStream,
  createEventMirror,
  type Deployment,
  eachLog,
  type MirrorLog,
  ModelRegistryArtifact,
} from '../chain/index.js';
import { BaseError, type Logger } from '../core/index.js';
import { chainCursorStore, type Db, type Queryable } from '../store/index.js';

const CURSOR = 'ModelRegistry' satisfies ContractName;

export interface ModelVersionRecord {
  version: number;
  adapterHash: Hex;
  dataNetId: bigint | null;
  dataNetVersion: number | null;
  dataNetRoot: Hex | null;
  configHash: Hex;
  receiptCid: string;
}

export interface ModelRecord {
  id: bigint;
  name: string;
  owner: Address;
  baseModelHash: Hex;
  priceInPer1k: bigint;
  priceOutPer1k: bigint;
  active: boolean;
  latest: ModelVersionRecord;
}

const ZERO = `0x${'00'.repeat(32)}`;

type RegistryLog = MirrorLog<typeof ModelRegistryArtifact.abi>;

export function createModelRegistryMirror(db: Db, clients: ChainClients, deployment: Deployment, log?: Logger) {
  async function apply(tx: Queryable, e: RegistryLog): Promise<void> {
    switch (e.eventName) {
      case 'ModelRegistered': {
        const a = e.args;
        await tx.query(
          `INSERT INTO models (id, name, owner, base_model_hash, price_in, price_out, registered_block) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (id) DO NOTHING`,
          [
            a.modelId.toString(),
            a.name,
            a.owner,
            a.baseModelHash,
            a.priceInPer1k.toString(),
            a.priceOutPer1k.toString(),
            e.blockNumber.toString(),
          ],
        );
        return;
      }
      case 'ModelVersionPublished': {
        const a = e.args;
        const none = a.dataNetId === 0n;
        await tx.query(
          `INSERT INTO model_versions (model_id, version, adapter_hash, datanet_id, datanet_version, datanet_root, config_hash, receipt_cid, published_block)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [
            a.modelId.toString(),
            Number(a.version),
            a.adapterHash,
            none ? null : a.dataNetId.toString(),
            none ? null : Number(a.dataNetVersion),
            none ? null : a.dataNetRoot,
            a.configHash,
            a.receiptCID,
            e.blockNumber.toString(),
          ],
        );
        return;
      }
      case 'PricesUpdated':
        await tx.query('UPDATE models SET price_in = $2, price_out = $3 WHERE id = $1', [
          e.args.modelId.toString(),
          e.args.priceInPer1k.toString(),
          e.args.priceOutPer1k.toString(),
        ]);
        return;
      case 'ActiveChanged':
        await tx.query('UPDATE models SET active = $2 WHERE id = $1', [e.args.modelId.toString(), e.args.active]);
        return;
      case 'ModelOwnershipTransferred':
        await tx.query('UPDATE models SET owner = $2 WHERE id = $1', [e.args.modelId.toString(), e.args.newOwner]);
        return;
      default:
        return;
    }
  }

  const mirror = createEventMirror({
    ...contractStream(deployment, CURSOR, ModelRegistryArtifact.abi),
    client: clients.public,
    store: chainCursorStore(db, CURSOR),
    ...(log ? { log } : {}),
    apply: eachLog(apply),
    // The tables are a pure mirror (nothing of the node's own lives in them): re-derived from the chain's events.
    async rollback(tx, r) {
      await tx.query('DELETE FROM model_versions');
      await tx.query('DELETE FROM models');
      await r.replay();
    },
  });

  /** Reads new registry events (rolling back replaced blocks first); concurrent calls share one pass. */
  const sync = (): Promise<number> => mirror.sync();

  type Row = {
    id: bigint;
    name: string;
    owner: Address;
    base_model_hash: Hex;
    price_in: string;
    price_out: string;
    active: boolean;
    version: number;
    adapter_hash: Hex;
    datanet_id: bigint | null;
    datanet_version: number | null;
    datanet_root: Hex | null;
    config_hash: Hex;
    receipt_cid: string;
  };
  const SELECT = `SELECT m.id, m.name, m.owner, m.base_model_hash, m.price_in, m.price_out, m.active,
      v.version, v.adapter_hash, v.datanet_id, v.datanet_version, v.datanet_root, v.config_hash, v.receipt_cid
    FROM models m JOIN model_versions v ON v.model_id = m.id
    WHERE v.version = (SELECT max(version) FROM model_versions WHERE model_id = m.id)`;
  const toRecord = (r: Row): ModelRecord => ({
    id: r.id,
    name: r.name,
    owner: r.owner,
    baseModelHash: r.base_model_hash,
    priceInPer1k: BigInt(r.price_in),
    priceOutPer1k: BigInt(r.price_out),
    active: r.active,
    latest: {
      version: r.version,
      adapterHash: r.adapter_hash,
      dataNetId: r.datanet_id,
      dataNetVersion: r.datanet_version,
      dataNetRoot: r.datanet_root === ZERO ? null : r.datanet_root,
      configHash: r.config_hash,
      receiptCid: r.receipt_cid,
    },
  });

  return {
    sync,
    /** Where the mirror stands (last applied block and hash). */
    status: () => mirror.status(),
    async list(): Promise<ModelRecord[]> {
      const { rows } = await db.query<Row>(`${SELECT} ORDER BY m.id`);
      return rows.map(toRecord);
    },
    /** The model called `ref` (its id or its name); NOT_FOUND otherwise, after one look at the chain. */
    async resolve(ref: string): Promise<ModelRecord> {
      const find = async () => {
        const byId = /^\d+$/.test(ref);
        const { rows } = await db.query<Row>(`${SELECT} AND ${byId ? 'm.id = $1' : 'm.name = $1'}`, [ref]);
        return rows[0] ? toRecord(rows[0]) : undefined;
      };
      const found = (await find()) ?? ((await sync()) > 0 ? await find() : undefined);
      if (!found)
        throw new BaseError('NOT_FOUND', `No model "${ref}" is registered on chain ${deployment.chainId}`, {
          details: { model: ref },
        });
      return found;
    },
  };
}

export type ModelRegistryMirror = ReturnType<typeof createModelRegistryMirror>;
