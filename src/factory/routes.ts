/**
 * ModelFactory routes: fine-tune jobs, their progress as server-sent events, and the base models. Declared in
 * src/protocol/http/factory.ts; the declarations validate each request and encode each answer.
 */
import type { EventEmitter } from 'node:events';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BaseError, toBaseError } from '../core/index.js';
import { factoryApi, serve, streamEvents } from '../protocol/index.js';
import type { JobEvent } from '../store/index.js';
import type { FactoryService } from './service.js';

const terminal: ReadonlySet<string> = new Set(factoryApi.terminalJobEvents);

function isJobEventName(name: string): name is factoryApi.JobEventName {
  return name in factoryApi.jobEventData;
}

export function factoryRoutes(
  factory: FactoryService,
  events: EventEmitter,
  requireOperator: (req: FastifyRequest) => void,
) {
  return async (app: FastifyInstance) => {
    // A base model is up to 4 GiB: only the operator may send one, checked before the body is read.
    const addBase = factoryApi.addBaseModel;
    app.addHook('onRequest', async (req) => {
      if (req.method === addBase.method && req.routeOptions.url === addBase.path) requireOperator(req);
    });
    app.addContentTypeParser(
      'application/octet-stream',
      { parseAs: 'buffer', bodyLimit: factoryApi.MAX_BASE_MODEL_BYTES },
      (_req, body, done) => done(null, body),
    );

    serve(app, factoryApi.submitJob, async (req) => factory.submit(req.body));

    serve(app, factoryApi.listJobs, async () => ({ items: await factory.list() }));

    serve(app, factoryApi.getJob, async (req) => factory.job(req.params.id));

    serve(app, factoryApi.cancelJob, async (req) => factory.cancel(req.params.id));

    serve(app, factoryApi.jobEvents, async (req, reply) => {
      const first = await factory.job(req.params.id); // an unknown job is a plain 404, before the stream opens
      const id = first.id.toString();
      return streamEvents(
        factoryApi.jobEvents,
        reply,
        async (stream) => {
          stream.send(first, 'state');
          if (terminal.has(first.status)) return;
          await new Promise<void>((resolve, reject) => {
            const done = () => {
              events.off('event', onEvent);
              resolve();
            };
            const onEvent = (e: JobEvent) => {
              if (e.jobId !== id || !isJobEventName(e.type)) return;
              try {
                // The runner's event data is in its JSON form: decode it with the event's schema, send re-encodes.
                stream.send(factoryApi.jobEventData[e.type].parse(e.data ?? null), e.type);
              } catch (err) {
                events.off('event', onEvent);
                reject(err);
                return;
              }
              if (terminal.has(e.type)) done();
            };
            events.on('event', onEvent);
            stream.signal.addEventListener('abort', done, { once: true });
          });
        },
        {
          keepAliveMs: 15_000,
          errorEvent: (e) => toBaseError(e).toJSON(),
          errorEventName: 'failed',
        },
      );
    });

    serve(app, factoryApi.listBaseModels, async () => ({ items: await factory.baseModels() }));

    serve(app, addBase, async (req) => {
      if (!Buffer.isBuffer(req.body))
        throw new BaseError('INVALID_ARGUMENT', 'Send the GGUF file as application/octet-stream', {
          details: { field: 'body' },
        });
      return factory.addBaseModel(req.query.name, new Uint8Array(req.body));
    });
  };
}
