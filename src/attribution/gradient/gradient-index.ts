/**
 * Gradient influence for LoRA fine-tunes (TRAK / LoGra-style): each training example's per-example gradient of the
 * adapter parameters is projected to k dims by a seeded sparse random map and kept, with the Cholesky factor of the
 * damped curvature C = GᵀG/n + λI of those features (a Gauss–Newton / empirical-Fisher approximation in the
 * projected space). Attributing a query then costs one per-example gradient (one backward pass), its projection,
 * two triangular solves (k²) and n dot products (n·k): milliseconds after the backward pass, never a pass over the
 * training data.
 *
 *   gradient influence  I(z, q) = g_qᵀ C⁻¹ g_z   (≈ how much upweighting z lowers the query's loss)
 *   TracIn (comparison) T(z, q) = g_qᵀ g_z       (one checkpoint, no curvature)
 *
 * Positive means helpful (training on z lowered the query's loss); only positive influence earns.
 */
import { createHash } from 'node:crypto';
import { BaseError } from '../../core/index.js';
import {
  createPerExampleGradients,
  type LlamaWeights,
  type LoraWeights,
  namedLlamaTensors,
  namedLoraTensors,
  type PerExampleGradientEngine,
  type Tensor,
  type TokenBatch,
} from '../../engine/index.js';
import { GRADIENT_INDEX_VERSION, type GradientIndexHeader } from '../../protocol/index.js';
import { cholesky, choleskySolve, rowDots, secondMoment } from './linalg.js';
import { createProjection, type Projection, project } from './projection.js';

export { GRADIENT_INDEX_VERSION };

/** A token sequence and which of its tokens count in the loss (factory's TrainingExample convention). */
export interface GradientSequence {
  /** Token ids of the whole sequence (prompt and response). */
  tokens: ArrayLike<number>;
  /** Per token: 1 if predicting it counts in the loss (weights[0] is ignored). Default: every token. */
  weights?: ArrayLike<number>;
}

export interface GradientExample extends GradientSequence {
  /** Contribution id. */
  id: string;
  contributor: string;
}

/** The model gradients are taken of; `tokenizer` is its tokenizer's identity (e.g. a hash of the vocabulary). */
export interface GradientModel {
  base: LlamaWeights;
  adapter: LoraWeights;
  tokenizer: string;
}

/** The identity of the model an index was built for: sha-256 of base and adapter weights, tokenizer identity. */
export type GradientIndexModel = GradientIndexHeader['model'];

/** An index: its header (the protocol's `gradientIndexHeader`: model, projection, damping, λ, examples) and arrays. */
export interface GradientIndex extends GradientIndexHeader {
  /** `[n, k]` projected per-example gradients, row-major. */
  features: Float32Array;
  /** `[k, k]` lower-triangular Cholesky factor of GᵀG/n + λI, row-major. */
  cholesky: Float64Array;
}

/**
 * The settings every gradient index is built with unless told otherwise: the factory's fine-tunes get these, and the
 * attribution-quality bench imports them, so what it measures is what is paid. k = 512 projected dims (a sparse JL map
 * with 4 nonzeros per coordinate), 8 examples per backward pass, damping λ = 10 × the curvature's mean eigenvalue.
 * Why 10: with fewer examples than dims the curvature is low-rank, and a small λ inverts its noisiest directions;
 * a large one keeps TracIn's geometry but discounts the few directions every example shares (the template, the
 * period). Measured on the bench's LDS pool (docs/attribution.md): signed LDS 0.46 at λ-ratio 0.1, 0.52 at 1,
 * 0.58 at 10, 0.57 at 30, 0.52 at 100, TracIn 0.48 — and on a second pool drawn from another seed.
 */
export const gradientIndexSettings = {
  projectionDim: 512,
  damping: 10,
  nonzeros: 4,
  batchSize: 8,
} as const;

