/** Full-parameter training (pretraining the base model) as one jitted step; see trainer.ts. */
import './jax-preload.js';
import { jit, numpy as np, tree, valueAndGrad } from '@jax-js/jax';
import { batchToDevice, checkBatch, type TokenBatch } from './batch.js';
import type { LlamaConfig } from './config.js';
import { causalLmLossSurrogate, oneHot } from './loss.js';
import { type BaseParams, baseParamsToDevice, baseParamsToHost, forward } from './model.js';
import {
  type AdamWConfig,
  adamwUpdate,
  biasCorrections,
  learningRate,
  type ScheduleConfig,
  validateTraining,
} from './optim.js';
import { type Aux, checkSeqLen, isState, ropeCache, type StepResult, type TrainState, zerosLike } from './trainer.js';
import type { LlamaWeights } from './weights.js';

export interface Pretrainer {
  step(batch: TokenBatch): Promise<StepResult>;
  weights(): Promise<LlamaWeights>;
  state(): Promise<TrainState<LlamaWeights>>;
  dispose(): void;
}

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
  validateTraining(optimizer, schedule);
  const start = isState(options.from) ? options.from : undefined;
  let params = baseParamsToDevice(start ? start.weights : (options.from as LlamaWeights));
  let m = start ? baseParamsToDevice(start.m) : zerosLike(params);
  let v = start ? baseParamsToDevice(start.v) : zerosLike(params);
  let t = start?.step ?? 0;
  const rope = ropeCache(cfg);
  // The embedding lookup stays outside the differentiated function (gathers do not jit): grads are taken
  // w.r.t. the embedded inputs x0 and dEmbed = onehotᵀ·dx0 is formed here. dx0 is also reduced into the loss
  // output (times 0) so the fuser materialises it instead of inlining layer 0's backward into that matmul.
  const lossFn = (p: BaseParams, x0: np.Array, targets: np.Array, mask: np.Array, cos: np.Array, sin: np.Array) => {
    const logits = forward(cfg, p, null, 0, x0, { cos, sin });
    const r = causalLmLossSurrogate(logits, oneHot(targets, cfg.vocabSize), mask);
    return [r.objective, { loss: r.loss, d: r.dlogitsSum }] as [np.Array, Aux];
  };
  const jitted = jit(
    (
      p: BaseParams,
      m0: BaseParams,
      v0: BaseParams,
      ids: np.Array,
      targets: np.Array,
      mask: np.Array,
      cos: np.Array,
      sin: np.Array,
      lr: np.Array,
      c1: np.Array,
      c2: np.Array,
    ) => {
      const [B, T] = ids.shape as [number, number];
      const oh = oneHot(ids, cfg.vocabSize).reshape([B * T, cfg.vocabSize]);
      const x0 = np.matmul(oh.ref, p.embed.ref).reshape([B, T, cfg.dim]);
      const [[objective, aux], [g, gx0]] = valueAndGrad(lossFn, { argnums: [0, 1], hasAux: true })(
        tree.ref(p),
        x0,
        targets,
        mask,
        cos,
        sin,
      );
      objective.dispose();
      const gx = gx0.reshape([B * T, cfg.dim]);
      g.embed = g.embed.add(np.matmul(oh.transpose(), gx.ref));
      const loss = aux.loss.add(aux.d.mul(0)).add(np.sum(gx).mul(0));
      const [pl, def] = tree.flatten(p);
      const r = adamwUpdate(optimizer, pl, tree.leaves(g), tree.leaves(m0), tree.leaves(v0), lr, c1, c2);
      return {
        p: tree.unflatten(def, r.params) as BaseParams,
        m: tree.unflatten(def, r.m) as BaseParams,
        v: tree.unflatten(def, r.v) as BaseParams,
        loss,
        gradNorm: r.gradNorm,
      };
    },
  );
  return {
    async step(batch) {
      checkBatch(batch, cfg.vocabSize);
      checkSeqLen(cfg, batch);
      const lr = learningRate(optimizer.lr, schedule, t);
      t += 1;
      const [c1, c2] = biasCorrections(optimizer, t);
      const b = batchToDevice(batch);
      const r = rope(batch.seqLen);
      const out = jitted(
        params,
        m,
        v,
        b.inputs,
        b.targets,
        b.mask,
        r.cos,
        r.sin,
        np.array(lr),
        np.array(c1),
        np.array(c2),
      );
      params = out.p;
      m = out.m;
      v = out.v;
      const loss = (await out.loss.data())[0]!;
      const gradNorm = (await out.gradNorm.data())[0]!;
      return { step: t, loss, gradNorm, lr };
    },
    weights: () => baseParamsToHost(cfg, params),
    state: async () => ({
      step: t,
      weights: await baseParamsToHost(cfg, params),
      m: await baseParamsToHost(cfg, m),
      v: await baseParamsToHost(cfg, v),
    }),
    dispose() {
      tree.dispose(params);
      tree.dispose(m);
      tree.dispose(v);
      jitted.dispose();
    },
  };
}
