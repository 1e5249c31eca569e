/**
 * The OpenAI-compatible API, so apps call Tributary models with the clients they already use. Errors have
 * OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`; unsupported parameters are refused by name
 * rather than ignored.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BaseError, openAiErrorOf } from '../core/index.js';
import { type ChatMessage, formatChat } from '../engine/index.js';
import { type InferenceResult, newRequestId, type OpenLora, type ServedModel } from './service.js';

function openAiError(e: unknown, reply: FastifyReply) {
  const fe = e as FastifyError;
  let err: BaseError;
  if (e instanceof BaseError) err = e;
  else if (fe.validation) {
    const v = fe.validation[0];
    const param =
      (v?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.') ||
      (v?.params as { missingProperty?: string } | undefined)?.missingProperty ||
      null;
    err = new BaseError('INVALID_ARGUMENT', `Invalid value for '${param ?? 'body'}': ${v?.message ?? 'invalid'}`, {
      details: { field: param },
    });
  } else if (fe.statusCode === 400 || e instanceof SyntaxError)
    err = new BaseError('INVALID_ARGUMENT', `We could not parse the JSON body of your request: ${fe.message}`);
  else if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') err = new BaseError('PAYLOAD_TOO_LARGE', fe.message);
  else err = new BaseError('INTERNAL', 'The server had an error while processing your request', { cause: e });
  if (err.code === 'RATE_LIMITED') reply.header('retry-after', String(err.details.retryAfterSeconds ?? 1));
  const { status, body } = openAiErrorOf(err);
  return reply.status(status).send(body);
}

/** Parameters OpenAI clients may send that this server does not implement: refused by name. */
const UNSUPPORTED = [
  'logprobs',
  'top_logprobs',
  'tools',
  'tool_choice',
  'functions',
  'function_call',
  'logit_bias',
  'best_of',
  'suffix',
  'echo',
  'audio',
  'modalities',
  'prediction',
];

function refuseUnsupported(body: Record<string, unknown>): void {
  for (const p of UNSUPPORTED) {
    const v = body[p];
    if (v !== undefined && v !== null && v !== false)
      throw new BaseError('INVALID_ARGUMENT', `'${p}' is not supported by this server`, { details: { field: p } });
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1)
    throw new BaseError('INVALID_ARGUMENT', "'n' must be 1: this server returns one choice", {
      details: { field: 'n' },
    });
  const rf = body.response_format as { type?: string } | undefined;
  if (rf && rf.type !== 'text')
    throw new BaseError('INVALID_ARGUMENT', `'response_format' ${rf.type} is not supported (text only)`, {
      details: { field: 'response_format' },
    });
}

const weiCap = z
  .union([z.string().regex(/^\d{1,78}$/, 'expected an amount in wei (digits only)'), z.number().int().nonnegative()])
  .nullish();

const common = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).max(4096).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  user: z.string().max(256).nullish(),
  n: z.number().int().nullish(),
  // Tributary's payment caps (wei): the request is refused before generation if it could cost more.
  max_fee: weiCap,
  max_royalty: weiCap,
  // Tributary's retrieval: ground the answer in passages of the model's DataNet (they earn citation share).
  retrieval: z.union([z.boolean(), z.object({ top_k: z.number().int().min(1).max(8) })]).nullish(),
};

const completionBody = z
  .object({ ...common, prompt: z.union([z.string(), z.array(z.string()).length(1)]) })
  .passthrough();
const contentPart = z.object({ type: z.literal('text'), text: z.string() });
const chatBody = z
  .object({
    ...common,
    max_completion_tokens: z.number().int().min(1).max(4096).nullish(),
    messages: z
      .array(
        z.object({
          role: z.enum(['system', 'developer', 'user', 'assistant']),
          content: z.union([z.string(), z.array(contentPart)]),
          name: z.string().optional(),
        }),
      )
      .min(1),
  })
  .passthrough();

const DEFAULT_MAX_TOKENS = 64;
/** Passages retrieval puts before the prompt when a request asks for `retrieval: true`. */
const DEFAULT_TOP_K = 2;

function tributaryField(r: InferenceResult) {
  return {
    requestId: r.id,
    modelId: r.model.modelId?.toString() ?? null,
    adapterHash: r.model.adapterHash,
    latencyMs: Math.round(r.latencyMs),
    ttftMs: Math.round(r.ttftMs),
    coldLoad: r.coldLoad,
    loadMs: Math.round(r.loadMs * 10) / 10,
    queueMs: Math.round(r.queueMs * 10) / 10,
    ...r.extra,
  };
}

