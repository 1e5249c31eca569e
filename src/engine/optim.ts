/** AdamW with global-norm gradient clipping, and the warmup + cosine learning-rate schedule. */
import './jax-preload.js';
import { type JsTree, numpy as np, tree } from '@jax-js/jax';
import { BaseError } from '../core/index.js';
import { at } from './checked.js';

export interface AdamWConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Gradients are scaled so their global L2 norm is at most this (0 = no clipping). */
  clipNorm: number;
}

export const defaultAdamW: AdamWConfig = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, clipNorm: 1 };

export interface ScheduleConfig {
  warmupSteps: number;
  totalSteps: number;
  /** The learning rate at the end of the cosine, as a fraction of the peak. */
  minLrRatio: number;
}

/** Linear warmup from lr/warmup to lr over `warmupSteps`, then cosine down to `minLrRatio · lr` at totalSteps. */
export function learningRate(peak: number, s: ScheduleConfig, step: number): number {
  if (step < s.warmupSteps) return (peak * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / span);
  const min = peak * s.minLrRatio;
  return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
}

export function validateTraining(opt: AdamWConfig, s: ScheduleConfig): void {
  const bad = (field: string, value: number, why: string) =>
    new BaseError('INVALID_ARGUMENT', `${field} ${why}`, { details: { field, value } });
  if (!(opt.lr > 0 && opt.lr < 1)) throw bad('lr', opt.lr, 'must be in (0, 1)');
  if (!(opt.beta1 >= 0 && opt.beta1 < 1)) throw bad('beta1', opt.beta1, 'must be in [0, 1)');
  if (!(opt.beta2 >= 0 && opt.beta2 < 1)) throw bad('beta2', opt.beta2, 'must be in [0, 1)');
  if (!(opt.weightDecay >= 0)) throw bad('weightDecay', opt.weightDecay, 'must be ≥ 0');
  if (!(opt.clipNorm >= 0)) throw bad('clipNorm', opt.clipNorm, 'must be ≥ 0');
  if (!Number.isInteger(s.totalSteps) || s.totalSteps <= 0) throw bad('totalSteps', s.totalSteps, 'must be > 0');
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0 || s.warmupSteps > s.totalSteps) {
    throw bad('warmupSteps', s.warmupSteps, 'must be in [0, totalSteps]');
  }
  if (!(s.minLrRatio >= 0 && s.minLrRatio <= 1)) throw bad('minLrRatio', s.minLrRatio, 'must be in [0, 1]');
}

export interface AdamWResult {
  params: np.Array[];
  m: np.Array[];
  v: np.Array[];
  gradNorm: np.Array;
}

/**
 * One AdamW update on flat leaf lists (consumes every input). `lr`, `c1`, `c2` (bias corrections
 * 1/(1−β₁ᵗ), 1/(1−β₂ᵗ)) are arrays so one jitted step serves every step number.
 */
export function adamwUpdate(
  cfg: AdamWConfig,
  params: np.Array[],
  grads: np.Array[],
  m: np.Array[],
  v: np.Array[],
  lr: np.Array,
  c1: np.Array,
  c2: np.Array,
): AdamWResult {
  let sq: np.Array | undefined;
  for (const g of grads) {
    const s = np.sum(np.square(g.ref));
    sq = sq ? sq.add(s) : s;
  }
  const gradNorm = np.sqrt(sq ?? np.zeros([]));
  const clip = cfg.clipNorm > 0 ? np.minimum(1, np.reciprocal(gradNorm.ref.add(1e-6)).mul(cfg.clipNorm)) : np.ones([]);
  const out: AdamWResult = { params: [], m: [], v: [], gradNorm };
  for (const [i, param] of params.entries()) {
    const g = at(grads, i).mul(clip.ref);
    const mi = at(m, i)
      .mul(cfg.beta1)
      .add(g.ref.mul(1 - cfg.beta1));
    const vi = at(v, i)
      .mul(cfg.beta2)
      .add(np.square(g).mul(1 - cfg.beta2));
    const update = mi.ref.mul(c1.ref).div(np.sqrt(vi.ref.mul(c2.ref)).add(cfg.eps));
    let p = param;
    if (cfg.weightDecay > 0) p = p.ref.sub(p.mul(lr.ref).mul(cfg.weightDecay));
    out.params.push(p.sub(update.mul(lr.ref)));
    out.m.push(mi);
    out.v.push(vi);
  }
  clip.dispose();
  lr.dispose();
  c1.dispose();
  c2.dispose();
  return out;
}

/** The per-step scalars of an AdamW update: learning rate and bias corrections (see `adamwUpdate`). */
export type AdamWScalars = { lr: np.Array; c1: np.Array; c2: np.Array };

/** `adamwUpdate` on trees: parameters, gradients and moments shaped alike (consumes every input). */
export function adamwTreeUpdate<P extends JsTree<np.Array>>(
  cfg: AdamWConfig,
  p: P,
  g: P,
  m: P,
  v: P,
  s: AdamWScalars,
): { p: P; m: P; v: P; gradNorm: np.Array } {
  const r = adamwUpdate(cfg, tree.leaves(p), tree.leaves(g), tree.leaves(m), tree.leaves(v), s.lr, s.c1, s.c2);
  // tree.map visits leaves in tree.leaves order, so leaf i of the result is the i-th updated array.
  const shaped = (leaves: np.Array[]): P => {
    let i = 0;
    return tree.map((_: np.Array) => at(leaves, i++), p);
  };
  return { p: shaped(r.params), m: shaped(r.m), v: shaped(r.v), gradNorm: r.gradNorm };
}

export function biasCorrections(cfg: AdamWConfig, t: number): [number, number] {
  return [1 / (1 - cfg.beta1 ** t), 1 / (1 - cfg.beta2 ** t)];
}
