/**
 * `tributary up`: chain (local anvil or --rpc) + deployment, database (PGlite or Postgres) bound to that
 * deployment, and the HTTP API, started in that order and stopped in reverse.
 */

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Address, LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  type ChainUp,
  chainUp,
  configuredBeneficiaries,
  type Deployment,
  deploymentPath,
  devAccount,
  devRoles,
  type MirrorStatus,
} from '../chain/index.js';
import { BaseError, type Config, type Logger } from '../core/index.js';
import { createDataNetService, type DataNetService, dataNetRegistryMirror, dataNetRoutes } from '../datanets/index.js';
import {
  bundledBaseModel,
  type ChatMessage,
  createJaxEngine,
  createLlamaRuntime,
  formatChat,
  type TrainingEngine,
} from '../engine/index.js';
import { createFactoryService, type FactoryService, factoryRoutes } from '../factory/index.js';
import {
  createModelRegistryMirror,
  createOpenLora,
  type ModelRegistryMirror,
  type OpenLora,
  openAiRoutes,
  registryRoutes,
  servingAdminRoutes,
} from '../openlora/index.js';
import { openloraApi, paymentGate } from '../protocol/index.js';
import { createChannelMirror, createSettlement, type Settlement, settlementRoutes } from '../settlement/index.js';
import {
  chainCursors,
  createFsBlobStore,
  createJobQueue,
  createJobRunner,
  type Db,
  getMeta,
  openStore,
  setMeta,
} from '../store/index.js';
import { createNodeAttribution } from './attribution.js';
import { operatorGuard, operatorToken } from './operator.js';
import { registeredBases } from './served-bases.js';
import { createServer } from './server.js';

export interface NodeUp {
  api: string;
  rpcUrl: string;
  chainId: number;
  contracts: Record<string, Address>;
  dataDir: string;
  chain: ChainUp;
  db: Db;
  datanets: DataNetService;
  factory: FactoryService;
  models: ModelRegistryMirror;
  openlora: OpenLora;
  settlement: Settlement;
  /** The node's address (paid through channels, signs receipts), or null without a key. */
  nodeAddress: Address | null;
  /** Sent as \`Authorization: Bearer …\` to operator routes (also in DATA_DIR/operator-token). */
  operatorToken: string;
  /** Stops the API, closes the database and stops the local chain; safe to call twice. */
  stop(): Promise<void>;
}

interface DeploymentBinding {
  chainId: number;
  blockHash: string;
  openToken: string;
}

/**
 * A database holds rows that refer to one deployment's contracts; pointing it at another deployment would mix
 * two ledgers. The first start records the deployment; later starts must match it.
 */
export async function bindStoreToDeployment(db: Db, deployment: Deployment): Promise<void> {
  const wanted: DeploymentBinding = {
    chainId: deployment.chainId,
    blockHash: deployment.blockHash,
    openToken: deployment.contracts.OpenToken,
  };
  const bound = await getMeta<DeploymentBinding>(db, 'deployment');
  if (!bound) return setMeta(db, 'deployment', wanted);
  if (
    bound.chainId !== wanted.chainId ||
    bound.blockHash !== wanted.blockHash ||
    bound.openToken.toLowerCase() !== wanted.openToken.toLowerCase()
  ) {
    throw new BaseError(
      'CHAIN_MISMATCH',
      `Database ${db.location} belongs to the deployment on chain ${bound.chainId} with OPEN at ${bound.openToken}, not to chain ${wanted.chainId} with OPEN at ${wanted.openToken}`,
      { details: { bound, wanted } },
    );
  }
}

/** A chain-event mirror as the node sees it: where it stands. */
export interface MirrorPlace {
  status(): Promise<MirrorStatus>;
}

/**
 * The mirrors roll back blocks the chain replaced (a reorg) by themselves. A chain whose head is behind a mirror's
 * cursor at start lost state instead (a local anvil killed before its last state dump, a reset chain): the node's
 * own transactions in the lost blocks (committed epochs, redeemed vouchers) are gone with it, which no mirror can
 * undo, and running on would mix two histories. `source`: the domains' mirrors (what the node passes), or a
 * database (every stream's cursor kept in it).
 */