export function openAiRoutes(openlora: OpenLora) {
  return async (root: FastifyInstance) => {
    root.setErrorHandler((e, _req, reply) => openAiError(e, reply));
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['openai'];
    // The JSON body as the client sent it (validation may normalize it): payment authorizations sign its hash.
    const received = new WeakMap<FastifyRequest, unknown>();
    const keepBody = async (req: FastifyRequest) => {
      received.set(req, req.body);
    };

    app.get('/v1/models', { schema: { tags, summary: 'Models this node serves (OpenAI format)' } }, async () => {
      const models = await openlora.listModels();
      return {
        object: 'list',
        data: models.map((m: ServedModel) => ({
          id: m.id,
          object: 'model',
          created: 0,
          owned_by: m.record?.owner ?? 'tributary',
          tributary: m.record
            ? {
                modelId: m.record.id.toString(),
                adapterHash: m.record.latest.adapterHash,
                priceInPer1k: m.record.priceInPer1k.toString(),
                priceOutPer1k: m.record.priceOutPer1k.toString(),
                dataNet:
                  m.record.latest.dataNetId === null
                    ? null
                    : {
                        id: m.record.latest.dataNetId.toString(),
                        version: m.record.latest.dataNetVersion,
                        root: m.record.latest.dataNetRoot,
                      },
              }
            : { base: true },
        })),
      };
    });

    /** Runs one request, streaming (SSE) or not, with the client's disconnect cancelling it. */
    async function serve(
      req: FastifyRequest,
      reply: FastifyReply,
      o: {
        model: string;
        prompt: string;
        maxTokens: number;
        body: z.infer<typeof completionBody> | z.infer<typeof chatBody>;
        chat: boolean;
        /** What retrieval searches with: the last user message, or the prompt. */
        query: string;
      },
    ) {
      const controller = new AbortController();
      req.raw.on('close', () => {
        if (!reply.raw.writableEnded) controller.abort(new BaseError('CONFLICT', 'The client disconnected'));
      });
      const b = o.body;
      const created = Math.floor(Date.now() / 1000);
      const stop = b.stop === undefined || b.stop === null ? undefined : Array.isArray(b.stop) ? b.stop : [b.stop];
      const requestId = newRequestId();
      const base = {
        id: requestId,
        model: o.model,
        prompt: o.prompt,
        maxTokens: o.maxTokens,
        signal: controller.signal,
        headers: req.headers,
        body: received.get(req) ?? b,
        ...(b.temperature === undefined || b.temperature === null ? {} : { temperature: b.temperature }),
        ...(b.top_p === undefined || b.top_p === null ? {} : { topP: b.top_p }),
        ...(b.seed === undefined || b.seed === null ? {} : { seed: b.seed }),
        ...(stop ? { stop } : {}),
        ...(b.user ? { requester: b.user } : {}),
        ...(b.max_fee === undefined || b.max_fee === null ? {} : { maxFee: BigInt(b.max_fee) }),
        ...(b.max_royalty === undefined || b.max_royalty === null ? {} : { maxRoyalty: BigInt(b.max_royalty) }),
        ...(b.retrieval
          ? { retrieval: { query: o.query, topK: typeof b.retrieval === 'object' ? b.retrieval.top_k : DEFAULT_TOP_K } }
          : {}),
      };
      if (!b.stream) {
        const r = await openlora.infer(base);
        const usage = {
          prompt_tokens: r.promptTokens,
          completion_tokens: r.completionTokens,
          total_tokens: r.promptTokens + r.completionTokens,
        };
        return o.chat
          ? {
              id: r.id.replace('cmpl-', 'chatcmpl-'),
              object: 'chat.completion',
              created,
              model: r.model.id,
              choices: [
                {
                  index: 0,
                  message: { role: 'assistant', content: r.text, refusal: null },
                  logprobs: null,
                  finish_reason: r.finishReason,
                },
              ],
              usage,
              tributary: tributaryField(r),
            }
          : {
              id: r.id,
              object: 'text_completion',
              created,
              model: r.model.id,
              choices: [{ index: 0, text: r.text, logprobs: null, finish_reason: r.finishReason }],
              usage,
              tributary: tributaryField(r),
            };
      }
      // Streaming: headers go out only once the request is accepted (errors before that are plain JSON).
      const id = o.chat ? requestId.replace('cmpl-', 'chatcmpl-') : requestId;
      let opened = false;
      const open = () => {
        if (opened) return;
        opened = true;
        reply.raw.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
      };
      const send = (data: unknown) => reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
      const chunk = (delta: string | null, finish: string | null) =>
        o.chat
          ? {
              id,
              object: 'chat.completion.chunk',
              created,
              model: o.model,
              choices: [
                { index: 0, delta: delta === null ? {} : { content: delta }, logprobs: null, finish_reason: finish },
              ],
            }
          : {
              id,
              object: 'text_completion',
              created,
              model: o.model,
              choices: [{ index: 0, text: delta ?? '', logprobs: null, finish_reason: finish }],
            };
      try {
        const r = await openlora.infer({
          ...base,
          onText: (delta) => {
            if (!opened) {
              open();
              if (o.chat)
                send({
                  id,
                  object: 'chat.completion.chunk',
                  created,
                  model: o.model,
                  choices: [
                    { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
                  ],
                });
            }
            send(chunk(delta, null));
          },
        });
        if (!opened) {
          open();
          if (o.chat)
            send({
              id,
              object: 'chat.completion.chunk',
              created,
              model: o.model,
              choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
            });
        }
        send({ ...chunk(null, r.finishReason), tributary: tributaryField(r) });
        if (b.stream_options?.include_usage) {
          send({
            id,
            object: o.chat ? 'chat.completion.chunk' : 'text_completion',
            created,
            model: o.model,
            choices: [],
            usage: {
              prompt_tokens: r.promptTokens,
              completion_tokens: r.completionTokens,
              total_tokens: r.promptTokens + r.completionTokens,
            },
          });
        }
        reply.raw.write('data: [DONE]\n\n');
        reply.raw.end();
        return reply;
      } catch (e) {
        if (!opened) throw e;
        // Mid-stream failure: the status is already sent, so the error travels as an event.
        const err =
          e instanceof BaseError
            ? e
            : new BaseError('INTERNAL', 'The server had an error while processing your request');
        send({ error: { message: err.message, type: 'server_error', param: null, code: err.code.toLowerCase() } });
        reply.raw.end();
        return reply;
      }
    }

    app.post(
      '/v1/completions',
      {
        schema: { tags, summary: 'Text completion (OpenAI format; stream: true for SSE)', body: completionBody },
        preValidation: keepBody,
      },
      async (req, reply) => {
        refuseUnsupported(req.body as Record<string, unknown>);
        const prompt = Array.isArray(req.body.prompt) ? (req.body.prompt[0] as string) : req.body.prompt;
        return serve(req, reply, {
          model: req.body.model,
          prompt,
          maxTokens: req.body.max_tokens ?? DEFAULT_MAX_TOKENS,
          body: req.body,
          chat: false,
          query: prompt,
        });
      },
    );

    app.post(
      '/v1/chat/completions',
      {
        schema: { tags, summary: 'Chat completion (OpenAI format; stream: true for SSE)', body: chatBody },
        preValidation: keepBody,
      },
      async (req, reply) => {
        refuseUnsupported(req.body as Record<string, unknown>);
        const messages: ChatMessage[] = req.body.messages.map((m) => ({
          role: m.role === 'developer' ? 'system' : m.role,
          content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
        }));
        if (!messages.some((m) => m.role === 'user'))
          throw new BaseError('INVALID_ARGUMENT', "'messages' must contain a user message", {
            details: { field: 'messages' },
          });
        const maxTokens = req.body.max_completion_tokens ?? req.body.max_tokens ?? DEFAULT_MAX_TOKENS;
        return serve(req, reply, {
          model: req.body.model,
          prompt: formatChat(messages),
          maxTokens,
          body: req.body,
          chat: true,
          query: messages.filter((m) => m.role === 'user').at(-1)?.content ?? '',
        });
      },
    );
  };
}

/** Operator routes: /metrics for Prometheus, and the adapter cache (list, pin, unpin, evict). */
/** `requireOperator` guards the routes that change what is loaded (it throws for anyone else). */
export function servingAdminRoutes(openlora: OpenLora, requireOperator: (req: FastifyRequest) => void) {
  return async (root: FastifyInstance) => {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ['openlora'];
    app.get(
      '/metrics',
      { schema: { tags, summary: 'Prometheus metrics: requests, tokens, queue, adapter cache' } },
      async (_req, reply) => reply.type('text/plain; version=0.0.4').send(openlora.metricsText()),
    );
    app.get(
      '/v1/openlora/adapters',
      { schema: { tags, summary: 'Loaded adapters and cache statistics' } },
      async () => ({
        loaded: openlora.cache.list(),
        usedBytes: openlora.cache.usedBytes(),
        stats: openlora.cache.stats,
        queueDepth: openlora.scheduler.queueDepth(),
      }),
    );
    const guard = async (req: FastifyRequest) => requireOperator(req);
    const key = z.object({
      adapter: z.string().regex(/^0x[0-9a-fA-F]{64}$|^base$/, 'expected an adapter hash (0x + 64 hex)'),
    });
    app.post(
      '/v1/openlora/adapters/:adapter/pin',
      { schema: { tags, summary: 'Keep an adapter loaded (operator)', params: key }, preHandler: guard },
      async (req) => {
        openlora.cache.pin(req.params.adapter.toLowerCase());
        return { adapter: req.params.adapter, pinned: true };
      },
    );
    app.post(
      '/v1/openlora/adapters/:adapter/unpin',
      { schema: { tags, summary: 'Let an adapter be evicted (operator)', params: key }, preHandler: guard },
      async (req) => {
        openlora.cache.unpin(req.params.adapter.toLowerCase());
        return { adapter: req.params.adapter, pinned: false };
      },
    );
    app.post(
      '/v1/openlora/adapters/:adapter/evict',
      { schema: { tags, summary: 'Evict an idle adapter now (operator)', params: key }, preHandler: guard },
      async (req) => ({
        adapter: req.params.adapter,
        evicted: await openlora.cache.evict(req.params.adapter.toLowerCase()),
      }),
    );
  };
}
