/**
 * OpenLoRA's routes: the OpenAI-compatible API (models, text and chat completions, streamed as server-sent events
 * when asked), the operator's view of the adapter cache and Prometheus metrics, and the node's mirror of
 * ModelRegistry. The OpenAI bodies are OpenAI's, field for field, plus a `tributary` field: the request's id, the
 * model and adapter that answered, timings, and — for a paid model — the payment, the node-signed receipt and the
 * attribution. Errors on the OpenAI routes have OpenAI's shape (`openAiErrorBody`).
 */
import { z } from 'zod';
import { attributionResult } from '../artifacts/attribution-result.js';
import { address, bytes32, signature, uintString, wei } from '../primitives.js';
import { route } from '../route.js';

// ---------------------------------------------------------------------------------------------------------------
// The model registry, as this node mirrors it

export const modelVersionRecord = z.object({
  version: z.number().int(),
  adapterHash: bytes32,
  dataNetId: uintString.nullable(),
  dataNetVersion: z.number().int().nullable(),
  dataNetRoot: bytes32.nullable(),
  configHash: bytes32,
  /** The training receipt's CID ('' when the model was registered without one). */
  receiptCid: z.string(),
});
export type ModelVersionRecord = z.output<typeof modelVersionRecord>;

/** A model registered on ModelRegistry, with its latest version. */
export const modelRecord = z.object({
  id: uintString,
  name: z.string(),
  owner: address,
  baseModelHash: bytes32,
  /** Prices in wei per 1,000 tokens. */
  priceInPer1k: uintString,
  priceOutPer1k: uintString,
  active: z.boolean(),
  latest: modelVersionRecord,
});
export type ModelRecord = z.output<typeof modelRecord>;

/**
 * A model as this node serves it: what clients put in `model`, and its registry record (null for the base model,
 * which is free). OpenLoRA resolves it; settlement prices and attributes with it.
 */
export const servedModel = z.object({
  id: z.string(),
  name: z.string(),
  modelId: uintString.nullable(),
  adapterHash: bytes32.nullable(),
  record: modelRecord.nullable(),
});
export type ServedModel = z.output<typeof servedModel>;

const registryTags = ['registry'] as const;

export const listRegisteredModels = route({
  method: 'GET',
  path: '/v1/registry/models',
  tags: registryTags,
  summary: 'Registered models with prices and lineage',
  response: z.object({ items: z.array(modelRecord) }),
});

export const getRegisteredModel = route({
  method: 'GET',
  path: '/v1/registry/models/:model',
  tags: registryTags,
  summary: 'One registered model, by id or name',
  params: z.object({ model: z.string().min(1) }),
  response: modelRecord,
});

// ---------------------------------------------------------------------------------------------------------------
// What a paid answer carries

/** The payment of one answer: the fee, the channel's new total, and the amount to sign the next voucher for. */
export const paymentSummary = z.object({
  channelId: uintString,
  fee: uintString,
  /** Everything charged on the channel so far, this answer included. */
  charged: uintString,
  /** The cumulative amount the next voucher must cover (the channel's total charge). */
  voucherFor: uintString,
});
export type PaymentSummary = z.output<typeof paymentSummary>;

/** Where to find the node-signed receipt (`GET /v1/receipts/:id`) and who signed it. */
export const receiptRef = z.object({ id: bytes32, signature, node: address });
export type ReceiptRef = z.output<typeof receiptRef>;

/** What settling a paid answer adds to it: the payment, the receipt and, when the answer was attributed, the attribution. */
export const paymentOutcome = z.object({
  payment: paymentSummary,
  receipt: receiptRef,
  attribution: attributionResult.optional(),
});
export type PaymentOutcome = z.output<typeof paymentOutcome>;

/** A passage retrieval put before the prompt (`retrieval: true`). */
export const retrievedPassage = z.object({ id: z.string(), contributor: z.string() });
export type RetrievedPassage = z.output<typeof retrievedPassage>;

/** Tributary's field on every answer (and on a stream's last chunk). */
export const tributaryField = z.object({
  requestId: z.string(),
  /** The registry id of the model (null for the base model). */
  modelId: uintString.nullable(),
  adapterHash: bytes32.nullable(),
  latencyMs: z.number(),
  /** Time to the first token. */
  ttftMs: z.number(),
  /** Whether the adapter had to be loaded for this request. */
  coldLoad: z.boolean(),
  loadMs: z.number(),
  queueMs: z.number(),
  /** A paid model's payment, receipt and attribution. */
  payment: paymentSummary.optional(),
  receipt: receiptRef.optional(),
  attribution: attributionResult.optional(),
  retrieved: z.array(retrievedPassage).optional(),
});
export type TributaryField = z.output<typeof tributaryField>;

