/**
 * The ModelFactory routes: fine-tune jobs on a published DataNet version, their progress as server-sent events,
 * and the base models a node fine-tunes. A job's id is a `bigint` and its times are `Date`s on both sides of the
 * wire; the fine-tune result keeps the DataNet id as the decimal string its training receipt holds.
 */
import { z } from 'zod';
import { errorBody } from '../client.js';
import { bytes32, cid, decimalId, isoDate, uintString } from '../primitives.js';
import { route } from '../route.js';

const tags = ['factory'] as const;

// ---------------------------------------------------------------------------------------------------------------
// The request: its rules are defined here, once; src/factory/request.ts builds on them and adds the node's
// defaults for what a request leaves out.

/** The projections a LoRA adapter can target (the engine's `loraTargets`, src/engine/config.ts). */
export const loraTargets = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LoraTarget = (typeof loraTargets)[number];

/** ModelRegistry's rule for model names (its isValidName): lowercase ASCII only, so no name imitates another. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const MODEL_NAME_RULE =
  'must be 1-64 characters of lowercase letters a-z, digits, ".", "_" and "-", starting with a letter or digit';

/** Fine-tune hyperparameters with their ranges; the node fills in what a request leaves out. */
export const hyperparameters = z.object({
  rank: z.number().int().min(1).max(64),
  alpha: z.number().positive().max(1024),
  dropout: z.number().min(0).max(0.5),
  targets: z.array(z.enum(loraTargets)).min(1),
  learningRate: z.number().min(1e-6).max(0.1),
  /** Optimizer steps; when absent, `epochs` passes over the training split. */
  steps: z.number().int().min(1).max(100_000).optional(),
  epochs: z.number().min(0.1).max(100),
  batchSize: z.number().int().min(1).max(64),
  /** Cutoff length: examples longer than this many tokens are truncated. */
  seqLen: z.number().int().min(8).max(4096),
  warmupFraction: z.number().min(0).max(0.5),
  minLrRatio: z.number().min(0).max(1),
  weightDecay: z.number().min(0).max(1),
  clipNorm: z.number().positive().max(100),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  evalFraction: z.number().min(0).max(0.5),
  checkpointEvery: z.number().int().min(1).max(10_000),
  /**
   * Also train each instruction/response row as a grounded prompt: its own text as the retrieved passage before
   * another row's question (src/factory/dataset.ts), so the model answers from the passage retrieval gives it.
   */
  grounded: z.boolean().optional(),
});
export type Hyperparameters = z.output<typeof hyperparameters>;

/**
 * What the fine-tune is for; each preset brings its own defaults for the hyperparameters a request leaves out
 * (src/factory/request.ts). `facts`: memorise instruction/response rows, answering each as it was given; `style`:
 * adapt tone and format without memorising; `continue`: causal-LM training on documents.
 */
export const fineTunePresets = ['facts', 'style', 'continue'] as const;
export type FineTunePreset = (typeof fineTunePresets)[number];

const requestFields = {
  /** The model's name (unique in ModelRegistry once published). */
  name: z.string().regex(MODEL_NAME_PATTERN, MODEL_NAME_RULE),
  preset: z.enum(fineTunePresets).exactOptional(),
  /** The bundled base model's name (default), or the CID of a base model GGUF in the blob store. */
  baseModel: z.string().min(1).optional(),
  dataNetId: z.string().regex(/^\d+$/, 'expected a DataNet id (decimal)'),
  dataNetVersion: z.number().int().min(1),
};

/** What a client sends: any hyperparameter may be left out. */
export const fineTuneRequestBody = z.object({ ...requestFields, hyper: hyperparameters.partial().optional() });
export type FineTuneRequestBody = z.output<typeof fineTuneRequestBody>;

/** A job's request as the node stored it, every hyperparameter filled in. */
export const fineTuneRequest = z.object({ ...requestFields, hyper: hyperparameters });
export type FineTuneRequest = z.output<typeof fineTuneRequest>;

// ---------------------------------------------------------------------------------------------------------------
// Progress and result

export const fineTuneEstimate = z.object({
  steps: z.number().int(),
  tokens: z.number(),
  /** The process's peak. */
  memoryBytes: z.number(),
  /** The part in the training engine's WebAssembly memory (at most 4 GiB); absent in jobs from before it was kept. */
  engineBytes: z.number().optional(),
  seconds: z.number(),
});

