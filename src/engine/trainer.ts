/**
 * Training steps on jax-js: full-parameter pretraining and LoRA fine-tuning. Each step (forward, closed-form
 * loss gradient, backward, clipping, AdamW) is one jitted function; the learning rate and bias corrections
 * are inputs, so it compiles once per batch shape. Trainers keep their state on the device and expose host
 * snapshots (`weights`, `adapter`, `state`) that round-trip exactly: resuming from a checkpoint gives
 * bit-identical results to an uninterrupted run.
 *
 * `createTrainLoop` is what both trainers share (state, schedule, batches, rope tables, reading results); each
 * supplies only its jitted step.
 */
import './jax-preload.js';
import { type JsTree, numpy as np, tree } from '@jax-js/jax';
import { BaseError } from '../core/index.js';
import { batchToDevice, checkBatch, type TokenBatch } from './batch.js';
import type { LlamaConfig } from './config.js';
import type { SurrogateLoss } from './loss.js';
import { hostScalar, type LossInputs, ropeTables } from './model.js';
import {
  type AdamWConfig,
  type AdamWScalars,
  biasCorrections,
  learningRate,
  type ScheduleConfig,
  validateTraining,
} from './optim.js';

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

/** A trainer of host weights `W`; `weights()` is the current snapshot. */
export interface Trainer<W> {
  step(batch: TokenBatch): Promise<StepResult>;
  weights(): Promise<W>;
  state(): Promise<TrainState<W>>;
  dispose(): void;
}

/** The device inputs of one step; the jitted step consumes them. */
export interface StepInputs {
  /** `[B, T]` input token ids. */
  ids: np.Array;
  loss: LossInputs;
  adamw: AdamWScalars;
  /** 0-based number of this step (dropout keys derive from it). */
  index: number;
}

/** What one jitted step returns: the updated parameters and moments, the loss and the gradient norm. */
export interface StepOutputs<P> {
  p: P;
  m: P;
  v: P;
  loss: np.Array;
  gradNorm: np.Array;
}

export interface TrainLoopOptions<P, W> {
  config: LlamaConfig;
  optimizer: AdamWConfig;
  schedule: ScheduleConfig;
  /** Initial weights, or the state to resume from. */
  from: W | TrainState<W>;
  toDevice(w: W): P;
  toHost(p: P): Promise<W>;
  /** Called once the settings are valid: uploads what the step needs besides P and returns the step. */
  setup(): {
    run(p: P, m: P, v: P, inputs: StepInputs): StepOutputs<P>;
    /** Frees what `setup` made (frozen weights, the jitted function). */
    dispose(): void;
  };
}

export function createTrainLoop<P extends JsTree<np.Array>, W>(o: TrainLoopOptions<P, W>): Trainer<W> {
  const { config: cfg, optimizer, schedule } = o;
  validateTraining(optimizer, schedule);
  const start = isState(o.from) ? o.from : undefined;
  let params = o.toDevice(isState(o.from) ? o.from.weights : o.from);
  let m = start ? o.toDevice(start.m) : zerosLike(params);
  let v = start ? o.toDevice(start.v) : zerosLike(params);
  let t = start?.step ?? 0;
  const rope = ropeCache(cfg);
  const stepFn = o.setup();
  return {
    async step(batch) {
      checkBatch(batch, cfg.vocabSize);
      checkSeqLen(cfg, batch);
      const lr = learningRate(optimizer.lr, schedule, t);
      const index = t;
      t += 1;
      const [c1, c2] = biasCorrections(optimizer, t);
      const b = batchToDevice(batch);
      const r = rope(batch.seqLen);
      const out = stepFn.run(params, m, v, {
        ids: b.inputs,
        loss: { targets: b.targets, mask: b.mask, cos: r.cos, sin: r.sin },
        adamw: { lr: np.array(lr), c1: np.array(c1), c2: np.array(c2) },
        index,
      });
      params = out.p;
      m = out.m;
      v = out.v;
      const loss = await hostScalar(out.loss);
      const gradNorm = await hostScalar(out.gradNorm);
      return { step: t, loss, gradNorm, lr };
    },
    weights: () => o.toHost(params),
    state: async () => ({ step: t, weights: await o.toHost(params), m: await o.toHost(m), v: await o.toHost(v) }),
    dispose() {
      stepFn.dispose();
      tree.dispose(params);
      tree.dispose(m);
      tree.dispose(v);
    },
  };
}

/** The objective to differentiate and the aux outputs a training step keeps (see causalLmLossSurrogate). */
export function trainingObjective(r: SurrogateLoss): [np.Array, Aux] {
  return [r.objective, { loss: r.loss, d: r.dlogitsSum }];
}

interface Rope {
  cos: np.Array;
  sin: np.Array;
}

/** Rope tables per sequence length (a cache: the tables are constants). */
function ropeCache(cfg: LlamaConfig): (T: number) => Rope {
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

function zerosLike<P extends JsTree<np.Array>>(p: P): P {
  return tree.map((x: np.Array) => np.zeros(x.shape), p);
}

function checkSeqLen(cfg: LlamaConfig, b: TokenBatch): void {
  if (b.seqLen > cfg.contextLength) {
    throw new BaseError('INVALID_ARGUMENT', 'Sequence length exceeds the model context length', {
      details: { seqLen: b.seqLen, contextLength: cfg.contextLength },
    });
  }
}

export type Aux = { loss: np.Array; d: np.Array };

function isState<W>(x: W | TrainState<W>): x is TrainState<W> {
  return typeof x === 'object' && x !== null && 'step' in x && 'm' in x;
}