export interface BuildGradientIndexInput {
  model: GradientModel;
  examples: readonly GradientExample[];
  /** k, a multiple of `nonzeros`; default: `gradientIndexSettings`. */
  projectionDim?: number;
  /** Seeds the projection; default 0. */
  seed?: number;
  /** Relative damping λ / mean eigenvalue; default: `gradientIndexSettings`. */
  damping?: number;
  /** Nonzeros per input coordinate of the sparse projection; default: `gradientIndexSettings`. */
  nonzeros?: number;
  /** Examples per backward pass; default: `gradientIndexSettings`. */
  batchSize?: number;
}

function hashTensors(h: ReturnType<typeof createHash>, tensors: [string, Tensor][]): void {
  for (const [name, t] of tensors) {
    h.update(`${name}:${t.shape.join('x')};`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
}

/** The identity of a model as the index records it. */
export function gradientModelIdentity(model: GradientModel): GradientIndexModel {
  const hb = createHash('sha256');
  hb.update(JSON.stringify(model.base.config));
  hashTensors(hb, namedLlamaTensors(model.base));
  const ha = createHash('sha256');
  const c = model.adapter.config;
  ha.update(JSON.stringify({ rank: c.rank, alpha: c.alpha, targets: [...c.targets] }));
  hashTensors(ha, namedLoraTensors(model.adapter));
  return { base: `0x${hb.digest('hex')}`, adapter: `0x${ha.digest('hex')}`, tokenizer: model.tokenizer };
}

/** Token rows padded to a multiple of 16 (few distinct shapes, so few compilations); padding carries no loss. */
function toBatch(seqs: readonly GradientSequence[], batchSize: number, contextLength: number): TokenBatch {
  const longest = Math.max(2, ...seqs.map((s) => s.tokens.length));
  const seqLen = Math.min(contextLength, Math.ceil((longest - 1) / 16) * 16);
  const n = batchSize * seqLen;
  const inputs = new Int32Array(n);
  const targets = new Int32Array(n);
  const mask = new Float32Array(n);
  seqs.forEach((s, b) => {
    if (s.weights && s.weights.length !== s.tokens.length) {
      throw new BaseError('INVALID_ARGUMENT', 'A sequence has a different number of weights than tokens', {
        details: { tokens: s.tokens.length, weights: s.weights.length },
      });
    }
    const len = Math.min(s.tokens.length, seqLen + 1);
    for (let t = 0; t + 1 < len; t++) {
      inputs[b * seqLen + t] = s.tokens[t]!;
      targets[b * seqLen + t] = s.tokens[t + 1]!;
      mask[b * seqLen + t] = s.weights ? s.weights[t + 1]! : 1;
    }
  });
  return { batchSize, seqLen, inputs, targets, mask };
}

/** Projected per-example gradients of `seqs` (in order), `batchSize` at a time. */
async function projectedGradients(
  engine: PerExampleGradientEngine,
  contextLength: number,
  seqs: readonly GradientSequence[],
  projectionFor: (dim: number) => Projection,
  batchSize: number,
): Promise<{ features: Float32Array[]; losses: Float32Array; gradientDim: number }> {
  const features: Float32Array[] = [];
  const losses = new Float32Array(seqs.length);
  let gradientDim = 0;
  // Every batch has the same number of rows (the last one padded with loss-free rows): one compiled shape.
  const rows = Math.min(batchSize, seqs.length);
  for (let start = 0; start < seqs.length; start += batchSize) {
    const chunk = seqs.slice(start, start + batchSize);
    const grads = await engine.compute(toBatch(chunk, rows, contextLength));
    for (let i = 0; i < chunk.length; i++) {
      const g = engine.flatten(grads, i);
      gradientDim = g.length;
      features.push(project(projectionFor(g.length), g));
      losses[start + i] = grads.losses[i]!;
    }
  }
  return { features, losses, gradientDim };
}

function checkSettings(k: number, damping: number, batchSize: number): void {
  if (!Number.isInteger(k) || k < 1 || k > 8192) {
    throw new BaseError('INVALID_ARGUMENT', 'projectionDim must be an integer in [1, 8192]', {
      details: { field: 'projectionDim', value: k },
    });
  }
  if (!(damping > 0) || !Number.isFinite(damping)) {
    throw new BaseError('INVALID_ARGUMENT', 'damping must be a positive number', {
      details: { field: 'damping', value: damping },
    });
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new BaseError('INVALID_ARGUMENT', 'batchSize must be a positive integer', {
      details: { field: 'batchSize', value: batchSize },
    });
  }
}

/** Builds the index from features already computed (the curvature, its factor and λ). */
export function gradientIndexFromFeatures(input: {
  model: GradientIndexModel;
  gradientDim: number;
  projection: GradientIndex['projection'];
  damping: number;
  examples: { id: string; contributor: string }[];
  features: Float32Array;
}): GradientIndex {
  const n = input.examples.length;
  const k = input.projection.dim;
  if (input.features.length !== n * k) {
    throw new BaseError('INVALID_ARGUMENT', 'Feature matrix does not match examples × projectionDim', {
      details: { features: input.features.length, examples: n, projectionDim: k },
    });
  }
  const c = secondMoment(input.features, n, k);
  let trace = 0;
  for (let a = 0; a < k; a++) trace += c[a * k + a]!;
  // A model whose gradients all vanish still gets a well-posed (identity-like) curvature.
  const lambda = input.damping * (trace > 0 ? trace / k : 1);
  for (let a = 0; a < k; a++) c[a * k + a]! += lambda;
  return {
    version: GRADIENT_INDEX_VERSION,
    model: input.model,
    gradientDim: input.gradientDim,
    projection: input.projection,
    damping: input.damping,
    lambda,
    examples: input.examples,
    features: input.features,
    cholesky: cholesky(c, k),
  };
}

/** Per-example gradients of every example through the engine, projected, with the factorized damped curvature. */
export async function buildGradientIndex(input: BuildGradientIndexInput): Promise<GradientIndex> {
  const k = input.projectionDim ?? gradientIndexSettings.projectionDim;
  const seed = input.seed ?? 0;
  const damping = input.damping ?? gradientIndexSettings.damping;
  const nonzeros = input.nonzeros ?? gradientIndexSettings.nonzeros;
  const batchSize = input.batchSize ?? gradientIndexSettings.batchSize;
  checkSettings(k, damping, batchSize);
  if (input.examples.length === 0) {
    throw new BaseError('INVALID_ARGUMENT', 'A gradient index needs at least one example', {
      details: { field: 'examples' },
    });
  }
  let projection: Projection | undefined;
  const projectionFor = (dim: number) => {
    projection ??= createProjection({ inputDim: dim, outputDim: k, seed, nonzeros });
    return projection;
  };
  const engine = createPerExampleGradients(input.model.base, input.model.adapter);
  let computed: Awaited<ReturnType<typeof projectedGradients>>;
  try {
    computed = await projectedGradients(
      engine,
      input.model.base.config.contextLength,
      input.examples,
      projectionFor,
      batchSize,
    );
  } finally {
    engine.dispose();
  }
  const { features, gradientDim } = computed;
  const flat = new Float32Array(features.length * k);
  features.forEach((f, i) => {
    flat.set(f, i * k);
  });
  return gradientIndexFromFeatures({
    model: gradientModelIdentity(input.model),
    gradientDim,
    projection: { dim: k, seed, nonzeros },
    damping,
    examples: input.examples.map((e) => ({ id: e.id, contributor: e.contributor })),
    features: flat,
  });
}

function checkFeature(index: GradientIndex, feature: ArrayLike<number>): void {
  if (feature.length !== index.projection.dim) {
    throw new BaseError(
      'INVALID_ARGUMENT',
      `A query feature has ${feature.length} dims; the index projects to ${index.projection.dim}`,
      { details: { length: feature.length, projectionDim: index.projection.dim } },
    );
  }
}

/** g_qᵀ C⁻¹ g_z for every example z: two triangular solves and n dot products. Positive = helpful. */
export function gradientInfluence(index: GradientIndex, queryFeature: ArrayLike<number>): Float64Array {
  checkFeature(index, queryFeature);
  const k = index.projection.dim;
  const x = choleskySolve(index.cholesky, k, queryFeature);
  return rowDots(index.features, index.examples.length, k, x);
}

/** TracIn with one checkpoint: g_qᵀ g_z (no curvature). Positive = helpful. */
export function tracinInfluence(index: GradientIndex, queryFeature: ArrayLike<number>): Float64Array {
  checkFeature(index, queryFeature);
  return rowDots(index.features, index.examples.length, index.projection.dim, queryFeature);
}

/** Per contributor, the sum of their examples' positive scores (only positive influence earns), highest first. */
export function positiveInfluenceByContributor(
  index: Pick<GradientIndex, 'examples'>,
  scores: ArrayLike<number>,
): { contributor: string; score: number }[] {
  const sums = new Map<string, number>();
  index.examples.forEach((e, i) => {
    const s = scores[i]!;
    if (s > 0) sums.set(e.contributor, (sums.get(e.contributor) ?? 0) + s);
  });
  return [...sums.entries()]
    .map(([contributor, score]) => ({ contributor, score }))
    .sort((a, b) => b.score - a.score || (a.contributor < b.contributor ? -1 : a.contributor > b.contributor ? 1 : 0));
}

export interface InfluenceScorer {
  /** Projected gradients of query sequences (prompt + output, loss on the output): one backward pass per batch. */
  queryFeatures(queries: readonly GradientSequence[]): Promise<Float32Array[]>;
  /** Damped-curvature influence of every indexed example on each query. */
  gradient(queries: readonly GradientSequence[]): Promise<Float64Array[]>;
  /** TracIn scores of every indexed example on each query. */
  tracin(queries: readonly GradientSequence[]): Promise<Float64Array[]>;
  /** Releases the engine's device buffers. */
  dispose(): void;
}

/** Scores queries against `index` with `model`, refusing a model or tokenizer other than the index's. */
export function createInfluenceScorer(
  index: GradientIndex,
  model: GradientModel,
  options: { batchSize?: number } = {},
): InfluenceScorer {
  const id = gradientModelIdentity(model);
  if (id.tokenizer !== index.model.tokenizer) {
    throw new BaseError('INDEX_INVALID', 'The gradient index was built with another tokenizer', {
      details: { expected: index.model.tokenizer, found: id.tokenizer },
    });
  }
  for (const part of ['base', 'adapter'] as const) {
    if (id[part] !== index.model[part]) {
      throw new BaseError('INDEX_INVALID', `The gradient index was built for another ${part} model`, {
        details: { expected: index.model[part], found: id[part] },
      });
    }
  }
  const batchSize = options.batchSize ?? gradientIndexSettings.batchSize;
  let projection: Projection | undefined;
  const projectionFor = (dim: number) => {
    if (dim !== index.gradientDim) {
      throw new BaseError('INDEX_INVALID', 'The model gradient does not match the index', {
        details: { expected: index.gradientDim, found: dim },
      });
    }
    projection ??= createProjection({
      inputDim: dim,
      outputDim: index.projection.dim,
      seed: index.projection.seed,
      nonzeros: index.projection.nonzeros,
    });
    return projection;
  };
  let engine: PerExampleGradientEngine | undefined;
  const queryFeatures = async (queries: readonly GradientSequence[]) => {
    if (queries.length === 0) return [];
    engine ??= createPerExampleGradients(model.base, model.adapter);
    return (await projectedGradients(engine, model.base.config.contextLength, queries, projectionFor, batchSize))
      .features;
  };
  return {
    dispose() {
      engine?.dispose();
      engine = undefined;
    },
    queryFeatures,
    gradient: async (queries) => (await queryFeatures(queries)).map((f) => gradientInfluence(index, f)),
    tracin: async (queries) => (await queryFeatures(queries)).map((f) => tracinInfluence(index, f)),
  };
}
