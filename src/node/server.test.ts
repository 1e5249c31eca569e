import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestChain, type TestChain } from '../../test/fixtures/chain.js';
import { type Backend, storeBackends } from '../../test/fixtures/db.js';
import { rejectionOf } from '../../test/fixtures/errors.js';
import { BaseError, errorCodes, silentLogger } from '../core/index.js';
import { type Db, migrate, migrations } from '../store/index.js';
import { httpStatusByCode } from './http-errors.js';
import { createServer } from './server.js';
import { bindStoreToDeployment, checkChainNotBehind } from './system.js';

const [pglite] = storeBackends();
let chain: TestChain;
let db: Db;
let app: FastifyInstance;

// One chain for the file (only read), one server on PGlite for what does not touch the store; what does runs on
// every store backend below.
beforeAll(async () => {
  chain = await startTestChain();
  db = await (pglite as Backend).open();
  await migrate(db, migrations);
  app = await createServer({ db, clients: chain.clients, deployment: chain.deployment, log: silentLogger() });
  // A route with a validated body, to see how validation and thrown errors reach clients.
  app
    .withTypeProvider<ZodTypeProvider>()
    .post(
      '/test/echo',
      { schema: { body: z.object({ amount: z.string().regex(/^\d+$/), to: z.string() }) } },
      async (req) => {
        if (req.body.to === 'nobody')
          throw new BaseError('NOT_FOUND', 'No account nobody', { details: { field: 'to' } });
        if (req.body.to === 'crash') throw new Error('secret internal detail');
        return req.body;
      },
    );
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await db?.close();
  await chain?.anvil.stop();
});

describe('node API', () => {
  it('serves the deployment', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/deployment' });
    expect(res.json()).toMatchObject({ chainId: 31337, contracts: chain.deployment.contracts });
  });

  it('publishes an OpenAPI document and a docs page', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/health', '/v1/deployment']));
    const docs = await app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
  });

  it('answers unknown routes with a NOT_FOUND error body', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'No route GET /v1/nothing' } });
  });

  it('names the field that failed validation', async () => {
    const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { amount: '1.5', to: 'a' } });
    expect(res.statusCode).toBe(400);
    const body = res.json() as { error: { code: string; message: string; details: { issues: { field: string }[] } } };
    expect(body.error.code).toBe('INVALID_ARGUMENT');
    expect(body.error.message).toMatch(/^Invalid body\.amount: /);
    expect(body.error.details.issues[0]?.field).toBe('body.amount');
  });

  it('rejects malformed JSON as INVALID_ARGUMENT', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/test/echo',
      payload: '{"amount": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
  });

  it('maps thrown BaseErrors through the status table and hides internal errors', async () => {
    const notFound = await app.inject({ method: 'POST', url: '/test/echo', payload: { amount: '1', to: 'nobody' } });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'No account nobody', details: { field: 'to' } },
    });
    const crash = await app.inject({ method: 'POST', url: '/test/echo', payload: { amount: '1', to: 'crash' } });
    expect(crash.statusCode).toBe(500);
    expect(crash.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal error' } });
  });

  it('has an HTTP status for every error code', () => {
    expect(Object.keys(httpStatusByCode).sort()).toEqual(Object.keys(errorCodes).sort());
  });
});

describe.each(storeBackends())('store on $name', (backend) => {
  describe('health', () => {
    it('reports health of chain and store', async () => {
      const store = await backend.open();
      const server = await createServer({
        db: store,
        clients: chain.clients,
        deployment: chain.deployment,
        log: silentLogger(),
      });
      const res = await server.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        status: 'ok',
        chain: { ok: true, chainId: 31337 },
        store: { ok: true, dialect: backend.name },
      });
      await server.close();
      await store.close();
    });

    it('reports 503 when the store is down', async () => {
      const broken = await backend.open();
      const server = await createServer({
        db: broken,
        clients: chain.clients,
        deployment: chain.deployment,
        log: silentLogger(),
      });
      await broken.close();
      const res = await server.inject({ method: 'GET', url: '/health' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 'degraded', store: { ok: false } });
      await server.close();
    });
  });

  describe('chain consistency at start', () => {
    it('refuses a chain that is behind what the database already read', async () => {
      const fresh = await backend.open();
      await migrate(fresh, migrations);
      await checkChainNotBehind(fresh, 10n);
      await fresh.query(`INSERT INTO chain_cursors (name, block) VALUES ('DataNetRegistry', 12)`);
      await checkChainNotBehind(fresh, 12n);
      const e = await rejectionOf(checkChainNotBehind(fresh, 11n));
      expect(e.code).toBe('CHAIN_MISMATCH');
      expect(e.message).toBe(
        "The chain's head is block 11 but this node has already read DataNetRegistry events up to block 12: the chain lost state (for a local chain: it was killed before saving). Use a new --data-dir, or restore the chain",
      );
      await fresh.close();
    });
  });

  describe('store binding', () => {
    it('binds a database to its first deployment and refuses another', async () => {
      const fresh = await backend.open();
      await migrate(fresh, migrations);
      await bindStoreToDeployment(fresh, chain.deployment);
      await bindStoreToDeployment(fresh, chain.deployment);
      const other = {
        ...chain.deployment,
        contracts: { ...chain.deployment.contracts, OpenToken: '0x000000000000000000000000000000000000dEaD' as const },
      };
      const e = await rejectionOf(bindStoreToDeployment(fresh, other));
      expect(e.code).toBe('CHAIN_MISMATCH');
      expect(e.message).toBe(
        `Database ${fresh.location} belongs to the deployment on chain 31337 with OPEN at ${chain.deployment.contracts.OpenToken}, not to chain 31337 with OPEN at 0x000000000000000000000000000000000000dEaD`,
      );
      await fresh.close();
    });
  });
});
