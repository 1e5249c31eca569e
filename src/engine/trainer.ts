/**
 * Training steps on jax-js: full-parameter pretraining and LoRA fine-tuning. Each step (forward, closed-form
 * loss gradient, backward, clipping, AdamW) is one jitted function; the learning rate and bias corrections
 * are inputs, so it compiles once per batch shape. Trainers keep their state on the device and expose host
 * snapshots (`weights`, `adapter`, `state`) that round-trip exactly: resuming from a checkpoint gives
 * bit-identical results to an uninterrupted run.
 */
import './jax-preload.js';
import { type JsTree, numpy as np, tree } from '@jax-js/jax';
import { BaseError } from '../core/index.js';
import type { TokenBatch } from './batch.js';
import type { LlamaConfig } from './config.js';
import { ropeTables } from './model.js';

export interface StepResult {
  /** 1-based number of the step just taken. */
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
}

/** Everything needed to continue training exactly where it stopped. */
export interface TrainState<W> {
  step: number;
  weights: W;
  /** AdamW first and second moments, shaped like the weights. */
  m: W;
  v: W;
}

interface Rope {
  cos: np.Array;
  sin: np.Array;
}

/** Rope tables per sequence length (a cache: the tables are constants). */
export function ropeCache(cfg: LlamaConfig): (T: number) => Rope {
  const cache = new Map<number, Rope>();
  return (T) => {
    let r = cache.get(T);
    if (!r) {
      r = ropeTables(cfg, T);
      cache.set(T, r);
    }
    return { cos: r.cos.ref, sin: r.sin.ref };
  };
}

export function zerosLike<P extends JsTree<np.Array>>(p: P): P {
  return tree.map((x: np.Array) => np.zeros(x.shape), p) as P;
}

export function checkSeqLen(cfg: LlamaConfig, b: TokenBatch): void {
  if (b.seqLen > cfg.contextLength) {
    throw new BaseError('INVALID_ARGUMENT', 'Sequence length exceeds the model context length', {
      details: { seqLen: b.seqLen, contextLength: cfg.contextLength },
    });
  }
}

export type Aux = { loss: np.Array; d: np.Array };

export function isState<W>(x: W | TrainState<W>): x is TrainState<W> {
  return typeof x === 'object' && x !== null && 'step' in x && 'm' in x;
}
