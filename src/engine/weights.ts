/**
 * Host-side weights: plain Float32Arrays that other folders, the file formats and checkpoints can hold without
 * touching the autograd backend. Orientation is the engine's: linear weights `[in, out]`.
 */
import { BaseError } from '../core/index.js';
import {
  type LlamaConfig,
  type LoraConfig,
  type LoraTarget,
  loraTargets,
  projectionShapes,
  validateLlamaConfig,
  validateLoraConfig,
} from './config.js';
import { Rng } from './rng.js';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface LayerWeights {
  attnNorm: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  o: Tensor;
  ffnNorm: Tensor;
  gate: Tensor;
  up: Tensor;
  down: Tensor;
  /** q/k/v biases `[out]` (qwen2); absent for llama. */
  qBias?: Tensor;
  kBias?: Tensor;
  vBias?: Tensor;
}

export interface LlamaWeights {
  config: LlamaConfig;
  /** `[vocab, dim]` */
  embed: Tensor;
  layers: LayerWeights[];
  finalNorm: Tensor;
  /** `[dim, vocab]`; absent when the embedding is tied. */
  output?: Tensor;
}

export interface LoraPairWeights {
  /** `[in, rank]` */
  a: Tensor;
  /** `[rank, out]` */
  b: Tensor;
}

export interface LoraWeights {
  config: LoraConfig;
  layers: Partial<Record<LoraTarget, LoraPairWeights>>[];
}

export function tensor(shape: number[], data?: Float32Array): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data && data.length !== n) {
    throw new BaseError('INVALID_ARGUMENT', `Tensor data has ${data.length} values but shape needs ${n}`, {
      details: { shape, length: data.length },
    });
  }
  return { shape, data: data ?? new Float32Array(n) };
}

/**
 * GPT-2 style init: N(0, 0.02), residual projections (o, down) scaled by 1/sqrt(2·layers) so the residual
 * stream's variance does not grow with depth; norms start at 1. A `qwen2` config gets q/k/v biases.
 */
export function initLlamaWeights(config: LlamaConfig, seed: number): LlamaWeights {
  validateLlamaConfig(config);
  const rng = new Rng(seed);
  const s = projectionShapes(config);
  const std = 0.02;
  const residualStd = 0.02 / Math.sqrt(2 * config.nLayers);
  const ones = () => tensor([config.dim], new Float32Array(config.dim).fill(1));
  const lin = (t: LoraTarget, sd: number) => tensor(s[t], rng.normalArray(s[t][0] * s[t][1], sd));
  const embed = tensor([config.vocabSize, config.dim], rng.normalArray(config.vocabSize * config.dim, std));
  const layers: LayerWeights[] = [];
  for (let i = 0; i < config.nLayers; i++) {
    layers.push({
      attnNorm: ones(),
      q: lin('q', std),
      k: lin('k', std),
      v: lin('v', std),
      o: lin('o', residualStd),
      ffnNorm: ones(),
      gate: lin('gate', std),
      up: lin('up', std),
      down: lin('down', residualStd),
      // qwen2's projections carry biases; random ones (not zeros) so that a layout test sees them used.
      ...(config.architecture === 'qwen2'
        ? {
            qBias: tensor([s.q[1]], rng.normalArray(s.q[1], 0.1)),
            kBias: tensor([s.k[1]], rng.normalArray(s.k[1], 0.1)),
            vBias: tensor([s.v[1]], rng.normalArray(s.v[1], 0.1)),
          }
        : {}),
    });
  }
  const weights: LlamaWeights = { config, embed, layers, finalNorm: ones() };
  if (!config.tieEmbeddings) {
    weights.output = tensor([config.dim, config.vocabSize], rng.normalArray(config.dim * config.vocabSize, std));
  }
  return weights;
}

/**
 * Standard LoRA init: A ~ N(0, 1/in), B = 0, so a fresh adapter leaves the base model unchanged.
 * `bStd > 0` makes B random too (tests use it to get an adapter that changes the logits without training).
 */
export function initLoraWeights(model: LlamaConfig, config: LoraConfig, seed: number, bStd = 0): LoraWeights {
  validateLoraConfig(config);
  const rng = new Rng(seed);
  const s = projectionShapes(model);
  const layers: Partial<Record<LoraTarget, LoraPairWeights>>[] = [];
  for (let i = 0; i < model.nLayers; i++) {
    const rec: Partial<Record<LoraTarget, LoraPairWeights>> = {};
    for (const t of loraTargets) {
      if (!config.targets.includes(t)) continue;
      const [din, dout] = s[t];
      rec[t] = {
        a: tensor([din, config.rank], rng.normalArray(din * config.rank, 1 / Math.sqrt(din))),
        b: tensor([config.rank, dout], bStd > 0 ? rng.normalArray(config.rank * dout, bStd) : undefined),
      };
    }
    layers.push(rec);
  }
  return { config, layers };
}

/** Every tensor of a model in a fixed order with a stable name (checkpoints and hashes rely on the order). */
export function namedLlamaTensors(w: LlamaWeights): [string, Tensor][] {
  const out: [string, Tensor][] = [['embed', w.embed]];
  w.layers.forEach((l, i) => {
    for (const k of ['attnNorm', 'q', 'k', 'v', 'o', 'ffnNorm', 'gate', 'up', 'down'] as const) {
      out.push([`layers.${i}.${k}`, l[k]]);
    }
  });
  out.push(['finalNorm', w.finalNorm]);
  if (w.output) out.push(['output', w.output]);
  return out;
}

export function namedLoraTensors(w: LoraWeights): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  w.layers.forEach((rec, i) => {
    for (const t of loraTargets) {
      const p = rec[t];
      if (!p) continue;
      out.push([`layers.${i}.${t}.a`, p.a], [`layers.${i}.${t}.b`, p.b]);
    }
  });
  return out;
}
