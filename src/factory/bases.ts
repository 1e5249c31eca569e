/**
 * The base models a node knows: the bundled one, and llama-family GGUFs its operator registered by name
 * (`tributary model base add`). A registered file is stored in the blob store by content; its sha-256 is its
 * identity in lineage, so a fine-tune request may name a base by name, sha-256 or CID and the job records the CID.
 */
import { readFileSync } from 'node:fs';
import { BaseError } from '../core/index.js';
import { artifactHash, type BaseModelDescription, bundledBaseModel, describeBaseModel } from '../engine/index.js';
import type { factoryApi } from '../protocol/index.js';
import type { BlobStore, Db } from '../store/index.js';
import { assertModelName } from './names.js';

export type BaseModelInfo = factoryApi.BaseModelInfo;

function infoOf(
  d: BaseModelDescription,
  at: { name: string; sha256: `0x${string}`; cid: string; bytes: number },
  bundled: boolean,
): BaseModelInfo {
  return {
    ...at,
    params: d.params,
    config: d.config,
    architecture: d.architecture,
    tensorTypes: d.tensorTypes,
    tokenizer: d.tokenizer,
    bundled,
    fineTune: d.fineTune,
    // Every llama-family base is served by llama.cpp (the node loads a registered one on its first request).
    serve: { ok: true },
  };
}

type BaseModelRow = {
  name: string;
  sha256: `0x${string}`;
  cid: string;
  bytes: string | number;
  description: string;
};

export function createBaseModelRegistry(deps: { db: Db; blobs: BlobStore }) {
  let bundled: BaseModelInfo | undefined;

  function bundledInfo(): BaseModelInfo {
    if (!bundled) {
      const bytes = new Uint8Array(readFileSync(bundledBaseModel.path));
      const h = artifactHash(bytes);
      bundled = infoOf(
        describeBaseModel(bytes),
        { name: bundledBaseModel.name, sha256: h.sha256, cid: h.cid, bytes: bytes.length },
        true,
      );
    }
    return bundled;
  }

  async function registered(): Promise<BaseModelInfo[]> {
    const { rows } = await deps.db.query<BaseModelRow>(
      'SELECT name, sha256, cid, bytes, description FROM base_models ORDER BY added_at, name',
    );
    return rows.map((r) =>
      infoOf(
        JSON.parse(r.description) as BaseModelDescription,
        { name: r.name, sha256: r.sha256, cid: r.cid, bytes: Number(r.bytes) },
        false,
      ),
    );
  }

  return {
    bundled: bundledInfo,

    /** The bundled base first, then the registered ones in the order they were added. */
    async list(): Promise<BaseModelInfo[]> {
      return [bundledInfo(), ...(await registered())];
    },

    /**
     * Registers a GGUF under `name`: described from its header (refused unless it is a llama-family base model),
     * then stored by content. The same bytes under the same name again is a no-op; a taken name, or bytes already
     * registered under another name, is a CONFLICT naming the other.
     */
    async add(name: string, bytes: Uint8Array): Promise<BaseModelInfo> {
      assertModelName(name, 'name');
      const description = describeBaseModel(bytes);
      const h = artifactHash(bytes);
      const all = await this.list();
      const sameName = all.find((b) => b.name === name);
      const sameBytes = all.find((b) => b.sha256 === h.sha256);
      if (sameName && sameName === sameBytes) return sameName;
      if (sameName) {
        throw new BaseError('CONFLICT', `A base model named "${name}" is already registered (${sameName.sha256})`, {
          details: { field: 'name', name, sha256: sameName.sha256 },
        });
      }
      if (sameBytes) {
        throw new BaseError('CONFLICT', `This file is already registered as base model "${sameBytes.name}"`, {
          details: { field: 'body', name: sameBytes.name, sha256: h.sha256 },
        });
      }
      const cid = await deps.blobs.put(bytes);
      await deps.db.query(
        'INSERT INTO base_models (name, sha256, cid, bytes, description) VALUES ($1, $2, $3, $4, $5)',
        [name, h.sha256, cid, bytes.length, JSON.stringify(description)],
      );
      return infoOf(description, { name, sha256: h.sha256, cid, bytes: bytes.length }, false);
    },

    /** A base by name, sha-256 or CID (the bundled one when `ref` is undefined); NOT_FOUND lists the names known. */
    async resolve(ref: string | undefined): Promise<BaseModelInfo> {
      const all = await this.list();
      const found = ref === undefined ? all[0] : all.find((b) => b.name === ref || b.sha256 === ref || b.cid === ref);
      if (!found) {
        throw new BaseError(
          'NOT_FOUND',
          `Unknown base model "${ref}": known are ${all.map((b) => b.name).join(', ')} (register one with tributary model base add)`,
          { details: { field: 'baseModel', known: all.map((b) => b.name) } },
        );
      }
      return found;
    },
  };
}

export type BaseModelRegistry = ReturnType<typeof createBaseModelRegistry>;
