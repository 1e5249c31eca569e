/**
 * The DataNet service: everything the node does for DataNets, built from explicit dependencies. The chain is read
 * through sync.ts (on demand and on a timer); writes to the chain are made by users with their own keys (see
 * client.ts), never by the node.
 */
import type { Hex } from 'viem';
import type { ChainClients, Deployment } from '../chain/index.js';
import { BaseError, canonicalJson, type Logger, silentLogger } from '../core/index.js';
import type { BlobStore, Db } from '../store/index.js';
import { type DataNetContext, keyedMutex } from './context.js';
import { createCuration, type ReviewSubmission } from './curation.js';
import { createIngest, type Submission } from './ingest.js';
import { type DataNetMetadata, metadataCommitments, parseMetadata } from './metadata.js';
import { createQueries } from './queries.js';
import { findDataNet } from './records.js';
import { syncRegistry } from './sync.js';
import { createVersions } from './versions.js';
import { createWithdrawal, type WithdrawalRequest } from './withdrawal.js';

export interface DataNetServiceDeps {
  db: Db;
  clients: ChainClients;
  deployment: Deployment;
  blobs: BlobStore;
  log?: Logger;
  now?: () => bigint;
}

export type DataNetService = ReturnType<typeof createDataNetService>;

export function createDataNetService(deps: DataNetServiceDeps) {
  const ctx: DataNetContext = {
    ...deps,
    log: deps.log ?? silentLogger(),
    now: deps.now ?? (() => BigInt(Math.floor(Date.now() / 1000))),
  };
  const serial = keyedMutex();
  const sync = () => serial('sync', () => syncRegistry(ctx));
  const ingest = createIngest(ctx);
  const curation = createCuration(ctx, { sync, onRejected: ingest.forget });
  const versions = createVersions(ctx, { sync });
  const withdraw = createWithdrawal(ctx, { forget: ingest.forget });
  const queries = createQueries(ctx);

  /**
   * Registers the metadata document of a DataNet created on chain. It must hash to the CID, schema hash and
   * license id the chain holds; the node then knows the schema and policy its rows follow.
   */
  async function register(dataNetId: bigint, input: unknown): Promise<DataNetMetadata> {
    const metadata = parseMetadata(input);
    await sync();
    const d = await findDataNet(ctx.db, dataNetId);
    if (!d)
      throw new BaseError('NOT_FOUND', `DataNet ${dataNetId} does not exist on this chain (is its creation mined?)`, {
        details: { dataNetId: dataNetId.toString() },
      });
    const c = metadataCommitments(metadata);
    const mismatch =
      c.metadataCID !== d.metadataCid
        ? ['metadata CID', c.metadataCID, d.metadataCid]
        : c.schemaHash !== d.schemaHash
          ? ['schema hash', c.schemaHash, d.schemaHash]
          : c.licenseId !== d.licenseId
            ? ['license id', c.licenseId, d.licenseId]
            : undefined;
    if (mismatch) {
      throw new BaseError(
        'CONFLICT',
        `Metadata does not match DataNet ${dataNetId} on chain: its ${mismatch[0]} is ${mismatch[1]}, the chain has ${mismatch[2]}`,
        {
          details: { field: mismatch[0], computed: mismatch[1], onChain: mismatch[2] },
        },
      );
    }
    await ctx.blobs.put(canonicalJson(metadata));
    await ctx.db.query('UPDATE datanets SET metadata = $2::jsonb WHERE id = $1', [
      dataNetId.toString(),
      JSON.stringify(metadata),
    ]);
    return metadata;
  }

  return {
    sync,
    register,
    get: queries.get,
    list: queries.list,
    contributions: queries.contributions,
    contribution: queries.contribution,
    content: queries.content,
    submit: (dataNetId: bigint, submissions: Submission[]) =>
      serial(`ingest:${dataNetId}`, () => ingest.submit(dataNetId, submissions)),
    review: (dataNetId: bigint, reviews: ReviewSubmission[]) =>
      serial(`ingest:${dataNetId}`, () => curation.review(dataNetId, reviews)),
    auditLog: curation.auditLog,
    prepareVersion: (dataNetId: bigint) => serial(`ingest:${dataNetId}`, () => versions.prepare(dataNetId)),
    getVersion: versions.getVersion,
    listVersions: versions.listVersions,
    manifest: versions.manifest,
    proof: versions.proof,
    exportVersion: versions.exportVersion,
    withdraw: (id: Hex, request: WithdrawalRequest) => withdraw(id, request),
    /** Keeps the chain mirror fresh in the background; the returned function stops it (after an in-flight pass). */
    startSync(intervalMs = 2000): () => Promise<void> {
      let stopped = false;
      let running: Promise<void> = Promise.resolve();
      const tick = () => {
        if (stopped) return;
        running = sync().then(
          () => undefined,
          (e: unknown) => ctx.log.warn({ err: e }, 'DataNet registry sync failed; retrying'),
        );
        void running.then(() => {
          if (!stopped) timer = setTimeout(tick, intervalMs);
        });
      };
      let timer = setTimeout(tick, 0);
      return async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      };
    },
  };
}