export const fineTuneProgress = z.object({
  phase: z.enum(['preparing', 'training', 'evaluating']),
  step: z.number().int(),
  totalSteps: z.number().int(),
  loss: z.number().exactOptional(),
  lossFirst: z.number().exactOptional(),
  tokensPerSec: z.number().exactOptional(),
  etaSeconds: z.number().exactOptional(),
  /** The last checkpoint in the blob store: where a restarted job resumes. */
  checkpointCid: cid.exactOptional(),
  estimate: fineTuneEstimate.exactOptional(),
});
export type FineTuneProgress = z.output<typeof fineTuneProgress>;

export const fineTuneMetrics = z.object({
  steps: z.number().int(),
  trainExamples: z.number().int(),
  evalExamples: z.number().int(),
  lossFirst: z.number(),
  lossLast: z.number(),
  evalLoss: z.number().nullable(),
  perplexity: z.number().nullable(),
  exactMatch: z.number().nullable(),
  trainExactMatch: z.number().nullable(),
  parityMaxAbsDiff: z.number(),
  tokensPerSec: z.number(),
  seconds: z.number(),
});
export type FineTuneMetrics = z.output<typeof fineTuneMetrics>;

export const fineTuneResult = z.object({
  name: z.string(),
  baseModel: z.object({ name: z.string(), sha256: bytes32, cid }),
  /** The training data's lineage: DataNet id (decimal), version and committed root. */
  dataNet: z.object({ id: z.string().regex(/^\d+$/), version: z.number().int().min(1), root: bytes32 }),
  adapter: z.object({ sha256: bytes32, cid, bytes: z.number().int().nonnegative() }),
  configHash: bytes32,
  /** The training receipt in the blob store. */
  receiptCid: cid,
  metrics: fineTuneMetrics,
  /** The contributions held out of training for evaluation (none for a `facts` fine-tune: every fact is taught). */
  heldOut: z.array(z.string()).exactOptional(),
});
export type FineTuneResult = z.output<typeof fineTuneResult>;

// ---------------------------------------------------------------------------------------------------------------
// Jobs

export const jobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

export const fineTuneJob = z.object({
  id: uintString,
  kind: z.string(),
  status: jobStatus,
  attempts: z.number().int().nonnegative(),
  request: fineTuneRequest,
  /** The last progress report; null before the job starts. */
  progress: fineTuneProgress.nullable(),
  result: fineTuneResult.nullable(),
  error: z.object({ message: z.string(), code: z.string().exactOptional() }).nullable(),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
});
export type FineTuneJob = z.output<typeof fineTuneJob>;

const jobParams = z.object({ id: decimalId });

export const submitJob = route({
  method: 'POST',
  path: '/v1/factory/jobs',
  tags,
  status: 202,
  summary: 'Start a LoRA fine-tune on a published DataNet version',
  description:
    'Queued as a durable job: it survives restarts and resumes from its last checkpoint. Progress: GET /v1/factory/jobs/:id/events.',
  body: fineTuneRequestBody,
  response: fineTuneJob,
});

export const listJobs = route({
  method: 'GET',
  path: '/v1/factory/jobs',
  tags,
  summary: 'Fine-tune jobs, newest first',
  response: z.object({ items: z.array(fineTuneJob) }),
});

export const getJob = route({
  method: 'GET',
  path: '/v1/factory/jobs/:id',
  tags,
  summary: 'A fine-tune job: status, progress, result',
  params: jobParams,
  response: fineTuneJob,
});

export const cancelJob = route({
  method: 'POST',
  path: '/v1/factory/jobs/:id/cancel',
  tags,
  summary: 'Cancel a queued or running fine-tune',
  params: jobParams,
  response: fineTuneJob,
});

/**
 * The data of each server-sent event of a job, by event name: `state` (the job when the stream opens), then the
 * job runner's events — `started`, `progress`, `retrying` and `failed` (the error), `succeeded` (the result),
 * `cancelled` — until one that ends the job.
 */
