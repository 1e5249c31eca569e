/**
 * Forward passes without training: logits for a token sequence (the engine side of the parity test) and the
 * masked causal-LM loss of a batch (evaluation). Weights are uploaded once per model instance.
 */
import './jax-preload.js';
import { jit, numpy as np, tree } from '@jax-js/jax';
import { BaseError } from '../core/index.js';
import { batchToDevice, checkBatch, type TokenBatch } from './batch.js';
import type { LlamaConfig } from './config.js';
import { causalLmLoss, causalLmLossPerExample, oneHot } from './loss.js';
import {
  type BaseParams,
  baseParamsToDevice,
  forward,
  hostFloats,
  hostScalar,
  type LoraParams,
  loraParamsToDevice,
  ropeTables,
} from './model.js';
import type { LlamaWeights, LoraWeights } from './weights.js';

export interface LlamaModel {
  readonly config: LlamaConfig;
  /** Logits `[ids.length · vocab]` (row per position) for one sequence, optionally through a LoRA adapter. */
  logits(ids: readonly number[], adapter?: LoraWeights): Promise<Float32Array>;
  /** Mean masked next-token loss of a batch (the training loss without dropout). */
  loss(batch: TokenBatch, adapter?: LoraWeights): Promise<number>;
  /** Each row's own mean masked next-token loss, in one pass over the batch (evaluating many sequences). */
  losses(batch: TokenBatch, adapter?: LoraWeights): Promise<Float32Array>;
  dispose(): void;
}

export function createLlamaModel(weights: LlamaWeights): LlamaModel {
  const cfg = weights.config;
  const base = baseParamsToDevice(weights);
  const adapters = new WeakMap<LoraWeights, LoraParams>();
  const device = (a: LoraWeights | undefined): LoraParams | null => {
    if (!a) return null;
    let p = adapters.get(a);
    if (!p) {
      p = loraParamsToDevice(a);
      adapters.set(a, p);
    }
    return p;
  };
  const scaleOf = (a: LoraWeights | undefined) => (a ? a.config.alpha / a.config.rank : 0);
  /** A loss of the model's logits, compiled once (the LoRA scale is static: one compilation per adapter scale). */
  const compiledLoss = (loss: (logits: np.Array, targets: np.Array, mask: np.Array) => np.Array) =>
    jit(
      (
        b: BaseParams,
        l: LoraParams,
        scale: number,
        x0: np.Array,
        targets: np.Array,
        mask: np.Array,
        cos: np.Array,
        sin: np.Array,
      ) => loss(forward(cfg, b, l, scale, x0, { cos, sin }), oneHot(targets, cfg.vocabSize), mask),
      { staticArgnums: [2] },
    );
  const lossJit = compiledLoss(causalLmLoss);
  const lossesJit = compiledLoss(causalLmLossPerExample);
  const checkLength = (n: number) => {
    if (n < 1 || n > cfg.contextLength) {
      throw new BaseError('INVALID_ARGUMENT', 'Sequence length must be between 1 and the model context length', {
        details: { length: n, contextLength: cfg.contextLength },
      });
    }
  };
  /** One of the loss functions on a checked batch, through `adapter` if any. */
  const run = (fn: typeof lossJit, batch: TokenBatch, adapter: LoraWeights | undefined) => {
    checkBatch(batch, cfg.vocabSize);
    checkLength(batch.seqLen);
    const lora = device(adapter);
    const b = batchToDevice(batch);
    const r = ropeTables(cfg, batch.seqLen);
    const x0 = np.take(base.embed.ref, b.inputs, 0);
    return fn(
      tree.ref(base),
      lora ? tree.ref(lora) : { layers: [] },
      scaleOf(adapter),
      x0,
      b.targets,
      b.mask,
      r.cos,
      r.sin,
    );
  };
  return {
    config: cfg,
    async logits(ids, adapter) {
      checkLength(ids.length);
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= cfg.vocabSize) {
          throw new BaseError('INVALID_ARGUMENT', `Token id ${id} is outside the vocabulary`, {
            details: { id, vocabSize: cfg.vocabSize },
          });
        }
      }
      const T = ids.length;
      const lora = device(adapter);
      const x = np.take(base.embed.ref, np.array(Int32Array.from(ids), { dtype: np.int32 }).reshape([1, T]), 0);
      const out = forward(cfg, tree.ref(base), lora ? tree.ref(lora) : null, scaleOf(adapter), x, ropeTables(cfg, T));
      return hostFloats(out);
    },
    async loss(batch, adapter) {
      return hostScalar(run(lossJit, batch, adapter));
    },
    async losses(batch, adapter) {
      return hostFloats(run(lossesJit, batch, adapter));
    },
    dispose() {
      tree.dispose(base);
      lossJit.dispose();
      lossesJit.dispose();
    },
  };
}