// ---------------------------------------------------------------------------------------------------------------
// OpenAI errors

/** OpenAI's error body: every error of the OpenAI routes, and a stream's error event. */
export const openAiErrorBody = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAiErrorBody = z.output<typeof openAiErrorBody>;

/** The error answers the OpenAI routes document. */
const openAiErrors = {
  400: openAiErrorBody,
  401: openAiErrorBody,
  402: openAiErrorBody,
  404: openAiErrorBody,
  429: openAiErrorBody,
  500: openAiErrorBody,
  502: openAiErrorBody,
  503: openAiErrorBody,
};

// ---------------------------------------------------------------------------------------------------------------
// OpenAI requests

/** Parameters OpenAI clients may send that this server does not implement: refused by name, not ignored. */
export const unsupportedParameters = [
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
] as const;

const commonParameters = {
  model: z.string().min(1),
  max_tokens: z.number().int().min(1).max(4096).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  user: z.string().max(256).nullish(),
  /** Must be 1 (one choice). */
  n: z.number().int().nullish(),
  /** Text only. */
  response_format: z.looseObject({ type: z.string() }).nullish(),
  /** Tributary's payment caps (wei): the request is refused before generation if it could cost more. */
  max_fee: wei.nullish(),
  max_royalty: wei.nullish(),
  /** Tributary's retrieval: ground the answer in passages of the model's DataNet (they earn citation share). */
  retrieval: z.union([z.boolean(), z.object({ top_k: z.number().int().min(1).max(8) })]).nullish(),
};

/** A text completion request. OpenAI clients may send more: other parameters pass validation (see `unsupportedParameters`). */
export const completionRequest = z.looseObject({
  ...commonParameters,
  prompt: z.union([z.string(), z.tuple([z.string()])]),
});
export type CompletionRequest = z.output<typeof completionRequest>;

export const chatRole = z.enum(['system', 'developer', 'user', 'assistant']);
export const chatContentPart = z.object({ type: z.literal('text'), text: z.string() });
export const chatRequestMessage = z.object({
  role: chatRole,
  content: z.union([z.string(), z.array(chatContentPart)]),
  name: z.string().optional(),
});

export const chatCompletionRequest = z.looseObject({
  ...commonParameters,
  max_completion_tokens: z.number().int().min(1).max(4096).nullish(),
  messages: z.array(chatRequestMessage).min(1),
});
export type ChatCompletionRequest = z.output<typeof chatCompletionRequest>;

// ---------------------------------------------------------------------------------------------------------------
// OpenAI answers

export const finishReason = z.enum(['stop', 'length']);
export type FinishReason = z.output<typeof finishReason>;

export const usage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});
export type Usage = z.output<typeof usage>;

export const textCompletion = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({ index: z.number().int(), text: z.string(), logprobs: z.null(), finish_reason: finishReason }),
  ),
  usage,
  tributary: tributaryField,
});
export type TextCompletion = z.output<typeof textCompletion>;

export const chatCompletion = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
      logprobs: z.null(),
      finish_reason: finishReason,
    }),
  ),
  usage,
  tributary: tributaryField,
});
export type ChatCompletion = z.output<typeof chatCompletion>;

/**
 * One event of a streamed text completion: a piece of text; then one with the finish reason and the `tributary`
 * field; then, with `stream_options.include_usage`, one with no choices and the usage.
 */
export const textCompletionChunk = z.object({
  id: z.string(),
  object: z.literal('text_completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({ index: z.number().int(), text: z.string(), logprobs: z.null(), finish_reason: finishReason.nullable() }),
  ),
  usage: usage.optional(),
  tributary: tributaryField.optional(),
});
export type TextCompletionChunk = z.output<typeof textCompletionChunk>;

/** One event of a streamed chat completion: the role first, then content deltas, then as for text completions. */
export const chatCompletionChunk = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
      logprobs: z.null(),
      finish_reason: finishReason.nullable(),
    }),
  ),
  usage: usage.optional(),
  tributary: tributaryField.optional(),
});
export type ChatCompletionChunk = z.output<typeof chatCompletionChunk>;

