/**
 * OpenLoRA: every model registered on a base this node serves, served from one loaded copy of that base (adapters
 * grouped per base: bases.ts). A request names a model (its registry id or name, or a base model's name); its
 * base's scheduler gives it a context with that model's adapter; the usage is metered. Payment hooks (the protocol's `PaymentHooks`) let the node make inference
 * payable (check the payment before, charge, write a receipt and attribute after) without this folder depending on
 * settlement.
 */
import { randomUUID } from 'node:crypto';
import type { Hex } from 'viem';
import { groundedPrompt } from '../attribution/index.js';
import { BaseError, type Logger, silentLogger } from '../core/index.js';
import type { LlamaRuntime } from '../engine/index.js';
import type {
  FinishReason,
  PayableRequest,
  PaymentGate,
  PaymentOutcome,
  RetrievedPassage,
  ServedModel,
} from '../protocol/index.js';
import type { BlobStore, Db } from '../store/index.js';
import { BASE } from './adapters.js';
import { type BaseGroup, baseAsModel, baseKey, createBaseGroups, type OtherBases } from './bases.js';
import { createMetrics } from './metrics.js';
import type { ModelRecord, ModelRegistryMirror } from './registry.js';

export const newRequestId = () => `cmpl-${randomUUID().replaceAll('-', '')}`;

export type { ServedModel };

export interface InferenceRequest extends PayableRequest {
  /** The request's id (generated when absent). */
  id?: string;
  model: string;
  stop?: string[];
  requester?: string;
  signal?: AbortSignal;
  onText?: (delta: string) => void;
  /** Retrieval-augmented generation: passages of the model's DataNet found for `query` are put before the prompt. */
  retrieval?: { query: string; topK: number };
  /**
   * `maxTokens` is a default the client did not ask for: it shrinks to what the context leaves after the prompt
   * (retrieved passages included), so a long grounded prompt is answered instead of refused.
   */
  fitMaxTokens?: boolean;
}

export interface InferenceResult {
  id: string;
  model: ServedModel;
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  ttftMs: number;
  coldLoad: boolean;
  loadMs: number;
  queueMs: number;
  /** What settling a paid model's payment added: payment, receipt, attribution (null: nothing was paid). */
  payment: PaymentOutcome | null;
  /** The passages retrieval put before the prompt (null without retrieval). */
  retrieved: RetrievedPassage[] | null;
}

/** Finds the passages that ground an answer (the node retrieves from the model's DataNet version). */
export type RetrievalHook = (r: {
  model: ServedModel;
  query: string;
  topK: number;
}) => Promise<{ context: string; citations: RetrievedPassage[] } | null>;

export interface OpenLoraOptions {
  runtime: LlamaRuntime;
  blobs: BlobStore;
  db: Db;
  mirror: ModelRegistryMirror;
  /** The node's main base model, already loaded in `runtime`. */
  base: { name: string; sha256: Hex };
  /** Other base models this node serves, each loaded in its own runtime on first use. */
  otherBases?: OtherBases;
  /** Memory for loaded adapters and their contexts, per base, in bytes. */
  budgetBytes?: number;
  /** Estimated memory of one serving context besides its adapter (see DEFAULT_CONTEXT_BYTES). */
  contextBytes?: number;
  sequencesPerContext?: number;
  maxActive?: number;
  maxQueue?: number;
  timeoutMs?: number;
  log?: Logger;
  /** Makes inference payable: checks before and records after each request (`paymentGate(hooks)`). */
  payments?: PaymentGate;
  /** Grounds answers asked with `retrieval` in passages the hook finds. */
  retrieve?: RetrievalHook;
}

/** The prompt a model reads (attribution defines it, and the factory trains on it). */
export { groundedPrompt };

/** Refuses an empty prompt, or one that leaves no room for `maxTokens` in the model's context. */
export function checkPromptFits(promptTokens: number, maxTokens: number, contextSize: number): void {
  if (promptTokens === 0)
    throw new BaseError('INVALID_ARGUMENT', 'The prompt is empty', { details: { field: 'prompt' } });
  if (promptTokens + maxTokens > contextSize) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `The prompt (${promptTokens} tokens) plus max_tokens (${maxTokens}) exceeds the model's context of ${contextSize} tokens`,
      {
        details: {
          field: promptTokens >= contextSize ? 'prompt' : 'max_tokens',
          promptTokens,
          contextSize,
        },
      },
    );
  }
}

/**
 * Stop sequences over streamed text. Generation stops once one appears, and the text ends before it; text that
 * could still be the start of a stop sequence is held back from `emit` until it cannot.
 */
