/**
 * Before a fine-tune starts: how much memory and time it will take, from the model's shape and the engine's
 * measured speed, so that a job that cannot fit is refused with the numbers instead of failing an hour in.
 */
import { freemem } from 'node:os';
import { BaseError } from '../core/index.js';
import {
  countLoraParams,
  countParams,
  forwardFlopsPerToken,
  type LlamaConfig,
  type LoraConfig,
} from '../engine/index.js';

export interface Estimate {
  steps: number;
  tokens: number;
  memoryBytes: number;
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
  // Adapter, its gradient and two AdamW moments; activations of every layer kept for the backward pass.
  const adapter = countLoraParams(model, lora) * 4 * 4;
  const activations =
    o.batchSize * o.seqLen * (model.dim * 14 + model.ffnDim * 3 + model.nHeads * o.seqLen) * model.nLayers * 4 * 2;
  const logits = o.batchSize * o.seqLen * model.vocabSize * 4 * 3;
  const memoryBytes = weights + adapter + activations + logits + 256 * 1024 * 1024; // plus the runtime's own
  // Forward + backward ≈ 3 × forward FLOPs.
  const seconds = (3 * forwardFlopsPerToken(model, o.seqLen) * tokens) / (SUSTAINED_GFLOPS * 1e9);
  return { steps: o.steps, tokens, memoryBytes, seconds };
}

/** Refuses an estimate beyond the free memory (with headroom) or the time budget. */
export function checkFits(e: Estimate, limits: { maxSeconds: number; freeBytes?: number }): void {
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