/** A registered model's Tributary facts in the model list (the base model says `{base: true}`). */
export const listedModelInfo = z.union([
  z.object({
    modelId: uintString,
    adapterHash: bytes32,
    priceInPer1k: uintString,
    priceOutPer1k: uintString,
    dataNet: z.object({ id: uintString, version: z.number().int().nullable(), root: bytes32.nullable() }).nullable(),
  }),
  z.object({ base: z.literal(true) }),
]);

export const listedModel = z.object({
  id: z.string(),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
  tributary: listedModelInfo,
});
export type ListedModel = z.output<typeof listedModel>;

const openAiTags = ['openai'] as const;

export const listModels = route({
  method: 'GET',
  path: '/v1/models',
  tags: openAiTags,
  summary: 'Models this node serves (OpenAI format)',
  description: 'The base model and every active model registered on it, with prices and lineage in `tributary`.',
  response: z.object({ object: z.literal('list'), data: z.array(listedModel) }),
  otherResponses: openAiErrors,
});

export const createCompletion = route({
  method: 'POST',
  path: '/v1/completions',
  tags: openAiTags,
  summary: 'Text completion (OpenAI format; stream: true for SSE)',
  description:
    "With `stream: true`, server-sent events of `textCompletionChunk` end with `data: [DONE]`; an error after the stream opened is one event with OpenAI's error body.",
  body: completionRequest,
  response: textCompletion,
  events: z.union([textCompletionChunk, openAiErrorBody]),
  otherResponses: openAiErrors,
});

export const createChatCompletion = route({
  method: 'POST',
  path: '/v1/chat/completions',
  tags: openAiTags,
  summary: 'Chat completion (OpenAI format; stream: true for SSE)',
  description:
    "With `stream: true`, server-sent events of `chatCompletionChunk` end with `data: [DONE]`; an error after the stream opened is one event with OpenAI's error body.",
  body: chatCompletionRequest,
  response: chatCompletion,
  events: z.union([chatCompletionChunk, openAiErrorBody]),
  otherResponses: openAiErrors,
});

// ---------------------------------------------------------------------------------------------------------------
// Serving administration

const servingTags = ['openlora'] as const;

export const metrics = route({
  method: 'GET',
  path: '/metrics',
  tags: servingTags,
  summary: 'Prometheus metrics: requests, tokens, queue, adapter cache',
  contentType: 'text/plain',
  response: z.string().meta({ description: 'Prometheus text exposition format 0.0.4' }),
});

export const adapterStatus = z.object({
  /** The adapter's hash, or `base`. */
  key: z.string(),
  pinned: z.boolean(),
  /** Requests using it now. */
  users: z.number().int(),
  memoryBytes: z.number(),
  /** When a request last used it (ms since the epoch). */
  lastUsedAt: z.number(),
  hits: z.number().int(),
});

export const adapterCache = z.object({
  loaded: z.array(adapterStatus),
  usedBytes: z.number(),
  stats: z.object({
    hits: z.number().int(),
    misses: z.number().int(),
    evictions: z.number().int(),
    loadFailures: z.number().int(),
  }),
  queueDepth: z.number().int(),
});
export type AdapterCacheView = z.output<typeof adapterCache>;

export const listAdapters = route({
  method: 'GET',
  path: '/v1/openlora/adapters',
  tags: servingTags,
  summary: 'Loaded adapters and cache statistics',
  response: adapterCache,
});

const adapterParams = z.object({
  adapter: z.string().regex(/^0x[0-9a-fA-F]{64}$|^base$/, 'expected an adapter hash (0x + 64 hex)'),
});

export const pinAdapter = route({
  method: 'POST',
  path: '/v1/openlora/adapters/:adapter/pin',
  tags: servingTags,
  summary: 'Keep an adapter loaded (operator)',
  operator: true,
  params: adapterParams,
  response: z.object({ adapter: z.string(), pinned: z.boolean() }),
});

export const unpinAdapter = route({
  method: 'POST',
  path: '/v1/openlora/adapters/:adapter/unpin',
  tags: servingTags,
  summary: 'Let an adapter be evicted (operator)',
  description: 'The base model stays pinned.',
  operator: true,
  params: adapterParams,
  response: z.object({ adapter: z.string(), pinned: z.boolean() }),
});

export const evictAdapter = route({
  method: 'POST',
  path: '/v1/openlora/adapters/:adapter/evict',
  tags: servingTags,
  summary: 'Evict an idle adapter now (operator)',
  description: '`evicted` is false when the adapter is not loaded, in use, or the base model.',
  operator: true,
  params: adapterParams,
  response: z.object({ adapter: z.string(), evicted: z.boolean() }),
});
