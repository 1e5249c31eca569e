/**
 * Model and adapter shapes. Linear weights are kept input-major `[in, out]` in the engine (applied as `x @ W`);
 * GGUF and PyTorch keep `[out, in]`, so the format layer transposes.
 */
import { z } from 'zod';
import { BaseError } from '../core/index.js';

/**
 * The GGUF architectures whose tensors the engine reads. They differ only in file conventions: `qwen2` adds q/k/v
 * biases and stores q/k for NEOX RoPE (rotating halves); the engine always computes with adjacent pairs, so the
 * GGUF layer permutes q/k rows on the way in and back on the way out (base models and adapters alike).
 * Mistral GGUFs say `llama` (llama.cpp has no `mistral` architecture).
 */
export const llamaArchitectures = ['llama', 'qwen2'] as const;
export type LlamaArchitecture = (typeof llamaArchitectures)[number];

export interface LlamaConfig {
  /** File conventions of the model's GGUF (absent: `llama`, so configs written before it hash as they did). */
  architecture?: LlamaArchitecture | undefined;
  vocabSize: number;
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  ffnDim: number;
  contextLength: number;
  ropeTheta: number;
  normEps: number;
  /** The output head reuses the token embedding (no `output.weight` tensor). */
  tieEmbeddings: boolean;
}

export const loraTargets = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LoraTarget = (typeof loraTargets)[number];

const loraTargetNames: ReadonlySet<string> = new Set(loraTargets);

export function isLoraTarget(name: string): name is LoraTarget {
  return loraTargetNames.has(name);
}

export interface LoraConfig {
  rank: number;
  alpha: number;
  /** Probability of zeroing an input element of the LoRA path during training (0 = off). */
  dropout: number;
  targets: readonly LoraTarget[];
}

/** The configs as read back from a file (checkpoint metadata); unknown keys are kept, values are not validated. */
export const llamaConfigSchema = z.looseObject({
  architecture: z.enum(llamaArchitectures).optional(),
  vocabSize: z.number(),
  dim: z.number(),
  nLayers: z.number(),
  nHeads: z.number(),
  nKvHeads: z.number(),
  ffnDim: z.number(),
  contextLength: z.number(),
  ropeTheta: z.number(),
  normEps: z.number(),
  tieEmbeddings: z.boolean(),
}) satisfies z.ZodType<LlamaConfig>;

export const loraConfigSchema = z.looseObject({
  rank: z.number(),
  alpha: z.number(),
  dropout: z.number(),
  targets: z.array(z.enum(loraTargets)),
}) satisfies z.ZodType<LoraConfig>;

/**
 * The training engine's memory: jax-js computes in one WebAssembly (wasm32) memory, which stops at 4 GiB. Weights are
 * held there as F32, with the adapter, its optimizer state and a step's activations; a base whose F32 weights alone
 * come near it can be served (llama.cpp reads it as stored) but not fine-tuned here.
 */
export const ENGINE_MEMORY_LIMIT_BYTES = 4 * 2 ** 30;

/**
 * What training a base holds in the engine's memory besides the adapter and a step's activations, as measured by
 * `npm run bench -- train` (engineMemoryMiB: 302 MiB for the bundled base, 2,853 MiB for SmolLM2-135M's shape):
 * about 5.2 F32 copies of the weights (the weights, the transposed copies the backward pass makes, the allocator's
 * slack) and 160 MiB of its own. A base for which this alone passes the limit is serve-only.
 */
export function engineBaseBytes(cfg: LlamaConfig): number {
  return 5.2 * countParams(cfg) * 4 + 160 * 2 ** 20;
}

export function headDim(cfg: LlamaConfig): number {
  return cfg.dim / cfg.nHeads;
}

/** `[in, out]` of every projection. */
export function projectionShapes(cfg: LlamaConfig): Record<LoraTarget, [number, number]> {
  const hd = headDim(cfg);
  return {
    q: [cfg.dim, cfg.nHeads * hd],
    k: [cfg.dim, cfg.nKvHeads * hd],
    v: [cfg.dim, cfg.nKvHeads * hd],
    o: [cfg.nHeads * hd, cfg.dim],
    gate: [cfg.dim, cfg.ffnDim],
    up: [cfg.dim, cfg.ffnDim],
    down: [cfg.ffnDim, cfg.dim],
  };
}