export async function checkChainNotBehind(source: Db | readonly MirrorPlace[], head: bigint): Promise<void> {
  const places =
    'query' in source
      ? (await chainCursors(source)).map((c) => ({ name: c.name, block: c.block }))
      : await Promise.all(source.map((m) => m.status()));
  let cursor: { name: string; block: bigint } | undefined;
  for (const p of places)
    if (p.block !== null && (!cursor || p.block > cursor.block)) cursor = { ...p, block: p.block };
  if (cursor && cursor.block > head) {
    throw new BaseError(
      'CHAIN_MISMATCH',
      `The chain's head is block ${head} but this node has already read ${cursor.name} events up to block ${cursor.block}: the chain lost state (for a local chain: it was killed before saving). Use a new --data-dir, or restore the chain`,
      { details: { head: head.toString(), cursor: cursor.block.toString(), stream: cursor.name } },
    );
  }
}

export interface NodeRoles {
  /** Serve models only: no fine-tune worker, no DataNet routes or chain mirror (`tributary serve`). */
  serveOnly?: boolean;
  /** Refuse to deploy: the data directory must already hold a deployment. */
  requireDeployment?: boolean;
}

/** The node's key: configured, or on a local chain the dev account staked for it at deployment. */
function nodeAccount(config: Config, chain: ChainUp): LocalAccount | undefined {
  if (config.nodeKey) return privateKeyToAccount(config.nodeKey);
  return chain.anvil ? devAccount(devRoles.localNode) : undefined;
}

