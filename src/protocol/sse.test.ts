import Fastify, { type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BaseError } from '../core/index.js';
import { uintString } from './primitives.js';
import { route } from './route.js';
import { serve } from './server.js';
import { type EventStream, streamEvents } from './sse.js';

const tick = z.object({ n: uintString });
const failure = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const ticks = route({
  method: 'GET',
  path: '/v1/test/ticks',
  tags: ['test'],
  summary: 'ticks',
  response: z.object({ ok: z.boolean() }),
  events: z.union([tick, failure]),
});

type Produce = (stream: EventStream<z.output<typeof ticks.events>>) => Promise<void>;

const servers: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function app(produce: Produce, options: Parameters<typeof streamEvents<typeof ticks>>[3] = {}) {
  // An aborted fetch leaves a connection the server would otherwise wait for when closing.
  const server = Fastify({ forceCloseConnections: true });
  server.setValidatorCompiler(validatorCompiler);
  server.setSerializerCompiler(serializerCompiler);
  server.setErrorHandler((e, _req, reply: FastifyReply) => {
    const err = e instanceof BaseError ? e : new BaseError('INTERNAL', 'Internal error');
    return reply.status(err.code === 'NOT_FOUND' ? 404 : 500).send({ error: err.toJSON() });
  });
  serve(server, ticks, async (_req, reply) => streamEvents(ticks, reply, produce, options));
  await server.listen({ port: 0, host: '127.0.0.1' });
  servers.push(server);
  const a = server.server.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return `http://127.0.0.1:${port}/v1/test/ticks`;
}

describe('server-sent events of a declared route', () => {
  it('encodes each event with the route schema (bigints as strings) and ends with the done marker', async () => {
    const url = await app(
      async (s) => {
        s.send({ n: 1n });
        s.send({ n: 10n ** 30n }, 'big');
      },
      { done: '[DONE]' },
    );
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await res.text()).toBe(
      'data: {"n":"1"}\n\nevent: big\ndata: {"n":"1000000000000000000000000000000"}\n\ndata: [DONE]\n\n',
    );
  });

  it('answers an error before the first event as a plain error with its status', async () => {
    const url = await app(async () => {
      throw new BaseError('NOT_FOUND', 'no such ticks');
    });
    const res = await fetch(url);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such ticks' } });
  });

  it('reports an error after the stream opened as an error event, without the done marker', async () => {
    const url = await app(
      async (s) => {
        s.send({ n: 1n });
        throw new BaseError('TIMEOUT', 'too slow');
      },
      {
        done: '[DONE]',
        errorEvent: (e) => ({ error: { code: 'x', message: e instanceof Error ? e.message : '' } }),
        errorEventName: 'failed',
      },
    );
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      'data: {"n":"1"}\n\nevent: failed\ndata: {"error":{"code":"x","message":"too slow"}}\n\n',
    );
  });

  it('reports anything but a BaseError as INTERNAL without its message (default error event)', async () => {
    const url = await app(async (s) => {
      s.send({ n: 1n });
      throw new Error('secret detail');
    });
    const text = await (await fetch(url)).text();
    expect(text).toBe('data: {"n":"1"}\n\ndata: {"error":{"code":"INTERNAL","message":"Internal error"}}\n\n');
  });

  it('refuses an event that does not match the schema: a 500 before the stream opened, an error event after', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: a drifting event is the point of the test
    const drift: any = { n: 'not a bigint' };
    const before = await fetch(await app(async (s) => s.send(drift)));
    expect(before.status).toBe(500);
    const after = await fetch(
      await app(async (s) => {
        s.send({ n: 2n });
        s.send(drift);
      }),
    );
    expect(await after.text()).toBe(
      'data: {"n":"2"}\n\ndata: {"error":{"code":"INTERNAL","message":"An event of GET /v1/test/ticks does not match its schema"}}\n\n',
    );
  });

  it('aborts the signal when the client disconnects', async () => {
    let aborted: (reason: unknown) => void = () => {};
    const reason = new Promise((resolve) => {
      aborted = resolve;
    });
    const url = await app(async (s) => {
      s.send({ n: 1n });
      await new Promise<void>((resolve) => {
        s.signal.addEventListener('abort', () => {
          aborted(s.signal.reason);
          resolve();
        });
      });
    });
    const client = new AbortController();
    const res = await fetch(url, { signal: client.signal });
    const reader = res.body?.getReader();
    await reader?.read();
    client.abort();
    expect(await reason).toMatchObject({ code: 'CONFLICT', message: 'The client disconnected' });
  });

  it('writes keep-alive comments while open', async () => {
    const url = await app(
      async (s) => {
        s.send({ n: 1n });
        await new Promise((r) => setTimeout(r, 120));
      },
      { keepAliveMs: 30 },
    );
    expect(await (await fetch(url)).text()).toMatch(/^data: \{"n":"1"\}\n\n(: keep-alive\n\n)+$/);
  });
});
