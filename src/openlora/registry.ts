/**
 * The node's view of ModelRegistry: every registered model with its owner, prices, active flag and versions
 * (adapter hash and lineage), mirrored from the registry's events. Each batch of events is applied in one
 * transaction with its cursor, so a crash repeats a batch and never skips one. Serving resolves a request's
 * `model` (id or name) here; the adapter's hash is what its file must hash to before it is loaded.
 */
import type { Address, Hex } from 'viem';
import { type ChainClients, type Deployment, ModelRegistryArtifact } from '../chain/index.js';
import { BaseError } from '../core/index.js';
import type { Db, Queryable } from '../store/index.js';

const CURSOR = 'ModelRegistry';
const MAX_RANGE = 5_000n;

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

type Event = { eventName: string; args: Record<string, unknown>; blockNumber: bigint };

const ZERO = `0x${'00'.repeat(32)}`;

export function createModelRegistryMirror(db: Db, clients: ChainClients, deployment: Deployment) {
  let running: Promise<number> | undefined;

  async function apply(tx: Queryable, e: Event): Promise<void> {
    const a = e.args;
    const id = (a.modelId as bigint).toString();
    switch (e.eventName) {
      case 'ModelRegistered':
        await tx.query(
          `INSERT INTO models (id, name, owner, base_model_hash, price_in, price_out, registered_block) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (id) DO NOTHING`,
          [
            id,
            a.name,
            a.owner,
            a.baseModelHash,
            (a.priceInPer1k as bigint).toString(),
            (a.priceOutPer1k as bigint).toString(),
            e.blockNumber.toString(),
          ],
        );
        return;
      case 'ModelVersionPublished': {
        const dataNetId = a.dataNetId as bigint;
        await tx.query(
          `INSERT INTO model_versions (model_id, version, adapter_hash, datanet_id, datanet_version, datanet_root, config_hash, receipt_cid, published_block)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [
            id,
            Number(a.version as bigint),
            a.adapterHash,
            dataNetId === 0n ? null : dataNetId.toString(),
            dataNetId === 0n ? null : Number(a.dataNetVersion as bigint),
            dataNetId === 0n ? null : a.dataNetRoot,
            a.configHash,
            a.receiptCID,
            e.blockNumber.toString(),
          ],
        );
        return;
      }
      case 'PricesUpdated':
        await tx.query('UPDATE models SET price_in = $2, price_out = $3 WHERE id = $1', [
          id,
          (a.priceInPer1k as bigint).toString(),
          (a.priceOutPer1k as bigint).toString(),
        ]);
        return;
      case 'ActiveChanged':
        await tx.query('UPDATE models SET active = $2 WHERE id = $1', [id, a.active]);
        return;
      case 'ModelOwnershipTransferred':
        await tx.query('UPDATE models SET owner = $2 WHERE id = $1', [id, a.newOwner]);
        return;
      default:
        return;
    }
  }

  async function syncOnce(): Promise<number> {
    const { rows } = await db.query<{ block: bigint }>('SELECT block FROM chain_cursors WHERE name = $1', [CURSOR]);
    let from = (rows[0]?.block ?? BigInt(deployment.block) - 1n) + 1n;
    // No cache: a model registered a moment ago must be seen.
    const latest = await clients.public.getBlockNumber({ cacheTime: 0 });
    let applied = 0;
    while (from <= latest) {
      const to = from + MAX_RANGE - 1n < latest ? from + MAX_RANGE - 1n : latest;
      const events = (await clients.public.getContractEvents({
        address: deployment.contracts.ModelRegistry,
        abi: ModelRegistryArtifact.abi,
        fromBlock: from,
        toBlock: to,
      })) as unknown as Event[];
      await db.transaction(async (tx) => {
        for (const e of events) await apply(tx, e);
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

  /** Reads new registry events; concurrent calls share one pass. */
  function sync(): Promise<number> {
    running ??= syncOnce().finally(() => {
      running = undefined;
    });
    return running;
  }

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
