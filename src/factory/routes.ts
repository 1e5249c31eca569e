/** ModelFactory routes: fine-tune jobs, their progress as server-sent events, and the base models. */
import type { EventEmitter } from 'node:events';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { JobEvent } from '../store/index.js';
import { fineTuneRequestSchema } from './request.js';
import type { FactoryService } from './service.js';

const tags = ['factory'];
const jobId = z.string().regex(/^\d+$/, 'expected a job id').transform(BigInt);
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function factoryRoutes(factory: FactoryService, events: EventEmitter) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();

    app.post(
      '/v1/factory/jobs',
      {
        schema: {
          tags,
          summary: 'Start a LoRA fine-tune on a published DataNet version',
          description:
            'Queued as a durable job: it survives restarts and resumes from its last checkpoint. Progress: GET /v1/factory/jobs/:id/events.',
          body: fineTuneRequestSchema.partial({ hyper: true }),
        },
      },
      async (req, reply) => reply.status(202).send(await factory.submit(req.body)),
    );

    app.get('/v1/factory/jobs', { schema: { tags, summary: 'Fine-tune jobs, newest first' } }, async () => ({
      items: await factory.list(),
    }));

    app.get(
      '/v1/factory/jobs/:id',
      { schema: { tags, summary: 'A fine-tune job: status, progress, result', params: z.object({ id: jobId }) } },
      async (req) => factory.job(req.params.id),
    );

    app.post(
      '/v1/factory/jobs/:id/cancel',
      { schema: { tags, summary: 'Cancel a queued or running fine-tune', params: z.object({ id: jobId }) } },
      async (req) => factory.cancel(req.params.id),
    );

    app.get(
      '/v1/factory/jobs/:id/events',
      {
        schema: {
          tags,
          summary:
            'Progress of a fine-tune as server-sent events (step, loss, tokens/s, ETA), ending when the job does',
          params: z.object({ id: jobId }),
        },
      },
      async (req, reply) => {
        const first = await factory.job(req.params.id);
        const id = first.id;
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        const send = (event: string, data: unknown) =>
          reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        send('state', first);
        if (TERMINAL.has(first.status)) {
          reply.raw.end();
          return reply;
        }
        const onEvent = (e: JobEvent) => {
          if (e.jobId !== id) return;
          send(e.type, e.data ?? null);
          if (TERMINAL.has(e.type)) finish();
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
      },
    );

    app.get('/v1/factory/base-models', { schema: { tags, summary: 'Base models this node fine-tunes' } }, async () => ({
      items: factory.baseModels(),
    }));
  };
}
