/** LoRA fine-tuning as one jitted step (base frozen, LoRA dropout from per-step keys); see trainer.ts. */
import './jax-preload.js';
import { jit, numpy as np, random, tree, valueAndGrad } from '@jax-js/jax';
import { type LoraConfig, loraTargets, validateLoraConfig } from './config.js';
import {
  type BaseParams,
  baseParamsToDevice,
  forwardLoss,
  type LoraDropout,
  type LoraParams,
  type LossInputs,
  loraParamsToDevice,
  loraParamsToHost,
} from './model.js';
import { type AdamWConfig, type AdamWScalars, adamwTreeUpdate, type ScheduleConfig } from './optim.js';
import { createTrainLoop, type StepInputs, type Trainer, type TrainState, trainingObjective } from './trainer.js';
import { initLoraWeights, type LlamaWeights, type LoraWeights } from './weights.js';

export interface LoraTrainer extends Omit<Trainer<LoraWeights>, 'weights'> {
  adapter(): Promise<LoraWeights>;
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
  const scale = lc.alpha / lc.rank;
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
  const setup = () => {
    const base = baseParamsToDevice(baseWeights);
    const jitted = jit(
      (
        l: LoraParams,
        m0: LoraParams,
        v0: LoraParams,
        b: BaseParams,
        x0: np.Array,
        inputs: LossInputs,
        s: AdamWScalars,
        keys: LoraDropout['keys'],
      ) => {
        const dropout = lc.dropout > 0 ? { rate: lc.dropout, keys } : undefined;
        const [[objective, aux], g] = valueAndGrad(
          (lp: LoraParams) => trainingObjective(forwardLoss(cfg, b, lp, scale, x0, inputs, { dropout })),
          { hasAux: true },
        )(tree.ref(l));
        objective.dispose();
        const loss = aux.loss.add(aux.d.mul(0));
        const u = adamwTreeUpdate(optimizer, l, g, m0, v0, s);
        return { p: u.p, m: u.m, v: u.v, loss, gradNorm: u.gradNorm };
      },
    );
    return {
      run: (l: LoraParams, m: LoraParams, v: LoraParams, s: StepInputs) =>
        jitted(l, m, v, tree.ref(base), np.take(base.embed.ref, s.ids, 0), s.loss, s.adamw, dropoutKeys(s.index)),
      dispose() {
        tree.dispose(base);
        jitted.dispose();
      },
    };
  };
  const loop = createTrainLoop({
    config: cfg,
    optimizer,
    schedule,
    from: options.resume ?? initLoraWeights(cfg, lc, seed),
    toDevice: loraParamsToDevice,
    toHost: (p: LoraParams) => loraParamsToHost(lc, p),
    setup,
  });
  return { step: loop.step, adapter: loop.weights, state: loop.state, dispose: loop.dispose };
}
