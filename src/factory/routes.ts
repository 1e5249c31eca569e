/**
 * ModelFactory routes: fine-tune jobs, their progress as server-sent events, and the base models. Declared in
 * src/protocol/http/factory.ts; the declarations validate each request and encode each answer.
 */
import type { EventEmitter } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { factoryApi, serve } from '../protocol/index.js';
import type { JobEvent } from '../store/index.js';
import type { FineTuneRequest } from './request.js';
import type { FactoryService } from './service.js';

/** The protocol's copy of the request rules must describe the same request as request.ts (checked when compiling). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const requestsAgree: Same<z.output<typeof factoryApi.fineTuneRequest>, FineTuneRequest> = true;
void requestsAgree;

const terminal: ReadonlySet<string> = new Set(factoryApi.terminalJobEvents);

export function factoryRoutes(factory: FactoryService, events: EventEmitter) {
  return async (app: FastifyInstance) => {
    serve(app, factoryApi.submitJob, async (req) => factory.submit(req.body));

    serve(app, factoryApi.listJobs, async () => ({ items: await factory.list() }));

    serve(app, factoryApi.getJob, async (req) => factory.job(req.params.id));

    serve(app, factoryApi.cancelJob, async (req) => factory.cancel(req.params.id));

    serve(app, factoryApi.jobEvents, async (req, reply) => {
      const first = await factory.job(req.params.id);
      const id = first.id.toString();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      const send = (event: string, data: unknown) =>
        reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('state', z.encode(factoryApi.fineTuneJob, first));
      if (terminal.has(first.status)) {
        reply.raw.end();
        return reply;
      }
      const onEvent = (e: JobEvent) => {
        if (e.jobId !== id) return;
        send(e.type, e.data ?? null);
        if (terminal.has(e.type)) finish();
      };
      const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
      const finish = () => {
        clearInterval(keepAlive);
        events.off('event', onEvent);
        reply.raw.end();
      };
      events.on('event', onEvent);
      req.raw.on('close', finish);
      return reply;
    });

    serve(app, factoryApi.listBaseModels, async () => ({ items: factory.baseModels() }));
  };
}