export async function nodeUp(config: Config, log: Logger, roles: NodeRoles = {}): Promise<NodeUp> {
  if (roles.requireDeployment && !existsSync(deploymentPath(config.dataDir))) {
    throw new BaseError(
      'DEPLOYMENT_INVALID',
      `No deployment in ${config.dataDir}: pass --deployment FILE, or start the chain with \`tributary chain up\` first`,
      {
        details: { file: deploymentPath(config.dataDir) },
      },
    );
  }
  const chain = await chainUp({
    dataDir: config.dataDir,
    rpcUrl: config.rpcUrl,
    chainPort: config.chainPort,
    deployerKey: config.deployerKey,
    beneficiaries: configuredBeneficiaries(config),
    log,
  });
  let db: Db | undefined;
  try {
    db = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
    await bindStoreToDeployment(db, chain.deployment);
    const blobs = createFsBlobStore(join(config.dataDir, 'blobs'));
    const datanets = createDataNetService({ db, clients: chain.clients, deployment: chain.deployment, blobs, log });
    const models = createModelRegistryMirror(db, chain.clients, chain.deployment, log);
    const mirrorOf = { db, clients: chain.clients, deployment: chain.deployment, log };
    await checkChainNotBehind(
      [dataNetRegistryMirror(mirrorOf), models, createChannelMirror(db, chain.clients, chain.deployment, log)],
      await chain.clients.public.getBlockNumber({ cacheTime: 0 }),
    );
    const stopSync = roles.serveOnly ? async () => {} : datanets.startSync();
    // Job leases are held in this node's name, which survives restarts, so a restarted node resumes its own jobs.
    const nodeId = (await getMeta<string>(db, 'nodeId')) ?? randomUUID();
    await setMeta(db, 'nodeId', nodeId);
    const queue = createJobQueue(db, { owner: nodeId });
    let engine: Promise<TrainingEngine> | undefined;
    const factory = createFactoryService({
      db,
      queue,
      blobs,
      datanets,
      engine: () => (engine ??= createJaxEngine()),
      log,
    });
    const runner = createJobRunner({ queue, handlers: { ...factory.handlers }, log });
    if (!roles.serveOnly) await runner.start();
    // Serving: the bundled base model loaded once; every registered adapter on it served from this one copy (other
    // registered bases are loaded on first use, each with its own adapters).
    const runtime = await createLlamaRuntime({
      modelPath: bundledBaseModel.path,
      threads: 1,
      contextSize: bundledBaseModel.servingContext,
    });
    const base = factory.bundledBase();
    const nodeKey = nodeAccount(config, chain);
    const attribution = createNodeAttribution({ datanets, blobs, dataDir: config.dataDir, log });
    const settlement = createSettlement({
      db,
      clients: chain.clients,
      deployment: chain.deployment,
      blobs,
      node: nodeKey,
      log,
      attribute: (r) =>
        attribution.attribute(r).catch((e: unknown) => {
          log.warn(
            { err: e, requestId: r.requestId },
            'attribution failed; the contributors share goes to the DataNet',
          );
          throw e;
        }),
      dataNetTreasury: async (id) => (await datanets.get(id).catch(() => undefined))?.treasury ?? null,
    });
    const openlora = createOpenLora({
      runtime,
      blobs,
      db,
      mirror: models,
      base: { name: bundledBaseModel.name, sha256: base.sha256 },
      otherBases: registeredBases(factory, blobs, config.gpu),
      log,
      // Payment hooks answered by settlement (the two folders share only the protocol's types), and retrieval.
      payments: paymentGate(settlement.hooks()),
      retrieve: (r) => attribution.retrieve(r),
    });
    const stopRedeemer = settlement.startRedeemer();
    const token = operatorToken(config.dataDir);
    const requireOperator = operatorGuard(token, config.dataDir);
    const server = await createServer({ db, clients: chain.clients, deployment: chain.deployment, log, blobs }, [
      ...(roles.serveOnly ? [] : [dataNetRoutes(datanets), factoryRoutes(factory, runner.events, requireOperator)]),
      registryRoutes(models),
      openAiRoutes(openlora),
      servingAdminRoutes(openlora, requireOperator),
      settlementRoutes({
        settlement,
        chainId: chain.deployment.chainId,
        distributor: chain.deployment.contracts.RewardDistributor,
        requireOperator,
        measure: (b) =>
          openlora.measurePrompt(b.model, () => (b.messages ? formatChat(quotedChat(b.messages)) : (b.prompt ?? ''))),
      }),
    ]);
    await server.listen({ host: config.host, port: config.port });
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    let stopped: Promise<void> | undefined;
    const openDb = db;
    return {
      api: `http://${host}:${port}`,
      rpcUrl: chain.clients.rpcUrl,
      chainId: chain.deployment.chainId,
      contracts: chain.deployment.contracts,
      dataDir: config.dataDir,
      chain,
      db,
      datanets,
      factory,
      models,
      openlora,
      settlement,
      nodeAddress: settlement.node,
      operatorToken: token,
      stop: () => {
        stopped ??= (async () => {
          await server.close();
          await stopRedeemer();
          await runner.stop();
          await openlora.close();
          await runtime.dispose();
          await stopSync();
          await openDb.close();
          await chain.stop();
        })();
        return stopped;
      },
    };
  } catch (e) {
    await db?.close().catch(() => undefined);
    await chain.stop();
    throw e;
  }
}

/**
 * A quote's chat messages as serving reads them: OpenAI's roles, `developer` being a system message (as in
 * chat completions, so the quote counts the prompt that will be served); any other role is INVALID_ARGUMENT, as
 * chat completions would answer.
 */
function quotedChat(messages: readonly { role: string; content: string }[]): ChatMessage[] {
  return messages.map((m, i) => {
    const role = openloraApi.chatRole.safeParse(m.role);
    if (!role.success) {
      throw new BaseError(
        'INVALID_ARGUMENT',
        `Invalid body.messages.${i}.role: expected one of ${openloraApi.chatRole.options.join(', ')}`,
        { details: { field: `messages.${i}.role` } },
      );
    }
    return { role: role.data === 'developer' ? 'system' : role.data, content: m.content };
  });
}
