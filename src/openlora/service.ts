/**
 * OpenLoRA: every model registered on the bundled base, served from one loaded base model. A request names a
 * model (its registry id or name, or the base model's name); the scheduler gives it a context with that model's
 * adapter; the usage is metered. Hooks let the node make inference payable (check a voucher before, write a
 * receipt and attribute after) without this folder depending on settlement.
 */
import { randomUUID } from 'node:crypto';
import type { Hex } from 'viem';
import { BaseError, type Logger, silentLogger } from '../core/index.js';
import type { LlamaRuntime } from '../engine/index.js';
import type { BlobStore, Db } from '../store/index.js';
import { BASE, createAdapterCache } from './adapters.js';
import { createMetrics } from './metrics.js';
import type { ModelRecord, ModelRegistryMirror } from './registry.js';
import { createScheduler } from './scheduler.js';

export const newRequestId = () => `cmpl-${randomUUID().replaceAll('-', '')}`;

export interface ServedModel {
  /** What clients put in `model`. */
  id: string;
  name: string;
  modelId: bigint | null;
  adapterHash: Hex | null;
  record: ModelRecord | null;
}

export interface InferenceRequest {
  /** The request's id (generated when absent). */
  id?: string;
  model: string;
  prompt: string;
  maxTokens: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  stop?: string[];
  requester?: string;
  signal?: AbortSignal;
  onText?: (delta: string) => void;
  /** Request headers, for hooks (vouchers travel in a header). */
  headers?: Record<string, string | string[] | undefined>;
  /** The request's JSON body as received, for hooks (a payment authorization signs its hash). */
  body?: unknown;
  /** The caller's caps in wei on the fee and on the royalty (the fee less the platform's part), for hooks. */
  maxFee?: bigint;
  maxRoyalty?: bigint;
  /** Retrieval-augmented generation: passages of the model's DataNet found for `query` are put before the prompt. */
  retrieval?: { query: string; topK: number };
}

export interface InferenceResult {
  id: string;
  model: ServedModel;
  text: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  ttftMs: number;
  coldLoad: boolean;
  loadMs: number;
  queueMs: number;
  /** Fields hooks add to the response (receipt, attribution). */
  extra: Record<string, unknown>;
}

export interface PaymentHooks {
  /** Before generation: refuse (throw) or return a context passed to `settle`. */
  authorize(r: {
    model: ServedModel;
    promptTokens: number;
    maxTokens: number;
    request: InferenceRequest;
    requestId: string;
  }): Promise<unknown>;
  /** After generation: record what happened; returns fields for the response. */
  settle(r: {
    authorization: unknown;
    result: Omit<InferenceResult, 'extra'>;
    request: InferenceRequest;
  }): Promise<Record<string, unknown>>;
  /** Generation failed after `authorize`: undo what it reserved. */
  abort(authorization: unknown): Promise<void>;
}

/** Finds the passages that ground an answer (the node retrieves from the model's DataNet version). */
export type RetrievalHook = (r: {
  model: ServedModel;
  query: string;
  topK: number;
}) => Promise<{ context: string; citations: { id: string; contributor: string }[] } | null>;

export interface OpenLoraOptions {
  runtime: LlamaRuntime;
  blobs: BlobStore;
  db: Db;
  mirror: ModelRegistryMirror;
  base: { name: string; sha256: Hex };
  budgetBytes?: number;
  /** Estimated memory of one serving context besides its adapter (see DEFAULT_CONTEXT_BYTES). */
  contextBytes?: number;
  sequencesPerContext?: number;
  maxActive?: number;
  maxQueue?: number;
  timeoutMs?: number;
  log?: Logger;
  hooks?: PaymentHooks;
  retrieve?: RetrievalHook;
}

