/** Full-parameter training (pretraining the base model) as one jitted step; see trainer.ts. */
import './jax-preload.js';
import { jit, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { dims } from './checked.js';
import type { LlamaConfig } from './config.js';
import { oneHot } from './loss.js';
import { type BaseParams, baseParamsToDevice, baseParamsToHost, forwardLoss, type LossInputs } from './model.js';
import { type AdamWConfig, type AdamWScalars, adamwTreeUpdate, type ScheduleConfig } from './optim.js';
import { createTrainLoop, type StepInputs, type Trainer, type TrainState, trainingObjective } from './trainer.js';
import type { LlamaWeights } from './weights.js';

export type Pretrainer = Trainer<LlamaWeights>;

export interface PretrainerOptions {
  config: LlamaConfig;
  /** Initial weights, or the state to resume from. */
  from: LlamaWeights | TrainState<LlamaWeights>;
  optimizer: AdamWConfig;
  schedule: ScheduleConfig;
}

/** Full-parameter training (pretraining the base model). */
export function createPretrainer(options: PretrainerOptions): Pretrainer {
  const { config: cfg, optimizer, schedule } = options;
  // The embedding lookup stays outside the differentiated function (gathers do not jit): grads are taken
  // w.r.t. the embedded inputs x0 and dEmbed = onehotᵀ·dx0 is formed here. dx0 is also reduced into the loss
  // output (times 0) so the fuser materialises it instead of inlining layer 0's backward into that matmul.
  const lossFn = (p: BaseParams, x0: np.Array, inputs: LossInputs) =>
    trainingObjective(forwardLoss(cfg, p, null, 0, x0, inputs));
  const setup = () => {
    const jitted = jit(
      (p: BaseParams, m0: BaseParams, v0: BaseParams, ids: np.Array, inputs: LossInputs, s: AdamWScalars) => {
        const [B, T] = dims(ids.shape, 2);
        const oh = oneHot(ids, cfg.vocabSize).reshape([B * T, cfg.vocabSize]);
        const x0 = np.matmul(oh.ref, p.embed.ref).reshape([B, T, cfg.dim]);
        const [[objective, aux], [g, gx0]] = valueAndGrad(lossFn, { argnums: [0, 1], hasAux: true })(
          tree.ref(p),
          x0,
          inputs,
        );
        objective.dispose();
        const gx = gx0.reshape([B * T, cfg.dim]);
        g.embed = g.embed.add(np.matmul(oh.transpose(), gx.ref));
        const loss = aux.loss.add(aux.d.mul(0)).add(np.sum(gx).mul(0));
        const u = adamwTreeUpdate(optimizer, p, g, m0, v0, s);
        return { p: u.p, m: u.m, v: u.v, loss, gradNorm: u.gradNorm };
      },
    );
    return {
      run: (p: BaseParams, m: BaseParams, v: BaseParams, s: StepInputs) => jitted(p, m, v, s.ids, s.loss, s.adamw),
      dispose: () => jitted.dispose(),
    };
  };
  return createTrainLoop({
    config: cfg,
    optimizer,
    schedule,
    from: options.from,
    toDevice: baseParamsToDevice,
    toHost: (p: BaseParams) => baseParamsToHost(cfg, p),
    setup,
  });
}
