/**
 * The OpenAI-compatible API, so apps call Tributary models with the clients they already use (the routes are
 * declared in the protocol's `openloraApi`). Errors have OpenAI's shape, `{"error": {"message", "type", "param",
 * "code"}}`; unsupported parameters are refused by name rather than ignored. A request goes through named stages:
 * parse (OpenAI's parameters → what to generate and how) → run (`openlora.infer`) → respond with one JSON body,
 * or stream it as server-sent events.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BaseError, httpStatusByCode, openAiErrorOf } from '../core/index.js';
import { type ChatMessage, formatChat } from '../engine/index.js';
import {
  openloraApi as api,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type CompletionRequest,
  disconnectSignal,
  type EventData,
  type ListedModel,
  type OpenAiErrorBody,
  type RouteInput,
  type RouteOutput,
  type RouteRequest,
  type ServedModel,
  type StreamingRoute,
  serve,
  streamEvents,
  type TextCompletion,
  type TextCompletionChunk,
  type TributaryField,
} from '../protocol/index.js';
import { type InferenceRequest, type InferenceResult, newRequestId, type OpenLora } from './service.js';

const DEFAULT_MAX_TOKENS = 64;
/**
 * Passages retrieval puts before the prompt when a request asks for `retrieval: true`: one, the form the `facts`
 * preset trains a model to answer from (a model reads the first passage; more are for `retrieval: {top_k}`).
 */
const DEFAULT_TOP_K = 1;

// ---------------------------------------------------------------------------------------------------------------
// Errors

const propertyOf = (v: unknown, key: string): unknown =>
  typeof v === 'object' && v !== null ? Reflect.get(v, key) : undefined;

