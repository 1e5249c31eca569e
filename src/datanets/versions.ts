/**
 * Versions: freezing the approved contributions into an immutable, content-addressed manifest and a Merkle root
 * that a curator commits on chain; proofs of inclusion against committed roots; and exports for training.
 *
 * A version is first a draft on this node. It becomes published only when the chain says so (the registry event
 * is mirrored by sync.ts, which publishes the draft whose root matches, in one transaction), so a crash at any
 * point never leaves a half-published version.
 */
import { type Address, getAddress, type Hex } from 'viem';
import { DataNetRegistryArtifact, merkleTree, verifyMerkleProof } from '../chain/index.js';
import { BaseError, canonicalJson } from '../core/index.js';
import {
  jsonObject,
  type Manifest,
  parseManifest,
  VERSION_EXPORT_FORMAT,
  type VersionExportLine,
} from '../protocol/index.js';
import { type DataNetContext, registryOf } from './context.js';
import { textOf } from './normalize.js';
import { getDataNet, latestVersion, storedId } from './records.js';

export type { Manifest, ManifestEntry } from '../protocol/index.js';

export interface VersionInfo {
  dataNetId: bigint;
  version: number;
  status: 'draft' | 'published';
  root: Hex;
  count: number;
  manifestCid: string;
  committedBlock: bigint | null;
  committedTx: Hex | null;
}

type VersionRow = {
  datanet_id: bigint;
  version: number;
  status: 'draft' | 'published';
  root: Hex;
  count: number;
  manifest_cid: string;
  committed_block: bigint | null;
  committed_tx: Hex | null;
};

const toInfo = (r: VersionRow): VersionInfo => ({
  dataNetId: r.datanet_id,
  version: r.version,
  status: r.status,
  root: r.root,
  count: r.count,
  manifestCid: r.manifest_cid,
  committedBlock: r.committed_block,
  committedTx: r.committed_tx,
});

export interface Proof {
  contributionId: Hex;
  dataNetId: string;
  version: number;
  root: Hex;
  contributor: Address;
  contentHash: Hex;
  licenseId: Hex;
  proof: Hex[];
  verifiedOffline: boolean;
  verifiedOnChain: boolean;
}