export function createOpenLora(o: OpenLoraOptions) {
  const log = o.log ?? silentLogger();
  const sequencesPerContext = o.sequencesPerContext ?? 4;
  const cache = createAdapterCache({
    runtime: o.runtime,
    blobs: o.blobs,
    budgetBytes: o.budgetBytes ?? 512 * 1024 * 1024,
    sequencesPerContext,
    ...(o.contextBytes === undefined ? {} : { contextBytes: o.contextBytes }),
    log,
  });
  const scheduler = createScheduler({
    cache,
    maxActive: o.maxActive ?? 4,
    perAdapter: sequencesPerContext,
    maxQueue: o.maxQueue ?? 256,
    defaultTimeoutMs: o.timeoutMs ?? 120_000,
    log,
  });
  const metrics = createMetrics();
  let hooks = o.hooks;
  let retrieve = o.retrieve;

  const baseModel: ServedModel = { id: o.base.name, name: o.base.name, modelId: null, adapterHash: null, record: null };

  /** The model a client asked for; NOT_FOUND if it is unknown, inactive, or built on another base. */
  async function resolve(ref: string): Promise<ServedModel> {
    if (ref === o.base.name) return baseModel;
    const m = await o.mirror.resolve(ref);
    if (!m.active)
      throw new BaseError('NOT_FOUND', `Model "${ref}" is deactivated by its owner`, { details: { model: ref } });
    if (m.baseModelHash.toLowerCase() !== o.base.sha256.toLowerCase()) {
      throw new BaseError(
        'NOT_FOUND',
        `Model "${ref}" is built on another base model (${m.baseModelHash}); this node serves ${o.base.name}`,
        { details: { model: ref } },
      );
    }
    return { id: m.name, name: m.name, modelId: m.id, adapterHash: m.latest.adapterHash, record: m };
  }

  async function meter(r: {
    id: string;
    model: ServedModel;
    promptTokens: number;
    completionTokens: number;
    latencyMs: number;
    ttftMs: number | null;
    requester?: string | undefined;
    status: string;
    errorCode?: string;
  }) {
    metrics.request(
      { model: r.model.name, adapter: r.model.adapterHash ?? BASE, status: r.status },
      { prompt: r.promptTokens, completion: r.completionTokens },
    );
    await o.db
      .query(
        `INSERT INTO usage_records (id, model_id, model_name, adapter_hash, input_tokens, output_tokens, latency_ms, ttft_ms, requester, status, error_code)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          r.id,
          r.model.modelId?.toString() ?? null,
          r.model.name,
          r.model.adapterHash,
          r.promptTokens,
          r.completionTokens,
          Math.round(r.latencyMs),
          r.ttftMs === null ? null : Math.round(r.ttftMs),
          r.requester ?? null,
          r.status,
          r.errorCode ?? null,
        ],
      )
      .catch((e: unknown) => log.error({ err: e }, 'could not record usage'));
  }

  async function infer(asked: InferenceRequest): Promise<InferenceResult> {
    const started = performance.now();
    const id = asked.id ?? newRequestId();
    const model = await resolve(asked.model);
    // With retrieval, what the model reads (and what is priced and attributed) is the passages plus the prompt.
    const retrieved =
      asked.retrieval && retrieve
        ? await retrieve({ model, query: asked.retrieval.query, topK: asked.retrieval.topK })
        : null;
    const req = retrieved ? { ...asked, prompt: `${retrieved.context}\n${asked.prompt}` } : asked;
    const prompt = o.runtime.tokenize(req.prompt);
    if (prompt.length === 0)
      throw new BaseError('INVALID_ARGUMENT', 'The prompt is empty', { details: { field: 'prompt' } });
    if (prompt.length + req.maxTokens > o.runtime.contextSize) {
      throw new BaseError(
        'INVALID_ARGUMENT',
        `The prompt (${prompt.length} tokens) plus max_tokens (${req.maxTokens}) exceeds the model's context of ${o.runtime.contextSize} tokens`,
        {
          details: {
            field: prompt.length >= o.runtime.contextSize ? 'prompt' : 'max_tokens',
            promptTokens: prompt.length,
            contextSize: o.runtime.contextSize,
          },
        },
      );
    }
    const authorization = hooks
      ? await hooks.authorize({
          model,
          promptTokens: prompt.length,
          maxTokens: req.maxTokens,
          request: req,
          requestId: id,
        })
      : undefined;
    let completionTokens = 0;
    try {
      const { result, info } = await scheduler.submit(
        model.adapterHash ?? BASE,
        async (lease, signal) => {
          // Stop sequences: generation stops once one appears, and the text ends before it.
          const stops = req.stop ?? [];
          const local = new AbortController();
          let text = '';
          let sent = 0;
          const holdBack = Math.max(0, ...stops.map((s) => s.length - 1));
          const completion = await lease.ctx.complete({
            prompt,
            maxTokens: req.maxTokens,
            ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
            ...(req.topP === undefined ? {} : { topP: req.topP }),
            ...(req.seed === undefined ? {} : { seed: req.seed }),
            signal: AbortSignal.any([signal, local.signal]),
            onText: (delta) => {
              text += delta;
              const at =
                stops.length > 0
                  ? Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0))
                  : Number.POSITIVE_INFINITY;
              if (Number.isFinite(at)) {
                text = text.slice(0, at);
                local.abort();
              }
              const safe = Number.isFinite(at) ? text.length : Math.max(sent, text.length - holdBack);
              if (safe > sent) {
                req.onText?.(text.slice(sent, safe));
                sent = safe;
              }
            },
          });
          completionTokens = completion.tokens.length;
          const stopped = local.signal.aborted;
          if (!stopped && text.length > sent) req.onText?.(text.slice(sent));
          return {
            text: stopped ? text : completion.text,
            finishReason: stopped || completion.finishReason === 'stop' ? ('stop' as const) : ('length' as const),
            ttftMs: completion.ttftMs,
            tokens: completion.tokens.length,
          };
        },
        { ...(req.signal ? { signal: req.signal } : {}) },
      );
      const base: Omit<InferenceResult, 'extra'> = {
        id,
        model,
        text: result.text,
        finishReason: result.finishReason,
        promptTokens: prompt.length,
        completionTokens: result.tokens,
        latencyMs: performance.now() - started,
        ttftMs: result.ttftMs,
        coldLoad: info.lease.cold,
        loadMs: info.lease.loadMs,
        queueMs: info.queueMs,
      };
      const extra = hooks ? await hooks.settle({ authorization, result: base, request: req }) : {};
      await meter({
        id,
        model,
        promptTokens: base.promptTokens,
        completionTokens: base.completionTokens,
        latencyMs: base.latencyMs,
        ttftMs: base.ttftMs,
        requester: req.requester,
        status: 'ok',
      });
      return { ...base, extra: retrieved ? { ...extra, retrieved: retrieved.citations } : extra };
    } catch (e) {
      if (hooks && authorization !== undefined)
        await hooks
          .abort(authorization)
          .catch((err: unknown) => log.error({ err }, 'releasing a payment reservation failed'));
      const code = e instanceof BaseError ? e.code : 'INTERNAL';
      const status = code === 'TIMEOUT' ? 'timeout' : req.signal?.aborted ? 'cancelled' : 'error';
      await meter({
        id,
        model,
        promptTokens: prompt.length,
        completionTokens,
        latencyMs: performance.now() - started,
        ttftMs: null,
        requester: req.requester,
        status,
        errorCode: code,
      });
      throw e;
    }
  }

  return {
    infer,
    resolve,
    /** How many tokens `text` is for the served base model (prices are per token). */
    countTokens: (text: string): number => o.runtime.tokenize(text).length,
    /** The base model and every active model registered on it. */
    async listModels(): Promise<ServedModel[]> {
      await o.mirror.sync().catch((e: unknown) => log.warn({ err: e }, 'model registry sync failed'));
      const registered = (await o.mirror.list()).filter(
        (m) => m.active && m.baseModelHash.toLowerCase() === o.base.sha256.toLowerCase(),
      );
      return [
        baseModel,
        ...registered.map((m) => ({
          id: m.name,
          name: m.name,
          modelId: m.id,
          adapterHash: m.latest.adapterHash,
          record: m,
        })),
      ];
    },
    /** Makes inference payable: checks before and records after each request. */
    setRetrieval(r: RetrievalHook): void {
      retrieve = r;
    },
    setHooks(h: PaymentHooks): void {
      hooks = h;
    },
    cache,
    scheduler,
    metricsText(): string {
      return metrics.render({
        queue_depth: scheduler.queueDepth(),
        active_sequences: scheduler.active(),
        adapters_loaded: cache.list().length,
        adapter_memory_bytes: cache.usedBytes(),
        adapter_cache_hits_total: cache.stats.hits,
        adapter_cache_misses_total: cache.stats.misses,
        adapter_evictions_total: cache.stats.evictions,
        adapter_load_failures_total: cache.stats.loadFailures,
      });
    },
    async close(): Promise<void> {
      await cache.close();
    },
  };
}

export type OpenLora = ReturnType<typeof createOpenLora>;