export function createStopFilter(stops: readonly string[], emit?: (delta: string) => void) {
  const holdBack = Math.max(0, ...stops.map((s) => s.length - 1));
  let text = '';
  let sent = 0;
  let stopped = false;
  return {
    /** Adds generated text; true once a stop sequence appeared (generation should stop; later text is ignored). */
    push(delta: string): boolean {
      if (stopped) return true;
      text += delta;
      const found = stops.map((s) => text.indexOf(s)).filter((i) => i >= 0);
      if (found.length > 0) {
        text = text.slice(0, Math.min(...found));
        stopped = true;
      }
      const safe = stopped ? text.length : Math.max(sent, text.length - holdBack);
      if (safe > sent) {
        emit?.(text.slice(sent, safe));
        sent = safe;
      }
      return stopped;
    },
    /** Generation ended: emits what was held back (nothing after a stop sequence). */
    flush(): void {
      if (!stopped && text.length > sent) {
        emit?.(text.slice(sent));
        sent = text.length;
      }
    },
    get stopped(): boolean {
      return stopped;
    },
    /** The text so far, cut before a stop sequence. */
    get text(): string {
      return text;
    },
  };
}

export function createOpenLora(o: OpenLoraOptions) {
  const log = o.log ?? silentLogger();
  const sequencesPerContext = o.sequencesPerContext ?? 4;
  const bases = createBaseGroups({ base: o.base, runtime: o.runtime }, o.otherBases, {
    blobs: o.blobs,
    budgetBytes: o.budgetBytes ?? 512 * 1024 * 1024,
    contextBytes: o.contextBytes,
    sequencesPerContext,
    maxActive: o.maxActive ?? 4,
    maxQueue: o.maxQueue ?? 256,
    timeoutMs: o.timeoutMs ?? 120_000,
    log,
  });
  const metrics = createMetrics();
  const payments = o.payments;
  const retrieve = o.retrieve;

  const servedOf = (m: ModelRecord): ServedModel => ({
    id: m.name,
    name: m.name,
    modelId: m.id,
    adapterHash: m.latest.adapterHash,
    record: m,
  });

  /**
   * The model a client asked for and the group of its base; NOT_FOUND if it is unknown, inactive, or built on a
   * base this node does not serve.
   */
  async function locate(ref: string): Promise<{ model: ServedModel; group: BaseGroup }> {
    if (ref === o.base.name) return { model: bases.primary.model, group: bases.primary };
    // Listed once per request: the registered bases live in the database.
    const served = await bases.list();
    const base = served.find((b) => b.name === ref);
    if (base) {
      const group = await bases.group(base);
      return { model: group.model, group };
    }
    const m = await o.mirror.resolve(ref);
    if (!m.active)
      throw new BaseError('NOT_FOUND', `Model "${ref}" is deactivated by its owner`, { details: { model: ref } });
    const onBase = served.find((b) => baseKey(b.sha256) === baseKey(m.baseModelHash));
    if (!onBase) {
      throw new BaseError(
        'NOT_FOUND',
        `Model "${ref}" is built on a base model this node does not serve (${m.baseModelHash}); it serves ${served.map((b) => b.name).join(', ')}`,
        { details: { model: ref } },
      );
    }
    return { model: servedOf(m), group: await bases.group(onBase) };
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

  /**
   * Stage: what the model reads. With retrieval, the passages found for the request's query go before its prompt
   * (and are what is priced and attributed too); the prompt is tokenized and must fit the context.
   */
  async function readPrompt(asked: InferenceRequest, model: ServedModel, runtime: LlamaRuntime) {
    const retrieved =
      asked.retrieval && retrieve
        ? await retrieve({ model, query: asked.retrieval.query, topK: asked.retrieval.topK })
        : null;
    const read = retrieved ? { ...asked, prompt: groundedPrompt(asked.prompt, retrieved), grounded: true } : asked;
    const prompt = runtime.tokenize(read.prompt);
    const room = runtime.contextSize - prompt.length;
    const request =
      read.fitMaxTokens && room >= 1 && room < read.maxTokens
        ? { ...read, maxTokens: room, askedMaxTokens: read.maxTokens }
        : read;
    checkPromptFits(prompt.length, request.maxTokens, runtime.contextSize);
    return { request, prompt, retrieved: retrieved?.citations ?? null };
  }

  /** Stage: the payment hooks refuse the request or reserve its maximum fee (null: this node takes no payments). */
  async function authorize(model: ServedModel, request: InferenceRequest, promptTokens: number, requestId: string) {
    return payments ? payments({ model, promptTokens, maxTokens: request.maxTokens, request, requestId }) : null;
  }

  /** Stage: waits for the adapter's turn (loading it if needed) and generates, honouring stop sequences. */
  async function generate(group: BaseGroup, model: ServedModel, request: InferenceRequest, prompt: readonly number[]) {
    const { result, info } = await group.scheduler.submit(
      model.adapterHash ?? BASE,
      async (lease, signal) => {
        const stops = createStopFilter(request.stop ?? [], request.onText);
        const local = new AbortController();
        const completion = await lease.ctx.complete({
          prompt,
          maxTokens: request.maxTokens,
          ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
          ...(request.topP === undefined ? {} : { topP: request.topP }),
          ...(request.seed === undefined ? {} : { seed: request.seed }),
          signal: AbortSignal.any([signal, local.signal]),
          onText: (delta) => {
            if (stops.push(delta)) local.abort();
          },
        });
        stops.flush();
        const finishReason: FinishReason = stops.stopped || completion.finishReason === 'stop' ? 'stop' : 'length';
        return {
          text: stops.stopped ? stops.text : completion.text,
          finishReason,
          ttftMs: completion.ttftMs,
          tokens: completion.tokens.length,
        };
      },
      { ...(request.signal ? { signal: request.signal } : {}) },
    );
    return { ...result, queueMs: info.queueMs, coldLoad: info.lease.cold, loadMs: info.lease.loadMs };
  }

  /** Runs one request: resolve the model → read the prompt → authorize payment → generate → settle (or abort). */
  async function infer(asked: InferenceRequest): Promise<InferenceResult> {
    const started = performance.now();
    const id = asked.id ?? newRequestId();
    const { model, group } = await locate(asked.model);
    const { request, prompt, retrieved } = await readPrompt(asked, model, group.runtime);
    const session = await authorize(model, request, prompt.length, id);
    let completionTokens = 0;
    try {
      const g = await generate(group, model, request, prompt);
      completionTokens = g.tokens;
      const payment = session
        ? await session.settle({
            model,
            request,
            requestId: id,
            output: g.text,
            promptTokens: prompt.length,
            completionTokens: g.tokens,
          })
        : null;
      const latencyMs = performance.now() - started;
      await meter({
        id,
        model,
        promptTokens: prompt.length,
        completionTokens: g.tokens,
        latencyMs,
        ttftMs: g.ttftMs,
        requester: request.requester,
        status: 'ok',
      });
      return {
        id,
        model,
        text: g.text,
        finishReason: g.finishReason,
        promptTokens: prompt.length,
        completionTokens: g.tokens,
        latencyMs,
        ttftMs: g.ttftMs,
        coldLoad: g.coldLoad,
        loadMs: g.loadMs,
        queueMs: g.queueMs,
        payment,
        retrieved,
      };
    } catch (e) {
      await session?.abort().catch((err: unknown) => log.error({ err }, 'releasing a payment reservation failed'));
      const code = e instanceof BaseError ? e.code : 'INTERNAL';
      await meter({
        id,
        model,
        promptTokens: prompt.length,
        completionTokens,
        latencyMs: performance.now() - started,
        ttftMs: null,
        requester: request.requester,
        status: code === 'TIMEOUT' ? 'timeout' : request.signal?.aborted ? 'cancelled' : 'error',
        errorCode: code,
      });
      throw e;
    }
  }

  const sum = (f: (g: BaseGroup) => number) => bases.loaded().reduce((n, g) => n + f(g), 0);
  const { cache, scheduler } = bases.primary;

  return {
    infer,
    /**
     * The model a client asked for and how many tokens its prompt is for that model's base (prices are per token);
     * the prompt is built once the model is known, so an unknown model is reported first.
     */
    async measurePrompt(ref: string, prompt: () => string): Promise<{ model: ServedModel; promptTokens: number }> {
      const { model, group } = await locate(ref);
      return { model, promptTokens: group.runtime.tokenize(prompt()).length };
    },
    /** Every base model served here, and every active model registered on one of them. */
    async listModels(): Promise<ServedModel[]> {
      await o.mirror.sync().catch((e: unknown) => log.warn({ err: e }, 'model registry sync failed'));
      const served = await bases.list();
      const hashes = new Set(served.map((b) => baseKey(b.sha256)));
      const registered = (await o.mirror.list()).filter((m) => m.active && hashes.has(baseKey(m.baseModelHash)));
      return [...served.map(baseAsModel), ...registered.map(servedOf)];
    },
    /** The main base's adapter cache and scheduler (the admin routes' view). */
    cache,
    scheduler,
    metricsText(): string {
      return metrics.render({
        queue_depth: sum((g) => g.scheduler.queueDepth()),
        active_sequences: sum((g) => g.scheduler.active()),
        adapters_loaded: sum((g) => g.cache.list().length),
        adapter_memory_bytes: sum((g) => g.cache.usedBytes()),
        adapter_cache_hits_total: sum((g) => g.cache.stats.hits),
        adapter_cache_misses_total: sum((g) => g.cache.stats.misses),
        adapter_evictions_total: sum((g) => g.cache.stats.evictions),
        adapter_load_failures_total: sum((g) => g.cache.stats.loadFailures),
        base_models_loaded: bases.loaded().length,
      });
    },
    async close(): Promise<void> {
      await bases.close();
    },
  };
}

export type OpenLora = ReturnType<typeof createOpenLora>;
