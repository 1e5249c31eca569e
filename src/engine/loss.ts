/** Causal-LM losses on logits `[B, T, vocab]` with a token mask `[B, T]` (1 = the token counts). */
import './jax-preload.js';
import { lax, nn, numpy as np } from '@jax-js/jax';

/** One-hot `[..., n]` by comparison with arange: works under jit, where a gather does not. */
export function oneHot(ids: np.Array, n: number): np.Array {
  const shape = ids.shape;
  const classes = np.arange(n, undefined, undefined, { dtype: np.int32 }).reshape([...shape.map(() => 1), n]);
  return ids
    .reshape([...shape, 1])
    .equal(classes)
    .astype(np.float32);
}

/** Mean next-token cross-entropy over the masked tokens (the plain formula; the reference in tests). */
export function causalLmLoss(logits: np.Array, targets: np.Array, mask: np.Array): np.Array {
  const nll = np.sum(nn.logSoftmax(logits, -1).mul(targets), -1).neg();
  return np.sum(nll.mul(mask.ref)).div(np.sum(mask).add(1e-9));
}

/** `[B]` each example's mean next-token cross-entropy over its masked tokens (0 for an example with none). */
export function causalLmLossPerExample(logits: np.Array, targets: np.Array, mask: np.Array): np.Array {
  const nll = np.sum(nn.logSoftmax(logits, -1).mul(targets), -1).neg();
  return np.sum(nll.mul(mask.ref), -1).div(np.sum(mask, -1).add(1e-9));
}

export interface SurrogateLoss {
  /** Differentiate this: its value is the loss, its gradient w.r.t. the logits is the closed-form one. */
  objective: np.Array;
  /** The loss value (no gradient). */
  loss: np.Array;
  /** Σ dLoss/dLogits: callers must keep it alive as an output (see below). */
  dlogitsSum: np.Array;
  /** `[B]` each example's mean loss (only with `perExample`). */
  exampleLosses?: np.Array;
}

/**
 * The same loss as `causalLmLoss`, differentiated through a surrogate: with D = dLoss/dLogits in closed form
 * ((softmax − onehot) · mask / n), objective = sg(loss) + Σ logits·sg(D) − sg(Σ logits·sg(D)).
 * Why: autodiff of logSoftmax lets jax-js's fuser inline the softmax expression into the backward matmuls,
 * producing one generic untiled kernel that took ~2.5 s per step. Reducing D a second time (`dlogitsSum`,
 * which the caller must return from its jitted function) forces D to be materialised, so the backward
 * matmuls use the fast tiled kernels.
 * `perExample`: the objective is the sum over examples of each example's mean loss, so the gradient w.r.t. a
 * per-example copy of a parameter is that example's own gradient.
 */
export function causalLmLossSurrogate(
  logits: np.Array,
  targets: np.Array,
  mask: np.Array,
  perExample = false,
): SurrogateLoss {
  const lz = lax.stopGradient(logits.ref);
  const lse = nn.logsumexp(lz.ref, -1, { keepdims: true });
  const picked = np.sum(lz.ref.mul(targets.ref), -1, { keepdims: true });
  const m = mask.reshape([...mask.shape, 1]);
  const n = perExample ? np.sum(m.ref, [1, 2], { keepdims: true }).add(1e-9) : np.sum(m.ref).add(1e-9);
  const tokenLoss = lse.ref.sub(picked).mul(m.ref).div(n.ref);
  const exampleLosses = perExample ? np.sum(tokenLoss.ref, [1, 2]) : undefined;
  const loss = np.sum(tokenLoss);
  const d = lax.stopGradient(np.exp(lz.sub(lse)).sub(targets).mul(m).div(n));
  const surrogate = np.sum(logits.mul(d.ref));
  const objective = surrogate.ref.sub(lax.stopGradient(surrogate)).add(loss.ref);
  return { objective, loss, dlogitsSum: np.sum(d), ...(exampleLosses ? { exampleLosses } : {}) };
}