export function countParams(cfg: LlamaConfig): number {
  const s = projectionShapes(cfg);
  let perLayer = 2 * cfg.dim;
  for (const t of loraTargets) perLayer += s[t][0] * s[t][1];
  return cfg.vocabSize * cfg.dim * (cfg.tieEmbeddings ? 1 : 2) + cfg.nLayers * perLayer + cfg.dim;
}

export function countLoraParams(cfg: LlamaConfig, lora: LoraConfig): number {
  const s = projectionShapes(cfg);
  let perLayer = 0;
  for (const t of lora.targets) perLayer += lora.rank * (s[t][0] + s[t][1]);
  return cfg.nLayers * perLayer;
}

/**
 * Matmul FLOPs of one forward pass per token at sequence length `seqLen` (attention counted over the full
 * sequence, as the fused kernel computes it): the numerator of model FLOP utilisation.
 */
export function forwardFlopsPerToken(cfg: LlamaConfig, seqLen: number): number {
  const s = projectionShapes(cfg);
  let linear = 0;
  for (const t of loraTargets) linear += s[t][0] * s[t][1];
  const attention = 2 * seqLen * cfg.nHeads * headDim(cfg);
  return 2 * (cfg.nLayers * (linear + attention) + cfg.dim * cfg.vocabSize);
}

function positiveInt(field: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) {
    throw new BaseError('INVALID_ARGUMENT', `${field} must be a positive integer`, { details: { field, value: v } });
  }
}

export function validateLlamaConfig(cfg: LlamaConfig): LlamaConfig {
  for (const f of ['vocabSize', 'dim', 'nLayers', 'nHeads', 'nKvHeads', 'ffnDim', 'contextLength'] as const) {
    positiveInt(f, cfg[f]);
  }
  if (cfg.dim % cfg.nHeads !== 0 || headDim(cfg) % 2 !== 0) {
    throw new BaseError('INVALID_ARGUMENT', 'dim must split into heads of even size', {
      details: { field: 'nHeads', dim: cfg.dim, nHeads: cfg.nHeads },
    });
  }
  if (cfg.nHeads % cfg.nKvHeads !== 0) {
    throw new BaseError('INVALID_ARGUMENT', 'nHeads must be a multiple of nKvHeads', {
      details: { field: 'nKvHeads', nHeads: cfg.nHeads, nKvHeads: cfg.nKvHeads },
    });
  }
  if (!(cfg.ropeTheta > 0) || !(cfg.normEps > 0)) {
    throw new BaseError('INVALID_ARGUMENT', 'ropeTheta and normEps must be positive', {
      details: { field: 'ropeTheta', ropeTheta: cfg.ropeTheta, normEps: cfg.normEps },
    });
  }
  return cfg;
}

export function validateLoraConfig(lora: LoraConfig): LoraConfig {
  positiveInt('rank', lora.rank);
  if (!(lora.alpha > 0)) {
    throw new BaseError('INVALID_ARGUMENT', 'alpha must be positive', {
      details: { field: 'alpha', value: lora.alpha },
    });
  }
  if (!(lora.dropout >= 0 && lora.dropout < 1)) {
    throw new BaseError('INVALID_ARGUMENT', 'dropout must be in [0, 1)', {
      details: { field: 'dropout', value: lora.dropout },
    });
  }
  if (lora.targets.length === 0) {
    throw new BaseError('INVALID_ARGUMENT', 'LoRA needs at least one target projection', {
      details: { field: 'targets', allowed: loraTargets },
    });
  }
  for (const t of lora.targets) {
    if (!isLoraTarget(t)) {
      throw new BaseError('INVALID_ARGUMENT', `Unknown LoRA target "${t}"`, {
        details: { field: 'targets', value: t, allowed: loraTargets },
      });
    }
  }
  return lora;
}
