/**
 * llama.cpp through node-llama-cpp: load a GGUF once, then tokenize, read logits and generate, with or without
 * LoRA adapters. Adapters are set per context in node-llama-cpp, so each call with a different adapter set gets
 * its own short-lived context (llama.cpp caches adapter weights per model, so this is cheap).
 *
 * Settings chosen for parity with the engine: F32 KV cache and no flash attention (llama.cpp's defaults, F16
 * cache and flash attention, move logits by ~1e-3). Threads are 1 or 2: this project's machines have two cores.
 */
import { resolve as resolvePath } from 'node:path';
import type {
  ControlledEvaluateInputItem,
  Llama,
  LlamaContext,
  LlamaContextOptions,
  LlamaModel as NodeLlamaModel,
  Token,
} from 'node-llama-cpp';
import { BaseError } from '../core/index.js';

export interface LlamaRuntimeOptions {
  modelPath: string;
  /** 1 or 2 (default 1). */
  threads?: number;
  /** Context window of the contexts this runtime creates (default: the model's training context). */
  contextSize?: number;
  /** `auto`: offload to a GPU (CUDA, Vulkan) when node-llama-cpp finds one; default CPU only. */
  gpu?: 'auto' | 'off';
}

export interface AdapterRef {
  /** Path of a LoRA adapter GGUF. */
  path: string;
  /** Multiplier on the adapter's alpha/rank scale (default 1). */
  scale?: number;
}

export interface GenerateOptions {
  prompt: string | readonly number[];
  maxTokens: number;
  /** 0 or absent = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Sampling seed (only used with temperature > 0); fixed seeds give repeatable samples. */
  seed?: number;
  adapters?: readonly AdapterRef[];
  /** Stop at the end-of-text token (default true). */
  stopAtEos?: boolean;
}

export interface Generation {
  text: string;
  tokens: number[];
  promptTokens: number;
  finishReason: 'length' | 'eos';
}

export interface CompleteOptions {
  /** Prompt token ids (from `tokenize`). */
  prompt: readonly number[];
  maxTokens: number;
  /** 0 or absent = greedy. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Stops generation at the next token (the request was cancelled or timed out). */
  signal?: AbortSignal;
  /** Called with each new piece of text as it is generated (for streaming). */
  onText?: (delta: string) => void;
}

export interface Completion {
  text: string;
  tokens: number[];
  promptTokens: number;
  finishReason: 'stop' | 'length' | 'abort';
  /** Milliseconds from the start to the first generated token (prompt evaluation included). */
  ttftMs: number;
}

/** A llama.cpp context for serving: one adapter set, several sequences decoded together in one batch. */
export interface ServingContext {
  readonly sequences: number;
  /** Sequences currently generating. */
  readonly busy: number;
  /** Bytes of the context's state (KV cache and buffers). */
  readonly memoryBytes: number;
  complete(options: CompleteOptions): Promise<Completion>;
  dispose(): Promise<void>;
}

export interface LlamaRuntime {
  readonly vocabSize: number;
  readonly contextSize: number;
  readonly eosId: number | undefined;
  /** llama.cpp's token ids for `text` (no BOS/EOS; special-token text is literal). */
  tokenize(text: string): number[];
  detokenize(ids: readonly number[]): string;
  /** Logits `[ids.length · vocab]`: the distribution after each prefix. */
  logits(ids: readonly number[], adapters?: readonly AdapterRef[]): Promise<Float32Array>;
  generate(options: GenerateOptions): Promise<Generation>;
  /**
   * A context kept open for serving with `adapters` applied. Disposing the last context that uses an adapter
   * frees the adapter's weights too (llama.cpp otherwise keeps every adapter it ever loaded).
   */
  openContext(options: { adapters?: readonly AdapterRef[]; sequences?: number }): Promise<ServingContext>;
  dispose(): Promise<void>;
}

function checkThreads(threads: number): void {
  if (threads !== 1 && threads !== 2) {
    throw new BaseError('INVALID_ARGUMENT', 'threads must be 1 or 2', {
      details: { field: 'threads', value: threads },
    });
  }
}

/** node-llama-cpp brands token ids; ours are plain integers, checked against the vocabulary where they come in. */
function isToken(id: number): id is Token {
  return Number.isInteger(id) && id >= 0;
}

function toTokens(ids: readonly number[]): Token[] {
  return ids.map((id) => {
    if (!isToken(id)) {
      throw new BaseError('INVALID_ARGUMENT', `Token id ${id} is not a non-negative integer`, { details: { id } });
    }
    return id;
  });
}

