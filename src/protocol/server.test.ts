import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createNodeClient } from './client.js';
import { address, isoDate, uintString } from './primitives.js';
import { route } from './route.js';
import { serve } from './server.js';

const account = route({
  method: 'GET',
  path: '/v1/test/accounts/:id',
  tags: ['test'],
  summary: 'an account',
  params: z.object({ id: uintString }),
  query: z.object({ verbose: z.coerce.boolean().optional() }),
  response: z.object({ id: uintString, owner: address, balanceWei: uintString, since: isoDate }),
});

const deposit = route({
  method: 'POST',
  path: '/v1/test/deposits',
  tags: ['test'],
  summary: 'a deposit',
  status: 201,
  body: z.object({ amount: uintString }),
  response: z.object({ doubledWei: uintString }),
});

async function app(handler: () => Promise<unknown>) {
  const server = Fastify();
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  // biome-ignore lint/suspicious/noExplicitAny: the drifting handler is the point of the test
  serve(server, account, handler as any);
  serve(server, deposit, async (req) => ({ doubledWei: req.body.amount * 2n }));
  const url = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, url };
}

describe('declared routes', () => {
  it('a route returns bigints and dates, the wire carries strings, the client gets bigints and dates back', async () => {
    const since = new Date('2026-01-02T03:04:05.000Z');
    const { server, url } = await app(async () => ({
      id: 7n,
      owner: '0x00000000000000000000000000000000000000aa',
      balanceWei: 10n ** 30n,
      since,
      secret: 'not declared, so never sent',
    }));
    try {
      const raw = await (await fetch(`${url}/v1/test/accounts/7`)).json();
      expect(raw).toEqual({
        id: '7',
        owner: '0x00000000000000000000000000000000000000aa',
        balanceWei: '1000000000000000000000000000000',
        since: '2026-01-02T03:04:05.000Z',
      });
      const client = createNodeClient(url);
      const got = await client.call(account, { params: { id: 7n }, query: { verbose: true } });
      expect(got).toEqual({
        id: 7n,
        owner: '0x00000000000000000000000000000000000000AA',
        balanceWei: 10n ** 30n,
        since,
      });
      expect(await client.call(deposit, { body: { amount: 21n } })).toEqual({ doubledWei: 42n });
    } finally {
      await server.close();
    }
  });

  it('a handler whose body drifts from the declared response answers 500 instead of the drifted body', async () => {
    const { server, url } = await app(async () => ({ id: 'seven', owner: 'nobody', balanceWei: -1, since: 'soon' }));
    try {
      const res = await fetch(`${url}/v1/test/accounts/7`);
      expect(res.status).toBe(500);
      await expect(createNodeClient(url).call(account, { params: { id: 7n } })).rejects.toMatchObject({
        details: { status: 500 },
      });
    } finally {
      await server.close();
    }
  });

  it('a request that does not match the declared body is refused before the handler runs', async () => {
    const { server, url } = await app(async () => ({}));
    try {
      const res = await fetch(`${url}/v1/test/deposits`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: '-3' }),
      });
      expect(res.status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
