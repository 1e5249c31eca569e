/** LoRA fine-tuning as one jitted step (base frozen, LoRA dropout from per-step keys); see trainer.ts. */
import './jax-preload.js';
import { jit, numpy as np, random, tree, valueAndGrad } from '@jax-js/jax';
import { batchToDevice, checkBatch, type TokenBatch } from './batch.js';
import { type LoraConfig, loraTargets, validateLoraConfig } from './config.js';
import { causalLmLossSurrogate, oneHot } from './loss.js';
import {
  type BaseParams,
  baseParamsToDevice,
  forward,
  type LoraDropout,
  type LoraParams,
  loraParamsToDevice,
  loraParamsToHost,
} from './model.js';
import {
  type AdamWConfig,
  adamwUpdate,
  biasCorrections,
  learningRate,
  type ScheduleConfig,
  validateTraining,
} from './optim.js';
import { type Aux, checkSeqLen, ropeCache, type StepResult, type TrainState, zerosLike } from './trainer.js';
import { initLoraWeights, type LlamaWeights, type LoraWeights } from './weights.js';

export interface LoraTrainer {
  step(batch: TokenBatch): Promise<StepResult>;
  adapter(): Promise<LoraWeights>;
  state(): Promise<TrainState<LoraWeights>>;
  dispose(): void;
}

export interface LoraTrainerOptions {
  base: LlamaWeights;
  lora: LoraConfig;
  /** Seeds the adapter init (when not resuming) and the dropout masks. */
  seed: number;
  optimizer: AdamWConfig;
  schedule: ScheduleConfig;
  resume?: TrainState<LoraWeights>;
}

/** A 32-bit key seed for (seed, step, layer, target): dropout masks depend on nothing else. */
function dropoutSeed(seed: number, step: number, layer: number, target: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const x of [step, layer, target]) {
    h = Math.imul(h ^ x, 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return h;
}

/** LoRA fine-tuning: gradients of the adapter only; the base is frozen (its embedding gathered eagerly). */
export function createLoraTrainer(options: LoraTrainerOptions): LoraTrainer {
  const { base: baseWeights, optimizer, schedule, seed } = options;
  const cfg = baseWeights.config;
  const lc = validateLoraConfig(options.lora);
  validateTraining(optimizer, schedule);
  const scale = lc.alpha / lc.rank;
  const base = baseParamsToDevice(baseWeights);
  let lora = loraParamsToDevice(options.resume?.weights ?? initLoraWeights(cfg, lc, seed));
  let m = options.resume ? loraParamsToDevice(options.resume.m) : zerosLike(lora);
  let v = options.resume ? loraParamsToDevice(options.resume.v) : zerosLike(lora);
  let t = options.resume?.step ?? 0;
  const rope = ropeCache(cfg);
  const lossFn = (
    l: LoraParams,
    b: BaseParams,
    x0: np.Array,
    targets: np.Array,
    mask: np.Array,
    cos: np.Array,
    sin: np.Array,
    dropout: LoraDropout | undefined,
  ) => {
    const logits = forward(cfg, b, l, scale, x0, { cos, sin }, dropout);
    const r = causalLmLossSurrogate(logits, oneHot(targets, cfg.vocabSize), mask);
    return [r.objective, { loss: r.loss, d: r.dlogitsSum }] as [np.Array, Aux];
  };
  const body = (
    l: LoraParams,
    m0: LoraParams,
    v0: LoraParams,
    b: BaseParams,
    x0: np.Array,
    targets: np.Array,
    mask: np.Array,
    cos: np.Array,
    sin: np.Array,
    lr: np.Array,
    c1: np.Array,
    c2: np.Array,
    keys: LoraDropout['keys'],
  ) => {
    const dropout = lc.dropout > 0 ? { rate: lc.dropout, keys } : undefined;
    const [[objective, aux], g] = valueAndGrad(
      (lp: LoraParams) => lossFn(lp, b, x0, targets, mask, cos, sin, dropout),
      { hasAux: true },
    )(tree.ref(l));
    objective.dispose();
    const loss = aux.loss.add(aux.d.mul(0));
    const [pl, def] = tree.flatten(l);
    const r = adamwUpdate(optimizer, pl, tree.leaves(g), tree.leaves(m0), tree.leaves(v0), lr, c1, c2);
    return {
      p: tree.unflatten(def, r.params) as LoraParams,
      m: tree.unflatten(def, r.m) as LoraParams,
      v: tree.unflatten(def, r.v) as LoraParams,
      loss,
      gradNorm: r.gradNorm,
    };
  };
  const jitted = jit(body);
  const dropoutKeys = (step: number): LoraDropout['keys'] =>
    lc.dropout > 0
      ? Array.from({ length: cfg.nLayers }, (_, layer) => {
          const rec: LoraDropout['keys'][number] = {};
          loraTargets.forEach((target, ti) => {
            if (lc.targets.includes(target)) rec[target] = random.key(dropoutSeed(seed, step, layer, ti));
          });
          return rec;
        })
      : [];
  return {
    async step(batch) {
      checkBatch(batch, cfg.vocabSize);
      checkSeqLen(cfg, batch);
      const lr = learningRate(optimizer.lr, schedule, t);
      const keys = dropoutKeys(t);
      t += 1;
      const [c1, c2] = biasCorrections(optimizer, t);
      const b = batchToDevice(batch);
      const r = rope(batch.seqLen);
      const x0 = np.take(base.embed.ref, b.inputs, 0);
      const out = jitted(
        lora,
        m,
        v,
        tree.ref(base),
        x0,
        b.targets,
        b.mask,
        r.cos,
        r.sin,
        np.array(lr),
        np.array(c1),
        np.array(c2),
        keys,
      );
      lora = out.p;
      m = out.m;
      v = out.v;
      const loss = (await out.loss.data())[0]!;
      const gradNorm = (await out.gradNorm.data())[0]!;
      return { step: t, loss, gradNorm, lr };
    },
    adapter: () => loraParamsToHost(lc, lora),
    state: async () => ({
      step: t,
      weights: await loraParamsToHost(lc, lora),
      m: await loraParamsToHost(lc, m),
      v: await loraParamsToHost(lc, v),
    }),
    dispose() {
      tree.dispose(base);
      tree.dispose(lora);
      tree.dispose(m);
      tree.dispose(v);
      jitted.dispose();
    },
  };
}
