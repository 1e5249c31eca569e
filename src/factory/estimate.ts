/**
 * Before a fine-tune starts: how much memory and time it will take, from the model's shape and the engine's
 * measured speed, so that a job that cannot fit is refused with the numbers instead of failing an hour in.
 */
import { freemem } from 'node:os';
import { BaseError } from '../core/index.js';
import {
  countLoraParams,
  countParams,
  ENGINE_MEMORY_LIMIT_BYTES,
  engineBaseBytes,
  forwardFlopsPerToken,
  type LlamaConfig,
  type LoraConfig,
} from '../engine/index.js';

export interface Estimate {
  steps: number;
  tokens: number;
  /** The process's peak (the engine's part plus the runtime's own). */
  memoryBytes: number;
  /** What the engine holds in its WebAssembly memory: weights, adapter state, a step's activations and logits. */
  engineBytes: number;
  seconds: number;
}

/** Measured on this 2-core machine (bench train): the engine reaches ~35% of the FLOPs it would at peak. */
const SUSTAINED_GFLOPS = 10;

export function estimateFineTune(
  model: LlamaConfig,
  lora: LoraConfig,
  o: { steps: number; batchSize: number; seqLen: number },
): Estimate {
  const tokens = o.steps * o.batchSize * o.seqLen;
  const weights = countParams(model) * 4;
  const engineBase = engineBaseBytes(model);
  // Adapter, its gradient and two AdamW moments; activations of every layer kept for the backward pass.
  const adapter = countLoraParams(model, lora) * 4 * 4;
  const activations =
    o.batchSize * o.seqLen * (model.dim * 14 + model.ffnDim * 3 + model.nHeads * o.seqLen) * model.nLayers * 4 * 2;
  const logits = o.batchSize * o.seqLen * model.vocabSize * 4 * 3;
  const engineBytes = engineBase + adapter + activations + logits;
  // Besides the engine: the host's copies of the weights (read from the file, dequantised, handed over), measured
  // at about 4.7 F32 copies by `npm run bench -- train` (peakRssMiB), and Node's own 300 MiB.
  const memoryBytes = engineBytes + 4.7 * weights + 300 * 2 ** 20;
  // Forward + backward ≈ 3 × forward FLOPs.
  const seconds = (3 * forwardFlopsPerToken(model, o.seqLen) * tokens) / (SUSTAINED_GFLOPS * 1e9);
  return { steps: o.steps, tokens, memoryBytes, engineBytes, seconds };
}

/** Refuses an estimate beyond the engine's memory, the free memory (with headroom) or the time budget. */
export function checkFits(e: Estimate, limits: { maxSeconds: number; freeBytes?: number }): void {
  if (e.engineBytes > ENGINE_MEMORY_LIMIT_BYTES) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `This fine-tune needs about ${Math.ceil(e.engineBytes / 2 ** 20)} MiB in the training engine, whose WebAssembly memory stops at ${ENGINE_MEMORY_LIMIT_BYTES / 2 ** 20} MiB; lower batchSize or seqLen, or serve this base without fine-tuning it here`,
      { details: { field: 'hyper', engineBytes: e.engineBytes, limitBytes: ENGINE_MEMORY_LIMIT_BYTES } },
    );
  }
  const free = limits.freeBytes ?? freemem();
  if (e.memoryBytes > free * 0.7) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `This fine-tune needs about ${Math.ceil(e.memoryBytes / 2 ** 20)} MiB but only ${Math.floor((free * 0.7) / 2 ** 20)} MiB can be used; lower batchSize or seqLen`,
      { details: { field: 'hyper', memoryBytes: e.memoryBytes, freeBytes: free } },
    );
  }
  if (e.seconds > limits.maxSeconds) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `This fine-tune would take about ${Math.ceil(e.seconds / 60)} minutes, over this node's limit of ${Math.floor(limits.maxSeconds / 60)}; lower steps or epochs`,
      { details: { field: 'hyper', seconds: Math.round(e.seconds), maxSeconds: limits.maxSeconds } },
    );
  }
}