export function createVersions(ctx: DataNetContext, hooks: { sync(): Promise<unknown> }) {
  const trees = new Map<string, ReturnType<typeof merkleTree>>();

  async function getVersion(dataNetId: bigint, version: number): Promise<VersionInfo> {
    const { rows } = await ctx.db.query<VersionRow>(
      'SELECT * FROM datanet_versions WHERE datanet_id = $1 AND version = $2',
      [dataNetId.toString(), version],
    );
    if (!rows[0]) {
      throw new BaseError('NOT_FOUND', `DataNet ${dataNetId} has no version ${version}`, {
        details: { dataNetId: dataNetId.toString(), version },
      });
    }
    return toInfo(rows[0]);
  }

  async function listVersions(dataNetId: bigint): Promise<VersionInfo[]> {
    const { rows } = await ctx.db.query<VersionRow>(
      'SELECT * FROM datanet_versions WHERE datanet_id = $1 ORDER BY version',
      [dataNetId.toString()],
    );
    return rows.map(toInfo);
  }

  /** Freezes the approved contributions into the next version's draft (replacing an older draft). */
  async function prepare(dataNetId: bigint): Promise<VersionInfo & { manifest: Manifest }> {
    await hooks.sync();
    const dataNet = await getDataNet(ctx.db, dataNetId);
    const previousNumber = await latestVersion(ctx.db, dataNetId);
    const version = previousNumber + 1;
    const { rows } = await ctx.db.query<{
      id: Hex;
      contributor: Address;
      content_hash: Hex;
      cid: string;
      nonce: string;
      deadline: bigint;
      signature: Hex;
    }>(
      `SELECT id, contributor, content_hash, cid, nonce, deadline, signature FROM contributions
       WHERE datanet_id = $1 AND status = 'approved' ORDER BY id`,
      [dataNetId.toString()],
    );
    if (rows.length === 0) {
      throw new BaseError('CONFLICT', `DataNet ${dataNetId} has no approved contributions to publish`, {
        details: { dataNetId: dataNetId.toString() },
      });
    }
    const tree = merkleTree(rows.map((r) => r.id));
    const byId = new Map(rows.map((r) => [r.id, r]));
    let previous: Manifest['previous'] = null;
    let withdrawnSincePrevious: Hex[] = [];
    if (previousNumber > 0) {
      const prev = await getVersion(dataNetId, previousNumber);
      previous = { version: previousNumber, root: prev.root };
      if (prev.root === tree.root) {
        throw new BaseError(
          'CONFLICT',
          `Nothing changed since version ${previousNumber} of DataNet ${dataNetId}: its approved contributions are the same`,
          {
            details: { dataNetId: dataNetId.toString(), version: previousNumber },
          },
        );
      }
      const gone = await ctx.db.query<{ id: Hex }>(
        `SELECT c.id FROM version_members m JOIN contributions c ON c.id = m.contribution_id
         WHERE m.datanet_id = $1 AND m.version = $2 AND c.status = 'withdrawn' ORDER BY c.id`,
        [dataNetId.toString(), previousNumber],
      );
      withdrawnSincePrevious = gone.rows.map((r) => r.id);
    }
    const manifest: Manifest = {
      kind: 'tributary.datanet.version',
      chainId: ctx.deployment.chainId,
      registry: registryOf(ctx),
      dataNetId: dataNetId.toString(),
      version,
      licenseId: dataNet.licenseId,
      schemaHash: dataNet.schemaHash,
      root: tree.root,
      count: rows.length,
      contributions: tree.leaves.map((leaf) => {
        const r = byId.get(leaf);
        if (!r) throw new BaseError('INTERNAL', `Merkle leaf ${leaf} is none of the approved contributions`);
        return {
          id: r.id,
          contributor: r.contributor,
          contentHash: r.content_hash,
          cid: r.cid,
          nonce: r.nonce,
          deadline: r.deadline.toString(),
          signature: r.signature,
        };
      }),
      previous,
      withdrawnSincePrevious,
    };
    const manifestCid = await ctx.blobs.put(canonicalJson(manifest));
    await ctx.db.transaction(async (tx) => {
      await tx.query(`DELETE FROM datanet_versions WHERE datanet_id = $1 AND version = $2 AND status = 'draft'`, [
        dataNetId.toString(),
        version,
      ]);
      await tx.query(
        `INSERT INTO datanet_versions (datanet_id, version, status, root, count, manifest_cid) VALUES ($1, $2, 'draft', $3, $4, $5)`,
        [dataNetId.toString(), version, tree.root, rows.length, manifestCid],
      );
      const ids = tree.leaves;
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        await tx.query(
          `INSERT INTO version_members (datanet_id, version, contribution_id) VALUES ${chunk.map((_, k) => `($1, $2, $${k + 3})`).join(', ')}`,
          [dataNetId.toString(), version, ...chunk],
        );
      }
    });
    return { ...(await getVersion(dataNetId, version)), manifest };
  }

  async function manifest(dataNetId: bigint, version: number): Promise<Manifest> {
    const info = await getVersion(dataNetId, version);
    const bytes = await ctx.blobs.get(info.manifestCid);
    if (!bytes) {
      throw new BaseError(
        'NOT_FOUND',
        `The manifest ${info.manifestCid} of DataNet ${dataNetId} version ${version} is not stored on this node`,
        {
          details: { cid: info.manifestCid },
        },
      );
    }
    return parseManifest(
      new TextDecoder().decode(bytes),
      `The manifest ${info.manifestCid} of DataNet ${dataNetId} version ${version}`,
    );
  }

  async function treeOf(dataNetId: bigint, version: number) {
    const key = `${dataNetId}:${version}`;
    let tree = trees.get(key);
    if (!tree) {
      const { rows } = await ctx.db.query<{ contribution_id: Hex }>(
        'SELECT contribution_id FROM version_members WHERE datanet_id = $1 AND version = $2',
        [dataNetId.toString(), version],
      );
      tree = merkleTree(rows.map((r) => r.contribution_id));
      trees.set(key, tree);
    }
    return tree;
  }

  /** Inclusion proof of a contribution in a published version (the latest containing it by default). */
  async function proof(id: Hex, version?: number): Promise<Proof> {
    const { rows } = await ctx.db.query<{
      datanet_id: bigint;
      contributor: Address;
      content_hash: Hex;
      license_id: Hex;
    }>('SELECT datanet_id, contributor, content_hash, license_id FROM contributions WHERE id = $1', [id.toLowerCase()]);
    const c = rows[0];
    if (!c) throw new BaseError('NOT_FOUND', `No contribution ${id}`, { details: { contributionId: id } });
    const { rows: in_ } = await ctx.db.query<{ version: number }>(
      `SELECT m.version FROM version_members m JOIN datanet_versions v USING (datanet_id, version)
       WHERE m.contribution_id = $1 AND v.status = 'published' ${version ? 'AND m.version = $2' : ''} ORDER BY m.version DESC LIMIT 1`,
      version ? [id.toLowerCase(), version] : [id.toLowerCase()],
    );
    const v = in_[0]?.version;
    if (v === undefined) {
      throw new BaseError(
        'NOT_FOUND',
        version
          ? `Contribution ${id} is not in published version ${version}`
          : `Contribution ${id} is not in any published version yet`,
        {
          details: { contributionId: id, ...(version ? { version } : {}) },
        },
      );
    }
    const info = await getVersion(c.datanet_id, v);
    const tree = await treeOf(c.datanet_id, v);
    const leaf = storedId(id);
    const path = tree.proof(leaf);
    const verifiedOnChain = await ctx.clients.public.readContract({
      address: registryOf(ctx),
      abi: DataNetRegistryArtifact.abi,
      functionName: 'verifyContribution',
      args: [c.datanet_id, BigInt(v), leaf, path],
    });
    return {
      contributionId: leaf,
      dataNetId: c.datanet_id.toString(),
      version: v,
      root: info.root,
      contributor: getAddress(c.contributor),
      contentHash: c.content_hash,
      licenseId: c.license_id,
      proof: path,
      verifiedOffline: verifyMerkleProof(info.root, leaf, path),
      verifiedOnChain,
    };
  }

  /**
   * The rows of a published version as JSON lines (the protocol's `VersionExportLine`), every member in leaf order:
   * live rows with their content and text, withdrawn rows flagged with their withdrawal time and without them. Each
   * line keeps its leaf data (contributor, content hash, license), so the export pins the version: anyone can
   * recompute its Merkle root and compare it with the one committed on chain.
   */
  async function* exportVersion(dataNetId: bigint, version: number): AsyncGenerator<string> {
    const info = await getVersion(dataNetId, version);
    if (info.status !== 'published') {
      throw new BaseError(
        'CONFLICT',
        `Version ${version} of DataNet ${dataNetId} is a draft: commit it on chain before training on it`,
        {
          details: { dataNetId: dataNetId.toString(), version },
        },
      );
    }
    const { rows } = await ctx.db.query<{
      id: Hex;
      contributor: Address;
      content_hash: Hex;
      license_id: Hex;
      cid: string;
      status: string;
      withdrawn_at: Date | null;
      arrival: string | number;
    }>(
      // arrival: the place in the order this node accepted the version's contributions (seq), stated in the export.
      `SELECT c.id, c.contributor, c.content_hash, c.license_id, c.cid, c.status, c.withdrawn_at,
              ROW_NUMBER() OVER (ORDER BY c.seq) AS arrival
       FROM version_members m JOIN contributions c ON c.id = m.contribution_id
       WHERE m.datanet_id = $1 AND m.version = $2 ORDER BY c.id`,
      [dataNetId.toString(), version],
    );
    for (const r of rows) {
      const leaf = {
        exportVersion: VERSION_EXPORT_FORMAT,
        id: r.id,
        contributor: getAddress(r.contributor),
        contentHash: r.content_hash,
        licenseId: r.license_id,
        arrival: Number(r.arrival),
      } as const;
      if (r.status === 'withdrawn') {
        if (!r.withdrawn_at)
          throw new BaseError('INTERNAL', `Contribution ${r.id} is withdrawn but has no withdrawal time`, {
            details: { contributionId: r.id },
          });
        const line: VersionExportLine = { ...leaf, withdrawn: true, withdrawnAt: r.withdrawn_at };
        yield `${JSON.stringify(line)}\n`;
        continue;
      }
      const bytes = await ctx.blobs.get(r.cid);
      // A live row without its content would make the export unpinnable (and attributions differ): refuse.
      if (!bytes)
        throw new BaseError(
          'NOT_FOUND',
          `The content ${r.cid} of contribution ${r.id} (DataNet ${dataNetId} version ${version}) is not stored on this node`,
          { details: { contributionId: r.id, cid: r.cid } },
        );
      const content = jsonObject.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
      if (!content.success)
        throw new BaseError('INTERNAL', `The content ${r.cid} of contribution ${r.id} is not a JSON object`, {
          details: { contributionId: r.id, cid: r.cid },
        });
      const line: VersionExportLine = {
        ...leaf,
        withdrawn: false,
        cid: r.cid,
        content: content.data,
        text: textOf(content.data),
      };
      yield `${JSON.stringify(line)}\n`;
    }
  }

  return { prepare, getVersion, listVersions, manifest, proof, exportVersion };
}