/** Whatever a route threw, as the BaseError it stands for: Fastify's validation and body errors are the client's. */
export function openAiBaseError(e: unknown): BaseError {
  if (e instanceof BaseError) return e;
  const validation = propertyOf(e, 'validation');
  if (Array.isArray(validation)) {
    const first: unknown = validation[0];
    const path = propertyOf(first, 'instancePath');
    const param = typeof path === 'string' ? path.replace(/^\//, '').replaceAll('/', '.') || null : null;
    const message = propertyOf(first, 'message');
    return new BaseError(
      'INVALID_ARGUMENT',
      `Invalid value for '${param ?? 'body'}': ${typeof message === 'string' ? message : 'invalid'}`,
      { details: { field: param } },
    );
  }
  const message = e instanceof Error ? e.message : String(e);
  const statusCode = propertyOf(e, 'statusCode');
  if (propertyOf(e, 'code') === 'FST_ERR_CTP_BODY_TOO_LARGE') return new BaseError('PAYLOAD_TOO_LARGE', message);
  if (statusCode === 400 || e instanceof SyntaxError)
    return new BaseError('INVALID_ARGUMENT', `We could not parse the JSON body of your request: ${message}`);
  if (typeof statusCode === 'number' && statusCode > 400 && statusCode < 500)
    return new BaseError('INVALID_ARGUMENT', message);
  return new BaseError('INTERNAL', 'The server had an error while processing your request', { cause: e });
}

/** OpenAI's error body for whatever was thrown (also a stream's error event). */
export const openAiErrorBodyOf = (e: unknown): OpenAiErrorBody => openAiErrorOf(openAiBaseError(e)).body;

function answerError(e: unknown, req: FastifyRequest, reply: FastifyReply) {
  const err = openAiBaseError(e);
  if (httpStatusByCode[err.code] >= 500) req.log.error({ err: e }, 'request failed');
  if (err.code === 'RATE_LIMITED') reply.header('retry-after', String(err.details.retryAfterSeconds ?? 1));
  const { status, body } = openAiErrorOf(err);
  return reply.status(status).send(body);
}

// ---------------------------------------------------------------------------------------------------------------
// Stage 1: parse — OpenAI's parameters as what to generate and how

/** Refuses, by name, the OpenAI parameters this server does not implement. */
export function refuseUnsupported(body: CompletionRequest | ChatCompletionRequest): void {
  for (const p of api.unsupportedParameters) {
    const v = body[p];
    if (v !== undefined && v !== null && v !== false)
      throw new BaseError('INVALID_ARGUMENT', `'${p}' is not supported by this server`, { details: { field: p } });
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1)
    throw new BaseError('INVALID_ARGUMENT', "'n' must be 1: this server returns one choice", {
      details: { field: 'n' },
    });
  const rf = body.response_format;
  if (rf && rf.type !== 'text')
    throw new BaseError('INVALID_ARGUMENT', `'response_format' ${rf.type} is not supported (text only)`, {
      details: { field: 'response_format' },
    });
}

/** How to generate, from a request's parameters (OpenLoRA's options; absent and null parameters are left out). */
export type InferenceOptions = Pick<
  InferenceRequest,
  'temperature' | 'topP' | 'seed' | 'stop' | 'requester' | 'maxFee' | 'maxRoyalty' | 'retrieval'
>;

/** A request, whichever its OpenAI dialect: what to generate and how. */
export interface ParsedRequest {
  model: string;
  prompt: string;
  maxTokens: number;
  /** No max_tokens in the request: the default shrinks to what the context leaves (InferenceRequest.fitMaxTokens). */
  fitMaxTokens: boolean;
  stream: boolean;
  /** `stream_options.include_usage`: a last event with the usage. */
  includeUsage: boolean;
  options: InferenceOptions;
}

/** The mapping of OpenAI's sampling parameters and Tributary's caps and retrieval to inference options. */
export function inferenceOptions(b: CompletionRequest | ChatCompletionRequest, query: string): InferenceOptions {
  const stop = b.stop === undefined || b.stop === null ? undefined : Array.isArray(b.stop) ? b.stop : [b.stop];
  return {
    ...(b.temperature === undefined || b.temperature === null ? {} : { temperature: b.temperature }),
    ...(b.top_p === undefined || b.top_p === null ? {} : { topP: b.top_p }),
    ...(b.seed === undefined || b.seed === null ? {} : { seed: b.seed }),
    ...(stop ? { stop } : {}),
    ...(b.user ? { requester: b.user } : {}),
    ...(b.max_fee === undefined || b.max_fee === null ? {} : { maxFee: b.max_fee }),
    ...(b.max_royalty === undefined || b.max_royalty === null ? {} : { maxRoyalty: b.max_royalty }),
    ...(b.retrieval
      ? { retrieval: { query, topK: typeof b.retrieval === 'object' ? b.retrieval.top_k : DEFAULT_TOP_K } }
      : {}),
  };
}

export function parseCompletionRequest(body: CompletionRequest): ParsedRequest {
  refuseUnsupported(body);
  const prompt = typeof body.prompt === 'string' ? body.prompt : body.prompt[0];
  return {
    model: body.model,
    prompt,
    maxTokens: body.max_tokens ?? DEFAULT_MAX_TOKENS,
    fitMaxTokens: body.max_tokens === undefined || body.max_tokens === null,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    options: inferenceOptions(body, prompt),
  };
}

/** OpenAI's messages as the engine's chat: `developer` is a system message, text parts are joined. */
export function chatMessagesOf(messages: ChatCompletionRequest['messages']): ChatMessage[] {
  return messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
}

export function parseChatRequest(body: ChatCompletionRequest): ParsedRequest {
  refuseUnsupported(body);
  const messages = chatMessagesOf(body.messages);
  const lastUser = messages.filter((m) => m.role === 'user').at(-1);
  if (!lastUser)
    throw new BaseError('INVALID_ARGUMENT', "'messages' must contain a user message", {
      details: { field: 'messages' },
    });
  return {
    model: body.model,
    prompt: formatChat(messages),
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
    fitMaxTokens: (body.max_completion_tokens ?? body.max_tokens ?? null) === null,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    // Retrieval searches with what the user asked last.
    options: inferenceOptions(body, lastUser.content),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Stage 3: respond — OpenAI's answer bodies and stream chunks

const round1 = (ms: number) => Math.round(ms * 10) / 10;

/** Tributary's field: the request, the model and adapter that answered, timings, and what payment added. */
export function tributaryOf(r: InferenceResult): TributaryField {
  return {
    requestId: r.id,
    modelId: r.model.modelId,
    adapterHash: r.model.adapterHash,
    latencyMs: Math.round(r.latencyMs),
    ttftMs: Math.round(r.ttftMs),
    coldLoad: r.coldLoad,
    loadMs: round1(r.loadMs),
    queueMs: round1(r.queueMs),
    ...(r.payment ?? {}),
    ...(r.retrieved ? { retrieved: r.retrieved } : {}),
  };
}

const usageOf = (r: InferenceResult) => ({
  prompt_tokens: r.promptTokens,
  completion_tokens: r.completionTokens,
  total_tokens: r.promptTokens + r.completionTokens,
});

/** OpenAI's chat completion ids start with `chatcmpl-`. */
const chatId = (requestId: string) => requestId.replace('cmpl-', 'chatcmpl-');

export function textCompletionOf(r: InferenceResult, created: number): TextCompletion {
  return {
    id: r.id,
    object: 'text_completion',
    created,
    model: r.model.id,
    choices: [{ index: 0, text: r.text, logprobs: null, finish_reason: r.finishReason }],
    usage: usageOf(r),
    tributary: tributaryOf(r),
  };
}

export function chatCompletionOf(r: InferenceResult, created: number): ChatCompletion {
  return {
    id: chatId(r.id),
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
    usage: usageOf(r),
    tributary: tributaryOf(r),
  };
}

/** The events of one streamed answer in its dialect's chunk format. */
export interface ChunkFormat<T> {
  /** Sent once before the first text (chat: the assistant's role). */
  start: T | null;
  text(delta: string): T;
  /** The finish reason, with the `tributary` field. */
  finish(r: InferenceResult): T;
  /** No choices, the usage (`stream_options.include_usage`). */
  usage(r: InferenceResult): T;
}

export function textChunks(id: string, created: number, model: string): ChunkFormat<TextCompletionChunk> {
  const head = { id, object: 'text_completion' as const, created, model };
  return {
    start: null,
    text: (delta) => ({ ...head, choices: [{ index: 0, text: delta, logprobs: null, finish_reason: null }] }),
    finish: (r) => ({
      ...head,
      choices: [{ index: 0, text: '', logprobs: null, finish_reason: r.finishReason }],
      tributary: tributaryOf(r),
    }),
    usage: (r) => ({ ...head, choices: [], usage: usageOf(r) }),
  };
}

export function chatChunks(id: string, created: number, model: string): ChunkFormat<ChatCompletionChunk> {
  const head = { id, object: 'chat.completion.chunk' as const, created, model };
  return {
    start: {
      ...head,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    },
    text: (delta) => ({
      ...head,
      choices: [{ index: 0, delta: { content: delta }, logprobs: null, finish_reason: null }],
    }),
    finish: (r) => ({
      ...head,
      choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: r.finishReason }],
      tributary: tributaryOf(r),
    }),
    usage: (r) => ({ ...head, choices: [], usage: usageOf(r) }),
  };
}

/** One of the two OpenAI dialects (text and chat completions): its route, parsing and answers. */
interface Dialect<R extends StreamingRoute> {
  route: R;
  parse(body: RouteInput<R>['body']): ParsedRequest;
  /** The answer's id for a request id. */
  id(requestId: string): string;
  answer(r: InferenceResult, created: number): RouteOutput<R>;
  chunks(id: string, created: number, model: string): ChunkFormat<EventData<R>>;
  /** The event reporting an error after the stream opened. */
  error(e: unknown): EventData<R>;
}

const textDialect: Dialect<typeof api.createCompletion> = {
  route: api.createCompletion,
  parse: parseCompletionRequest,
  id: (requestId) => requestId,
  answer: textCompletionOf,
  chunks: textChunks,
  error: openAiErrorBodyOf,
};

const chatDialect: Dialect<typeof api.createChatCompletion> = {
  route: api.createChatCompletion,
  parse: parseChatRequest,
  id: chatId,
  answer: chatCompletionOf,
  chunks: chatChunks,
  error: openAiErrorBodyOf,
};

/** Streams an answer: the events open with the first text, end with the finish reason, usage and `[DONE]`. */
async function streamAnswer<R extends StreamingRoute>(
  openlora: OpenLora,
  d: Dialect<R>,
  request: InferenceRequest & { id: string },
  parsed: ParsedRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const chunks = d.chunks(d.id(request.id), Math.floor(Date.now() / 1000), parsed.model);
  return streamEvents(
    d.route,
    reply,
    async (stream) => {
      let started = false;
      const send = (event: EventData<R>) => {
        if (!started && chunks.start !== null) stream.send(chunks.start);
        started = true;
        stream.send(event);
      };
      const r = await openlora.infer({
        ...request,
        signal: stream.signal,
        onText: (delta) => send(chunks.text(delta)),
      });
      send(chunks.finish(r));
      if (parsed.includeUsage) stream.send(chunks.usage(r));
    },
    { done: '[DONE]', errorEvent: d.error },
  );
}

export function openAiRoutes(openlora: OpenLora) {
  return async (app: FastifyInstance) => {
    app.setErrorHandler((e, req, reply) => answerError(e, req, reply));
    // The JSON body as the client sent it (validation may normalize it): payment authorizations sign its hash.
    const received = new WeakMap<object, unknown>();
    app.addHook('preValidation', async (req) => {
      received.set(req, req.body);
    });

    serve(app, api.listModels, async () => ({
      object: 'list' as const,
      data: (await openlora.listModels()).map(listedModelOf),
    }));

    /** Parse → run → respond (one JSON body, or a stream); the client's disconnect cancels the run. */
    function completions<R extends StreamingRoute>(d: Dialect<R>) {
      serve(app, d.route, async (req: RouteRequest<R>, reply) => {
        const parsed = d.parse(req.body);
        const request = {
          id: newRequestId(),
          model: parsed.model,
          prompt: parsed.prompt,
          maxTokens: parsed.maxTokens,
          fitMaxTokens: parsed.fitMaxTokens,
          headers: req.headers,
          body: received.get(req) ?? req.body,
          ...parsed.options,
        };
        if (parsed.stream) return streamAnswer(openlora, d, request, parsed, reply);
        const created = Math.floor(Date.now() / 1000);
        return d.answer(await openlora.infer({ ...request, signal: disconnectSignal(reply) }), created);
      });
    }
    completions(textDialect);
    completions(chatDialect);
  };
}

/** A served model in OpenAI's model list, with its registry facts in `tributary`. */
export function listedModelOf(m: ServedModel): ListedModel {
  const r = m.record;
  return {
    id: m.id,
    object: 'model',
    created: 0,
    owned_by: r?.owner ?? 'tributary',
    tributary: r
      ? {
          modelId: r.id,
          adapterHash: r.latest.adapterHash,
          priceInPer1k: r.priceInPer1k,
          priceOutPer1k: r.priceOutPer1k,
          dataNet:
            r.latest.dataNetId === null
              ? null
              : { id: r.latest.dataNetId, version: r.latest.dataNetVersion, root: r.latest.dataNetRoot },
        }
      : { base: true },
  };
}

/**
 * Operator routes: /metrics for Prometheus, and the adapter cache (list, pin, unpin, evict).
 * `requireOperator` guards the routes that change what is loaded (it throws for anyone else).
 */
export function servingAdminRoutes(openlora: OpenLora, requireOperator: (req: FastifyRequest) => void) {
  return async (app: FastifyInstance) => {
    serve(app, api.metrics, async (_req, reply) =>
      reply.type('text/plain; version=0.0.4').send(openlora.metricsText()),
    );
    serve(app, api.listAdapters, async () => ({
      loaded: openlora.cache.list(),
      usedBytes: openlora.cache.usedBytes(),
      stats: openlora.cache.stats,
      queueDepth: openlora.scheduler.queueDepth(),
    }));
    serve(app, api.pinAdapter, async (req) => {
      requireOperator(req);
      const key = req.params.adapter.toLowerCase();
      openlora.cache.pin(key);
      return { adapter: req.params.adapter, pinned: openlora.cache.isPinned(key) };
    });
    serve(app, api.unpinAdapter, async (req) => {
      requireOperator(req);
      const key = req.params.adapter.toLowerCase();
      openlora.cache.unpin(key);
      return { adapter: req.params.adapter, pinned: openlora.cache.isPinned(key) };
    });
    serve(app, api.evictAdapter, async (req) => {
      requireOperator(req);
      return { adapter: req.params.adapter, evicted: await openlora.cache.evict(req.params.adapter.toLowerCase()) };
    });
  };
}