/** A LoRA adapter as node-llama-cpp keeps it loaded. */
interface LoadedLora {
  dispose(): Promise<void>;
}

/**
 * node-llama-cpp 3.x caches every adapter a context loads in the model's private `_loraAdapters` map (keyed by
 * resolved path) and has no public way to unload one; this guard is the one place that relies on that field,
 * and it finds nothing (so nothing is freed) if a later version renames it.
 */
function hasLoraCache(model: object): model is { _loraAdapters: Map<string, LoadedLora> } {
  return '_loraAdapters' in model && model._loraAdapters instanceof Map;
}

export async function createLlamaRuntime(options: LlamaRuntimeOptions): Promise<LlamaRuntime> {
  const threads = options.threads ?? 1;
  checkThreads(threads);
  let llama: Llama;
  try {
    // Imported here, not at the top: node-llama-cpp takes a second or more to load, and importing the engine
    // should not cost that to code that never runs llama.cpp.
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    llama = await getLlama({
      gpu: options.gpu === 'auto' ? 'auto' : false,
      build: 'never',
      logLevel: LlamaLogLevel.error,
      maxThreads: threads,
    });
  } catch (e) {
    throw new BaseError('PROCESS_FAILED', 'llama.cpp (node-llama-cpp) could not start', { cause: e });
  }
  let model: NodeLlamaModel;
  try {
    model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: options.gpu === 'auto' ? 'auto' : 0 });
  } catch (e) {
    await llama.dispose();
    throw new BaseError('MODEL_INVALID', 'llama.cpp could not load the model file', {
      cause: e,
      details: { path: options.modelPath, reason: e instanceof Error ? e.message : String(e) },
    });
  }
  // The embedding's ggml ne is [dim, vocab]: its second dimension is the vocabulary size.
  const nVocab = Number(model.fileInfo.tensorInfo?.find((t) => t.name === 'token_embd.weight')?.dimensions[1] ?? 0);
  const contextSize = options.contextSize ?? model.trainContextSize;
  const eos = model.tokens.eos ?? undefined;

  /** A context with `adapters` applied; a refusal (usually an adapter that does not fit) is MODEL_INVALID. */
  const createContext = async (
    adapters: readonly AdapterRef[],
    settings: Omit<LlamaContextOptions, 'contextSize' | 'threads' | 'lora'>,
  ): Promise<LlamaContext> => {
    try {
      return await model.createContext({
        contextSize,
        threads,
        ...settings,
        ...(adapters.length > 0
          ? { lora: { adapters: adapters.map((a) => ({ filePath: a.path, scale: a.scale ?? 1 })) } }
          : {}),
      });
    } catch (e) {
      throw new BaseError(
        'MODEL_INVALID',
        'llama.cpp could not create a context (is the adapter valid for this model?)',
        {
          cause: e,
          details: { adapters: adapters.map((a) => a.path), reason: e instanceof Error ? e.message : String(e) },
        },
      );
    }
  };

  const withContext = async <T>(
    adapters: readonly AdapterRef[] | undefined,
    fn: (ctx: LlamaContext) => Promise<T>,
  ): Promise<T> => {
    const ctx = await createContext(adapters ?? [], {
      batchSize: contextSize,
      flashAttention: false,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    });
    try {
      return await fn(ctx);
    } finally {
      await ctx.dispose();
    }
  };

  const checkIds = (ids: readonly number[], room: number) => {
    if (ids.length === 0 || ids.length + room > contextSize) {
      throw new BaseError('INVALID_ARGUMENT', 'The token sequence does not fit the context', {
        details: { tokens: ids.length, extra: room, contextSize },
      });
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= nVocab) {
        throw new BaseError('INVALID_ARGUMENT', `Token id ${id} is outside the vocabulary`, {
          details: { id, nVocab },
        });
      }
    }
  };

  const sampling = (o: { temperature?: number; topK?: number; topP?: number; seed?: number }) =>
    o.temperature && o.temperature > 0
      ? {
          temperature: o.temperature,
          ...(o.topK === undefined ? {} : { topK: o.topK }),
          ...(o.topP === undefined ? {} : { topP: o.topP }),
          seed: o.seed ?? 0,
        }
      : { temperature: 0 };

  // Contexts using each adapter file, so its weights can be freed when the last one closes.
  const adapterUsers = new Map<string, number>();
  const releaseAdapter = async (path: string) => {
    const loaded: object = model;
    if (!hasLoraCache(loaded)) return;
    const key = resolvePath(process.cwd(), path);
    const lora = loaded._loraAdapters.get(key);
    if (!lora) return;
    loaded._loraAdapters.delete(key);
    await lora.dispose();
  };

  return {
    vocabSize: nVocab,
    contextSize,
    eosId: eos === undefined ? undefined : Number(eos),
    tokenize: (text) => Array.from(model.tokenize(text, false), Number),
    detokenize: (ids) => model.detokenize(toTokens(ids)),
    async logits(ids, adapters) {
      checkIds(ids, 0);
      return withContext(adapters, async (ctx) => {
        const input: ControlledEvaluateInputItem[] = toTokens(ids).map((t) => [t, { generateNext: { logits: true } }]);
        const res = await ctx.getSequence().controlledEvaluate(input);
        const out = new Float32Array(ids.length * nVocab);
        for (let i = 0; i < ids.length; i++) {
          const row = res[i]?.next?.logits;
          if (!row) throw new BaseError('INTERNAL', `llama.cpp returned no logits at position ${i}`);
          for (const [tok, v] of row) out[i * nVocab + Number(tok)] = v;
        }
        return out;
      });
    },
    async generate(o) {
      const promptIds =
        typeof o.prompt === 'string' ? Array.from(model.tokenize(o.prompt, false), Number) : [...o.prompt];
      if (!Number.isInteger(o.maxTokens) || o.maxTokens < 1) {
        throw new BaseError('INVALID_ARGUMENT', 'maxTokens must be a positive integer', {
          details: { field: 'maxTokens', value: o.maxTokens },
        });
      }
      checkIds(promptIds, o.maxTokens);
      const stopAtEos = o.stopAtEos ?? true;
      return withContext(o.adapters, async (ctx) => {
        const tokens: Token[] = [];
        let finishReason: Generation['finishReason'] = 'length';
        for await (const t of ctx.getSequence().evaluate(toTokens(promptIds), sampling(o))) {
          if (stopAtEos && eos !== undefined && t === eos) {
            finishReason = 'eos';
            break;
          }
          tokens.push(t);
          if (tokens.length >= o.maxTokens) break;
        }
        return { text: model.detokenize(tokens), tokens, promptTokens: promptIds.length, finishReason };
      });
    },
    async openContext(o) {
      const sequences = o.sequences ?? 1;
      const adapters = o.adapters ?? [];
      const ctx = await createContext(adapters, { sequences });
      for (const a of adapters) adapterUsers.set(a.path, (adapterUsers.get(a.path) ?? 0) + 1);
      let busy = 0;
      let disposed = false;
      return {
        sequences,
        get busy() {
          return busy;
        },
        memoryBytes: ctx.stateSize,
        async complete(c) {
          if (!Number.isInteger(c.maxTokens) || c.maxTokens < 1) {
            throw new BaseError('INVALID_ARGUMENT', 'maxTokens must be a positive integer', {
              details: { field: 'maxTokens', value: c.maxTokens },
            });
          }
          checkIds(c.prompt, c.maxTokens);
          const started = performance.now();
          busy++;
          const seq = ctx.getSequence();
          const tokens: Token[] = [];
          let text = '';
          let ttftMs = 0;
          let finishReason: Completion['finishReason'] = 'length';
          try {
            for await (const t of seq.evaluate(toTokens(c.prompt), sampling(c))) {
              if (tokens.length === 0) ttftMs = performance.now() - started;
              if (eos !== undefined && t === eos) {
                finishReason = 'stop';
                break;
              }
              tokens.push(t);
              // A token can end inside a multi-byte character: hold the text back until it is whole.
              const full = model.detokenize(tokens);
              if (!full.endsWith('\uFFFD')) {
                if (full.length > text.length) c.onText?.(full.slice(text.length));
                text = full;
              }
              if (c.signal?.aborted) {
                finishReason = 'abort';
                break;
              }
              if (tokens.length >= c.maxTokens) break;
            }
          } finally {
            await seq.dispose();
            busy--;
          }
          const final = model.detokenize(tokens);
          if (final.length > text.length) c.onText?.(final.slice(text.length));
          return { text: final, tokens, promptTokens: c.prompt.length, finishReason, ttftMs };
        },
        async dispose() {
          if (disposed) return;
          disposed = true;
          await ctx.dispose();
          for (const a of adapters) {
            const left = (adapterUsers.get(a.path) ?? 1) - 1;
            if (left > 0) adapterUsers.set(a.path, left);
            else {
              adapterUsers.delete(a.path);
              await releaseAdapter(a.path);
            }
          }
        },
      };
    },
    async dispose() {
      await model.dispose();
      await llama.dispose();
    },
  };
}
