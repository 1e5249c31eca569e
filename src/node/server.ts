/**
 * The node's HTTP server: Fastify with zod-validated routes, an OpenAPI document (/openapi.json) and its docs
 * page (/docs). Domain routes plug in as Fastify plugins; every error leaves as `{ "error": { code, message,
 * details? } }` with the status from the code table.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { bytesToHex } from 'viem';
import type { ChainClients, Deployment } from '../chain/index.js';
import { BaseError, type Logger, sha256, version } from '../core/index.js';
import { nodeApi, serve } from '../protocol/index.js';
import type { BlobStore, Db } from '../store/index.js';
import { httpStatusByCode } from './http-errors.js';

export interface NodeContext {
  db: Db;
  clients: ChainClients;
  deployment: Deployment;
  log: Logger;
  blobs?: BlobStore;
}

/** Largest blob accepted over HTTP (adapters, manifests, receipts). */
const MAX_BLOB_BYTES = 64 * 1024 * 1024;

function blobRoutes(blobs: BlobStore) {
  return async (app: FastifyInstance) => {
    app.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: MAX_BLOB_BYTES },
      (_req, body, done) => done(null, body),
    );
    serve(app, nodeApi.putBlob, async (req) => {
      if (!Buffer.isBuffer(req.body))
        throw new BaseError('INVALID_ARGUMENT', 'Send the bytes as application/octet-stream', {
          details: { field: 'body' },
        });
      const bytes = new Uint8Array(req.body);
      const cid = await blobs.put(bytes);
      return { cid, sha256: bytesToHex(sha256(bytes)), bytes: bytes.length };
    });
    serve(app, nodeApi.getBlob, async (req, reply) => {
      const bytes = await blobs.get(req.params.cid);
      if (!bytes)
        throw new BaseError('NOT_FOUND', `No blob ${req.params.cid} on this node`, {
          details: { cid: req.params.cid },
        });
      return reply.type('application/octet-stream').send(Buffer.from(bytes));
    });
  };
}

/** A domain's routes, as a Fastify plugin (see e.g. dataNetRoutes). */
export type RoutePlugin = (app: FastifyInstance) => Promise<void>;

/** Fastify's own error codes that are the client's fault, mapped to ours. */
const fastifyClientErrors: Record<string, BaseError['code']> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'INVALID_ARGUMENT',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_ARGUMENT',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_ARGUMENT',
};

/** Converts whatever a route threw into a BaseError a client can act on. */
export function toHttpError(error: FastifyError | Error): BaseError {
  if (error instanceof BaseError) return error;
  // What Fastify adds to the errors it raises (validation issues, its FST_ code, a status); other errors have none.
  const fe: Partial<FastifyError> = error;
  if (fe.validation) {
    const where = fe.validationContext ?? 'request';
    const issues = fe.validation.map((v) => ({
      field: `${where}${v.instancePath ? v.instancePath.replaceAll('/', '.') : ''}`,
      message: v.message ?? 'invalid',
    }));
    const first = issues[0];
    return new BaseError('INVALID_ARGUMENT', `Invalid ${first?.field ?? where}: ${first?.message ?? 'invalid'}`, {
      details: { issues },
    });
  }
  const clientError = fe.code ? fastifyClientErrors[fe.code] : undefined;
  if (clientError) return new BaseError(clientError, error.message);
  if (fe.statusCode === 400 && error instanceof SyntaxError)
    return new BaseError('INVALID_ARGUMENT', `Invalid JSON body: ${error.message}`);
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500)
    return new BaseError('INVALID_ARGUMENT', error.message);
  return new BaseError('INTERNAL', 'Internal error', { cause: error });
}

export async function createServer(ctx: NodeContext, routes: RoutePlugin[] = []): Promise<FastifyInstance> {
  // The node's pino logger, seen as the logger type Fastify's instances (and every route plugin) are typed with.
  const loggerInstance: FastifyBaseLogger = ctx.log;
  const app = Fastify({ loggerInstance, bodyLimit: 10 * 1024 * 1024 });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const e = toHttpError(error);
    const status = httpStatusByCode[e.code];
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(status).send({ error: e.toJSON() });
  });
  app.setNotFoundHandler((request, reply) => {
    const e = new BaseError('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send({ error: e.toJSON() });
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Tributary node API',
        version,
        description: 'Payable AI: DataNets, models, serving, attribution and OPEN settlement.',
      },
      components: {
        securitySchemes: {
          operatorToken: {
            type: 'http',
            scheme: 'bearer',
            description: "The node operator's token, from <data-dir>/operator-token",
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  await app.register(healthRoutes(ctx));
  if (ctx.blobs) await app.register(blobRoutes(ctx.blobs));
  for (const plugin of routes) await app.register(plugin);
  return app;
}

function healthRoutes(ctx: NodeContext) {
  return async (app: FastifyInstance) => {
    serve(app, nodeApi.health, async (_request, reply) => {
      const [block, store] = await Promise.all([
        ctx.clients.public.getBlockNumber().then(String, () => null),
        ctx.db.query('SELECT 1').then(
          () => true,
          () => false,
        ),
      ]);
      const ok = block !== null && store;
      return reply.status(ok ? 200 : 503).send({
        status: ok ? 'ok' : 'degraded',
        version,
        chain: { ok: block !== null, chainId: ctx.deployment.chainId, blockNumber: block },
        store: { ok: store, dialect: ctx.db.dialect },
      });
    });
    serve(app, nodeApi.getDeployment, async () => ({
      chainId: ctx.deployment.chainId,
      rpcUrl: ctx.clients.rpcUrl,
      block: ctx.deployment.block,
      contracts: ctx.deployment.contracts,
      allocations: ctx.deployment.allocations,
    }));
  };
}