export const jobEventData = {
  state: fineTuneJob,
  started: z.object({ attempt: z.number().int() }),
  progress: fineTuneProgress,
  retrying: errorBody.shape.error,
  failed: errorBody.shape.error,
  succeeded: fineTuneResult,
  cancelled: z.null(),
} as const;
export type JobEventName = keyof typeof jobEventData;
/** One event of a job's stream, its name with its decoded data. */
export type JobEvent = { [K in JobEventName]: { event: K; data: z.output<(typeof jobEventData)[K]> } }[JobEventName];

/** The events that end a job's stream. */
export const terminalJobEvents: readonly JobEventName[] = ['succeeded', 'failed', 'cancelled'];

export const jobEvents = route({
  method: 'GET',
  path: '/v1/factory/jobs/:id/events',
  tags,
  summary: 'Progress of a fine-tune as server-sent events (step, loss, tokens/s, ETA), ending when the job does',
  description:
    'Always a stream (text/event-stream): first `state` with the job, then started, progress, retrying, failed, succeeded or cancelled; a finished job sends only `state`.',
  params: jobParams,
  response: fineTuneJob,
  events: z.union([
    jobEventData.state,
    jobEventData.started,
    jobEventData.progress,
    jobEventData.failed,
    jobEventData.succeeded,
    jobEventData.cancelled,
  ]),
});

// ---------------------------------------------------------------------------------------------------------------
// Base models

export const llamaConfig = z.object({
  /** The GGUF conventions the engine reads the model with (absent: llama; qwen2 adds q/k/v biases, NEOX RoPE). */
  architecture: z.enum(['llama', 'qwen2']).optional(),
  vocabSize: z.number().int(),
  dim: z.number().int(),
  nLayers: z.number().int(),
  nHeads: z.number().int(),
  nKvHeads: z.number().int(),
  ffnDim: z.number().int(),
  contextLength: z.number().int(),
  ropeTheta: z.number(),
  normEps: z.number(),
  /** The output head reuses the token embedding. */
  tieEmbeddings: z.boolean(),
});

/** Yes, or no with the reason (e.g. the engine does not read Q5_K tensors). */
const capability = z.object({ ok: z.boolean(), reason: z.string().optional() });

export const baseModelInfo = z.object({
  /** The bundled base's name, or the one its operator registered it under. */
  name: z.string(),
  /** Its identity in lineage: the sha-256 of the GGUF file. */
  sha256: bytes32,
  cid,
  params: z.number().int(),
  config: llamaConfig,
  /** `general.architecture`: llama (Llama, Mistral, SmolLM, TinyLlama), qwen2 or phi3. */
  architecture: z.string(),
  /** The distinct tensor types, by ggml name (F32, F16, Q8_0, Q4_K, …). */
  tensorTypes: z.array(z.string()),
  /** `tokenizer.ggml.model`: gpt2 (byte-level BPE) or llama (SentencePiece). */
  tokenizer: z.string(),
  bytes: z.number().int().nonnegative(),
  /** Shipped with the node (models/), as opposed to registered by its operator. */
  bundled: z.boolean(),
  /** Whether this node fine-tunes adapters on it. */
  fineTune: capability,
  /** Whether this node serves adapters on it. */
  serve: capability,
});
export type BaseModelInfo = z.output<typeof baseModelInfo>;

/** Largest base model GGUF the node accepts over HTTP (the engine's wasm memory stops at 4 GiB anyway). */
export const MAX_BASE_MODEL_BYTES = 4 * 1024 ** 3 - 1;

export const addBaseModel = route({
  method: 'POST',
  path: '/v1/factory/base-models',
  tags,
  status: 201,
  operator: true,
  summary: 'Register a llama-family base model GGUF (application/octet-stream) under a name',
  description:
    'The file is described from its header (architecture, shape, tensor and tokenizer types), refused if it is not ' +
    'a llama-family base model, and stored by content; its sha-256 is its identity in lineage. Registering the same ' +
    'bytes under the same name again is a no-op; a name or a file already registered otherwise is a conflict.',
  query: z.object({ name: z.string().regex(MODEL_NAME_PATTERN, MODEL_NAME_RULE) }),
  response: baseModelInfo,
});

export const listBaseModels = route({
  method: 'GET',
  path: '/v1/factory/base-models',
  tags,
  summary: 'Base models on this node: the bundled one and those its operator registered, with what it does with each',
  response: z.object({ items: z.array(baseModelInfo) }),
});
